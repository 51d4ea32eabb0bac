"""The input data contract, exercised through `ringwatch validate` as a user would."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from detection.cli import app
from features.io.load import load_dataset

runner = CliRunner()


def world() -> dict[str, pl.DataFrame]:
    """A tiny valid account base."""
    ts = [datetime(2024, 2, d, 10, tzinfo=UTC) for d in (1, 2, 3, 4)]
    return {
        "accounts": pl.DataFrame(
            {
                "account_id": ["a1", "a2", "a3", "a4"],
                "created_at": [datetime(2024, 1, d, tzinfo=UTC) for d in (1, 2, 3, 4)],
                "category": ["brand", "media", "creator", None],
                "verified": [True, False, False, None],
                "followers": [10, 3, 0, None],
                "completeness": [0.5, 0.2, 0.9, 0.1],
            }
        ),
        "events": pl.DataFrame(
            {
                "account_id": ["a1", "a2", "a3", "a4"],
                "ts": ts,
                "action": ["post", "follow", "like", "payment"],
                "target_id": [None, "a1", "a1", None],
                "amount": [None, None, None, 9.5],
            }
        ),
        "edges": pl.DataFrame({"src": ["a2"], "dst": ["a1"], "relation": ["follows"]}),
        "labels": pl.DataFrame(
            {"account_id": ["a3", "a1"], "label": [1, 0], "reason": ["fake", None]}
        ),
    }


def write(tables: dict[str, pl.DataFrame], folder: Path, form: str) -> Path:
    """Store the tables as CSV files, Parquet files or folders of Parquet parts."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        if form == "csv":
            frame.write_csv(folder / f"{name}.csv")
        elif form == "parquet":
            frame.write_parquet(folder / f"{name}.parquet")
        else:
            (folder / name).mkdir()
            half = max(frame.height // 2, 1)
            frame.head(half).write_parquet(folder / name / "part-0.parquet")
            frame.slice(half).write_parquet(folder / name / "part-1.parquet")
    return folder


def validate(folder: Path, *args: str):
    return runner.invoke(app, ["validate", str(folder), *args])


@pytest.mark.parametrize("form", ["csv", "parquet", "folder"])
def test_every_storage_form_loads_the_same(tmp_path: Path, form: str) -> None:
    ds = load_dataset(write(world(), tmp_path / form, form))
    assert ds.accounts["account_id"].to_list() == ["a1", "a2", "a3", "a4"]
    assert ds.events.collect_schema()["ts"] == pl.Datetime("us", "UTC")
    assert ds.labels.schema["label"] == pl.Int8
    assert ds.attributes == ("completeness",)
    assert ds.as_of == datetime(2024, 2, 4, 10, tzinfo=UTC)
    assert set(ds.events.collect_schema().names()) >= {"ip", "device", "instrument", "text"}
    result = validate(tmp_path / form)
    assert result.exit_code == 0, result.output
    assert "accounts" in result.output


def test_as_of_cuts_events_and_edges(tmp_path: Path) -> None:
    folder = write(world(), tmp_path / "w", "parquet")
    ds = load_dataset(folder, datetime(2024, 2, 2, 12))
    assert ds.n_events == 2
    assert ds.as_of == datetime(2024, 2, 2, 12, tzinfo=UTC)


def broken(tmp_path: Path, table: str, frame: pl.DataFrame | None, form: str = "csv") -> Path:
    tables = world()
    if frame is None:
        del tables[table]
    else:
        tables[table] = frame
    return write(tables, tmp_path / "bad", form)


CASES = {
    "missing table": ("accounts", None, "accounts.parquet: required table is missing"),
    "missing column": (
        "events",
        pl.DataFrame({"account_id": ["a1"], "action": ["post"]}),
        "column 'ts': required column is missing",
    ),
    "duplicate id": (
        "accounts",
        pl.DataFrame({"account_id": ["a1", "a1", "a2", "a3", "a4"]}),
        "column 'account_id': 2 rows with duplicate values",
    ),
    "null id": (
        "accounts",
        pl.DataFrame({"account_id": ["a1", None, "a2", "a3", "a4"]}),
        "column 'account_id': 1 rows with null values",
    ),
    "bad timestamp": (
        "events",
        pl.DataFrame(
            {
                "account_id": ["a1", "a2"],
                "ts": ["2024-02-01", "yesterday"],
                "action": ["post", "post"],
            }
        ),
        "column 'ts': 1 timestamps that do not parse (e.g. 'yesterday')",
    ),
    "bad type": (
        "accounts",
        pl.DataFrame({"account_id": ["a1", "a2", "a3", "a4"], "followers": ["1", "x", "2", "3"]}),
        "column 'followers': 1 values not Int64 (e.g. 'x')",
    ),
    "bad label": (
        "labels",
        pl.DataFrame({"account_id": ["a1", "a2"], "label": [1, 2]}),
        "column 'label': 1 rows with values other than 0 or 1 (e.g. 2)",
    ),
    "unknown accounts": (
        "events",
        pl.DataFrame(
            {
                "account_id": ["a1", "zz"],
                "ts": ["2024-02-01", "2024-02-01"],
                "action": ["post", "post"],
            }
        ),
        "column 'account_id': 1 rows (50.0%) reference accounts not in the accounts table",
    ),
    "empty table": (
        "edges",
        pl.DataFrame(schema={"src": pl.String, "dst": pl.String, "relation": pl.String}),
        "edges.csv: table is empty",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_violation_gives_one_clear_line_and_exit_2(tmp_path: Path, case: str) -> None:
    table, frame, message = CASES[case]
    result = validate(broken(tmp_path, table, frame))
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output + result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_few_unknown_references_warn_and_are_dropped(tmp_path: Path) -> None:
    tables = world()
    n = 200
    tables["events"] = pl.DataFrame(
        {
            "account_id": ["a1"] * (n - 1) + ["ghost"],
            "ts": [datetime(2024, 2, 1, tzinfo=UTC)] * n,
            "action": ["post"] * n,
        }
    )
    ds = load_dataset(write(tables, tmp_path / "w", "parquet"))
    assert ds.n_events == n - 1
    assert any("reference accounts not in the accounts table" in w for w in ds.warnings)


def test_later_label_supersedes_earlier(tmp_path: Path) -> None:
    tables = world()
    tables["labels"] = pl.DataFrame(
        {
            "account_id": ["a3", "a3"],
            "label": [1, 0],
            "labelled_at": [datetime(2024, 2, 1, tzinfo=UTC), datetime(2024, 2, 5, tzinfo=UTC)],
        }
    )
    ds = load_dataset(write(tables, tmp_path / "w", "parquet"))
    assert ds.labels.rows() == [("a3", 0, datetime(2024, 2, 5, tzinfo=UTC), None)]


def test_not_a_folder(tmp_path: Path) -> None:
    result = validate(tmp_path / "nowhere")
    assert result.exit_code == 2
    assert "not a folder" in result.stderr
