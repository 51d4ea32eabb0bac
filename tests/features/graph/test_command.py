"""`ringwatch rings`: writes the ring table atomically, scores it against a truth file."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from detection.cli import app
from features.graph.rings import RING_SCHEMA
from tests.features.graph.worlds import ring_world


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    """The hand-made ring world as a data folder, with a truth file."""
    folder = tmp_path_factory.mktemp("world")
    ds = ring_world()
    ds.accounts.write_parquet(folder / "accounts.parquet")
    ds.events.lazy().collect().write_parquet(folder / "events.parquet")  # lazy or not
    ids = ds.accounts["account_id"]
    ring = (
        pl.when(ids.str.starts_with("f"))
        .then(pl.lit("farm"))
        .when(ids.str.starts_with("k"))
        .then(pl.lit("cards"))
    )
    truth = pl.DataFrame({"account_id": ids}).with_columns(
        is_bad=ids.str.contains(r"^[fk]"),
        kind=pl.lit("fake_farm"),
        ring_id=pl.select(ring).to_series(),
        camouflage=pl.lit(False),
    )
    truth.write_parquet(folder / "truth.parquet")
    return folder


def test_rings_command_writes_the_table_and_scores_it(data, tmp_path):
    out = tmp_path / "rings.parquet"
    truth = data / "truth.parquet"
    args = ["rings", str(data), "--out", str(out), "--truth", str(truth), "--verdict", "rules"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "2 rings" in result.output
    assert "ring F1 (best match per true ring, mean) 1.000" in result.output
    assert "share of reported ring members that are bad 1.000" in result.output
    rings = pl.read_parquet(out)
    assert dict(rings.schema) == RING_SCHEMA and rings.height == 2
    assert [p.name for p in tmp_path.iterdir()] == ["rings.parquet"]  # no temp file left


def test_bad_truth_file_is_one_line_and_exit_2(data, tmp_path):
    out = tmp_path / "rings.parquet"
    result = CliRunner().invoke(
        app, ["rings", str(data), "--out", str(out), "--truth", str(tmp_path / "missing.parquet")]
    )
    assert result.exit_code == 2
    assert "missing.parquet: no such truth file" in result.output
    assert "Traceback" not in result.output


def test_missing_data_folder_is_a_user_error(tmp_path):
    result = CliRunner().invoke(app, ["rings", str(tmp_path / "nope"), "--out", "x.parquet"])
    assert result.exit_code == 2 and "not a folder" in result.output
