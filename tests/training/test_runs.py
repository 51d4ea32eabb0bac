"""`ringwatch runs list|show|compare`: runs at a glance, as tables or JSON."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from common.errors import UserError
from detection.cli import app
from training import registry, runs


def invoke(*args: object):
    """Run the `ringwatch` CLI in-process."""
    return CliRunner().invoke(app, [str(a) for a in args], env={"COLUMNS": "200"})


@pytest.fixture
def two_runs(mlflow_workspace: Path, logged_model_run):
    """A good model promoted to champion, then a chance-level challenger."""
    good = logged_model_run()
    registry.promote(good.version)
    weak = logged_model_run(features=("noise",), experiment="ablation")
    return good, weak


def test_list_runs_newest_first_with_models_and_metrics(two_runs) -> None:
    good, weak = two_runs
    frame = runs.list_runs()
    assert frame["run_id"].to_list() == [weak.run_id, good.run_id]
    assert frame["model"].to_list() == ["v2 @challenger", "v1 @champion"]
    assert frame["experiment"].to_list() == ["ablation", "tests"]
    assert frame["split"].to_list() == ["random", "random"]
    assert frame.schema["start_time"] == pl.Datetime("us", "UTC")
    assert frame["test_average_precision"][1] > frame["test_average_precision"][0]
    assert runs.list_runs("tests")["run_id"].to_list() == [good.run_id]
    assert runs.list_runs(limit=1).height == 1


def test_list_runs_of_an_empty_store(mlflow_workspace: Path) -> None:
    frame = runs.list_runs()
    assert frame.height == 0 and list(frame.columns) == list(runs.BASE_COLUMNS)
    with pytest.raises(UserError, match=r"no MLflow experiment named 'nope' \(experiments: "):
        runs.list_runs("nope")


def test_show_run_by_id_prefix_or_name(two_runs) -> None:
    good, _ = two_runs
    shown = runs.show_run(good.run_id)
    assert runs.show_run(good.run_id[:6])["run_id"] == good.run_id
    assert runs.show_run("tiny-signal-noise")["run_id"] == good.run_id
    assert shown["experiment"] == "tests" and shown["status"] == "FINISHED"
    assert shown["params"] == {"features": "signal,noise"}
    assert shown["tags"]["ringwatch.split"] == "random"
    assert shown["models"] == [{"name": "ringwatch", "version": 1, "aliases": ["champion"]}]
    assert {"eval/heldout.parquet", "ringwatch_model/model.json"} <= set(shown["artifacts"])
    with pytest.raises(UserError, match="no run 'zzzzzz'"):
        runs.show_run("zzzzzz")


def test_compare_runs_side_by_side(two_runs) -> None:
    good, weak = two_runs
    frame = runs.compare_runs([good.run_id, weak.run_id[:8]])
    assert frame.columns == ["metric", good.run_id[:8], weak.run_id[:8]]
    row = frame.filter(pl.col("metric") == "test_average_precision").row(0)
    assert row[1] > row[2]
    with pytest.raises(UserError, match="the same run was given twice"):
        runs.compare_runs([good.run_id, good.run_id[:8]])


def test_json_has_no_nan_and_iso_times() -> None:
    from datetime import UTC, datetime

    text = runs.to_json({"a": float("nan"), "t": datetime(2024, 1, 2, tzinfo=UTC), "l": [1.5]})
    assert json.loads(text) == {"a": None, "t": "2024-01-02T00:00:00+00:00", "l": [1.5]}


def test_cli_runs_list_show_compare(two_runs, mlflow_workspace: Path) -> None:
    good, weak = two_runs
    ws = ("--workspace", mlflow_workspace)
    result = invoke("runs", "list", *ws)
    assert result.exit_code == 0, result.output
    assert good.run_id[:8] in result.stdout and "v1 @champion" in result.stdout

    result = invoke("runs", "list", "--json", "--limit", "1", *ws)
    assert result.exit_code == 0, result.output
    assert [r["run_id"] for r in json.loads(result.stdout)] == [weak.run_id]

    result = invoke("runs", "show", good.run_id[:8], *ws)
    assert result.exit_code == 0, result.output
    assert "eval/heldout.parquet" in result.stdout and "test_average_precision" in result.stdout
    assert json.loads(invoke("runs", "show", good.run_id, "--json", *ws).stdout)["models"]

    result = invoke("runs", "compare", good.run_id, weak.run_id, *ws)
    assert result.exit_code == 0, result.output
    assert "test_roc_auc" in result.stdout

    result = invoke("runs", "show", "zzzzzz", *ws)
    assert result.exit_code == 2 and result.stderr.startswith("error: no run 'zzzzzz'")


def test_cli_runs_list_in_an_untrained_workspace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    result = invoke("runs", "list", "--workspace", tmp_path / "ws")
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and "nothing has been trained" in result.stderr
