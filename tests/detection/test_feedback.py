"""Reviewers' decisions merged into labels: history kept, latest wins, clear errors by row."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from common.errors import UserError
from detection.feedback import LOG, merge_feedback
from features.io.load import load_dataset

AS_OF = datetime(2024, 3, 1, tzinfo=UTC)
HEADER = "account_id,decision,decided_at,reviewer,note\n"


def data_folder(tmp_path: Path, labels: str | None = "parquet") -> Path:
    """Three accounts; an earlier label for a1 in the given format (or no labels table)."""
    folder = tmp_path / "data"
    folder.mkdir()
    pl.DataFrame(
        {
            "account_id": ["a1", "a2", "a3"],
            "created_at": [datetime(2024, 1, 1, tzinfo=UTC)] * 3,
        }
    ).write_parquet(folder / "accounts.parquet")
    old = pl.DataFrame(
        {
            "account_id": ["a1"],
            "label": pl.Series([1], dtype=pl.Int8),
            "labelled_at": [datetime(2024, 1, 10, tzinfo=UTC)],
            "reason": ["fraud"],
        }
    )
    if labels == "parquet":
        old.write_parquet(folder / "labels.parquet")
    elif labels == "csv":
        old.write_csv(folder / "labels.csv")
    elif labels == "parts":
        (folder / "labels").mkdir()
        old.write_parquet(folder / "labels" / "part-0.parquet")
    return folder


def decisions(tmp_path: Path, rows: str, name: str = "decisions.csv") -> Path:
    """A decisions CSV with the standard header."""
    path = tmp_path / name
    path.write_text(HEADER + rows)
    return path


ROWS = (
    "a1,cleared,2024-02-01 10:00,ann,appeal accepted\n"
    "a2,closed,2024-02-02T09:30:00Z,bob,card testing\n"
    "a3,escalated,2024-02-03,ann,needs legal\n"
)


@pytest.mark.parametrize("form", ["parquet", "csv", "parts", None])
def test_decisions_become_labels_and_the_latest_label_wins(tmp_path: Path, form) -> None:
    folder = data_folder(tmp_path, form)
    result = merge_feedback(decisions(tmp_path, ROWS), folder)
    assert (result.labels_added, result.escalated, result.skipped) == (2, 1, 0)
    labels = load_dataset(folder, AS_OF).labels
    latest = dict(zip(labels["account_id"], labels["label"], strict=True))
    assert latest == {"a1": 0, "a2": 1}  # a1's later "cleared" supersedes its earlier label 1
    assert labels.filter(pl.col("account_id") == "a2")["labelled_at"][0] == datetime(
        2024, 2, 2, 9, 30, tzinfo=UTC
    )
    log = pl.read_parquet(folder / LOG)
    assert log["decision"].to_list() == ["cleared", "closed", "escalated"]
    assert log["note"][2] == "needs legal"


def test_history_is_kept_in_the_labels_table(tmp_path: Path) -> None:
    folder = data_folder(tmp_path)
    merge_feedback(decisions(tmp_path, ROWS), folder)
    raw = pl.read_parquet(folder / "labels.parquet").sort("labelled_at")
    a1 = raw.filter(pl.col("account_id") == "a1")
    assert a1["label"].to_list() == [1, 0]  # the earlier label is still there
    assert a1["source"].to_list() == [None, "review"]
    assert a1["reviewer"].to_list() == [None, "ann"]


def test_merging_the_same_file_twice_adds_nothing(tmp_path: Path) -> None:
    folder = data_folder(tmp_path)
    path = decisions(tmp_path, ROWS)
    merge_feedback(path, folder)
    again = merge_feedback(path, folder)
    assert (again.labels_added, again.escalated, again.skipped) == (0, 0, 3)
    assert pl.read_parquet(folder / "labels.parquet").height == 3


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (
            "a1,closed,2024-02-01,ann,\nzz9,closed,2024-02-01,ann,\n",
            r"row 3 \(account_id 'zz9'\): account is not in the accounts table",
        ),
        (
            "a1,banned,2024-02-01,ann,\n",
            r"row 2 \(account_id 'a1'\): decision 'banned' is not one of closed, cleared",
        ),
        (
            "a1,closed,2024-02-01,ann,\na2,closed,yesterday,bob,\n",
            r"row 3: decided_at 'yesterday' is not an ISO 8601 time",
        ),
        ("a1,closed,,ann,\n", r"row 2 \(account_id None\): decided_at is empty"),
    ],
)
def test_bad_rows_are_named(tmp_path: Path, rows: str, message: str) -> None:
    folder = data_folder(tmp_path)
    before = (folder / "labels.parquet").read_bytes()
    with pytest.raises(UserError, match=message):
        merge_feedback(decisions(tmp_path, rows), folder)
    assert (folder / "labels.parquet").read_bytes() == before  # nothing written
    assert not (folder / LOG).exists()


def test_missing_column_and_missing_files(tmp_path: Path) -> None:
    folder = data_folder(tmp_path)
    path = tmp_path / "d.csv"
    path.write_text("account_id,decided_at\na1,2024-02-01\n")
    with pytest.raises(UserError, match="column 'decision': required column is missing"):
        merge_feedback(path, folder)
    with pytest.raises(UserError, match="no such decisions file"):
        merge_feedback(tmp_path / "nope.csv", folder)
    with pytest.raises(UserError, match="not a data folder"):
        merge_feedback(path, tmp_path / "nothing")


def test_a_decision_dated_far_in_the_future_is_refused(tmp_path: Path) -> None:
    folder = data_folder(tmp_path)
    path = decisions(tmp_path, "a1,cleared,2099-01-01,mallory,\na2,closed,2024-02-05,ann,\n")
    with pytest.raises(UserError, match=r"row 2 \(account_id 'a1'\): decided_at 2099-01-01"):
        merge_feedback(path, folder)
    assert not (folder / LOG).exists()


def test_conflicting_decisions_at_the_same_instant_name_both_rows(tmp_path: Path) -> None:
    folder = data_folder(tmp_path)
    rows = "a2,closed,2024-02-05 10:00,ann,\na3,closed,2024-02-05,ann,\n"
    rows += "a2,cleared,2024-02-05T10:00Z,bob,\n"
    with pytest.raises(UserError, match=r"row 2 .*\(closed\) and row 4 \(cleared\)"):
        merge_feedback(decisions(tmp_path, rows), folder)
    merge_feedback(decisions(tmp_path, "a2,closed,2024-02-05 10:00,ann,\n"), folder)
    later = decisions(tmp_path, "a2,cleared,2024-02-05 10:00,bob,\n", "later.csv")
    with pytest.raises(UserError, match=r"already merged from decisions\.csv"):
        merge_feedback(later, folder)


@pytest.mark.parametrize("form", ["parquet", "csv", "parts"])
def test_a_merge_killed_between_its_two_writes_does_not_duplicate_labels(
    tmp_path: Path, form: str
) -> None:
    folder = data_folder(tmp_path, form)
    path = decisions(tmp_path, ROWS)
    merge_feedback(path, folder)
    (folder / LOG).unlink()  # as if killed after the labels were written, before the log
    again = merge_feedback(path, folder)
    assert again.labels_added == 0 and again.skipped == 0
    history = load_dataset(folder, AS_OF).label_history
    assert history.height == 3  # the old label and two decisions, once each
    assert pl.read_parquet(folder / LOG).height == 3
