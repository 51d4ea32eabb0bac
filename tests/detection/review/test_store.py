"""The decisions file: append-only, one row per account, safe with several writers."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from common.errors import UserError
from detection.review.store import Decision, DecisionStore, read_decisions


def test_decisions_are_appended_and_the_latest_wins(tmp_path: Path) -> None:
    store = DecisionStore(tmp_path, "2024-01-28T00:00:00+00:00")
    store.record(Decision(("a", "b", "c"), "closed", "ann", "farm", ring_id="R1"))
    store.record(Decision(("b",), "cleared", "bob", "colleague vouched"))
    history = store.history()
    assert history.height == 4 and history["scope"].to_list() == ["ring"] * 3 + ["account"]
    assert history.filter(history["scope"] == "ring")["batch"].n_unique() == 1
    latest = dict(zip(store.latest()["account_id"], store.latest()["decision"], strict=True))
    assert latest == {"a": "closed", "b": "cleared", "c": "closed"}
    assert store.history("b")["reviewer"].to_list() == ["ann", "bob"]


def test_rows_cannot_be_changed_or_removed(tmp_path: Path) -> None:
    store = DecisionStore(tmp_path)
    store.record(Decision(("a",), "escalated", "ann"))
    db = sqlite3.connect(store.path)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("UPDATE decisions SET decision = 'cleared'")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("DELETE FROM decisions")
    db.close()
    assert store.history().height == 1


@pytest.mark.parametrize(
    "bad",
    [
        Decision(("a",), "deleted", "ann"),
        Decision(("a",), "closed", "  "),
        Decision((), "closed", "ann"),
        Decision(("a",), "closed", "x" * 81),
    ],
)
def test_bad_decisions_are_refused(tmp_path: Path, bad: Decision) -> None:
    with pytest.raises(UserError):
        DecisionStore(tmp_path).record(bad)


def test_several_reviewers_at_once_lose_nothing(tmp_path: Path) -> None:
    DecisionStore(tmp_path)  # schema first, as the app does at start

    def reviewer(name: str) -> None:
        store = DecisionStore(tmp_path)  # its own connections, like another process
        for i in range(40):
            store.record(Decision((f"{name}-{i}", f"{name}-x"), "closed", name))

    threads = [threading.Thread(target=reviewer, args=(f"r{k}",)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    history = DecisionStore(tmp_path).history()
    assert history.height == 4 * 40 * 2 and history["id"].n_unique() == history.height
    with sqlite3.connect(DecisionStore(tmp_path).path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_feedback_reads_them_as_utc_times(tmp_path: Path) -> None:
    DecisionStore(tmp_path).record(Decision(("a",), "closed", "ann", "n"))
    frame = read_decisions(tmp_path)
    assert frame.columns == [
        *("id", "account_id", "decision", "decided_at", "reviewer", "note", "reason")
    ]
    assert str(frame["decided_at"].dtype) == "Datetime(time_unit='us', time_zone='UTC')"
    with pytest.raises(UserError, match=r"no decisions\.sqlite"):
        read_decisions(tmp_path / "elsewhere")


def test_a_replaced_list_keeps_its_decisions(tmp_path: Path) -> None:
    from detection.review.store import carry_decisions

    old, new = tmp_path / "old", tmp_path / "new"
    old.mkdir()
    new.mkdir()
    assert carry_decisions(old, new) is False
    DecisionStore(old).record(Decision(("a", "b"), "closed", "ann", ring_id="R1"))
    assert carry_decisions(old, new) is True
    assert DecisionStore(new).history()["account_id"].to_list() == ["a", "b"]


def test_score_overwrite_keeps_the_review(fresh_list: Path, world, model) -> None:
    from detection.config import ScoreConfig
    from detection.pipeline import score_base
    from tests.detection.world import AS_OF

    DecisionStore(fresh_list).record(Decision(("acc00001",), "escalated", "ann"))
    config = ScoreConfig(capacity=30, max_ring_sections=1)
    score_base(world.features, model, AS_OF, fresh_list.parent, config, overwrite=True)
    assert DecisionStore(fresh_list).history()["account_id"].to_list() == ["acc00001"]


def test_review_labels_are_known_at_the_lists_snapshot(tmp_path: Path) -> None:
    """Decisions made (by the wall clock) after a list's snapshot become labels a retrain at
    that snapshot knows, in the order they were made; a later merge adds only new ones."""
    import json
    from datetime import UTC, datetime

    import polars as pl

    from detection.feedback import merge_review
    from features.io.load import known_at

    data, folder = tmp_path / "data", tmp_path / "lists" / "2024-01-28"
    data.mkdir()
    folder.mkdir(parents=True)
    pl.DataFrame({"account_id": ["a", "b", "c"]}).write_parquet(data / "accounts.parquet")
    pl.DataFrame({"account_id": ["a"]}).write_parquet(folder / "candidates.parquet")
    as_of = datetime(2024, 1, 28, tzinfo=UTC)
    manifest = {"as_of": as_of.isoformat(), "inputs": {"source": str(data)}}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    store = DecisionStore(folder)
    store.record(Decision(("a", "b"), "closed", "ann", "farm", ring_id="R1"))
    store.record(Decision(("b",), "cleared", "bob", "vouched"))
    assert merge_review(folder).labels_added == 3
    labels = pl.read_parquet(data / "labels.parquet")
    assert (labels["labelled_at"] <= as_of).all() and labels["labelled_at"].is_unique().all()
    known = known_at(labels, as_of)
    assert dict(zip(known["account_id"], known["label"], strict=True)) == {"a": 1, "b": 0}
    store.record(Decision(("c",), "closed", "bob", "same device"))
    again = merge_review(folder)
    assert (again.labels_added, again.skipped) == (1, 3)
