"""Every command not driven elsewhere, through the CLI as a user types it (CliRunner): demo,
then features and train on the demo's workspace, and the bench commands on small inputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from detection.cli import app

pytestmark = pytest.mark.slow


def invoke(*args: object):
    return CliRunner().invoke(app, [str(a) for a in args], env={"COLUMNS": "200"})


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory):
    """One small demo run (2,000 accounts, 2 weeks) in its own workspace and MLflow store."""
    workspace = tmp_path_factory.mktemp("demo") / "ws"
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("MLFLOW_TRACKING_URI", raising=False)
        result = invoke(
            "demo", "--workspace", workspace, "--accounts", 2000, "--weeks", 2, "--seed", 3
        )
    return workspace, result


def test_demo_runs_the_pipeline_end_to_end(demo) -> None:
    workspace, result = demo
    assert result.exit_code == 0, result.output
    assert "ringwatch demo finished" in result.output and "valid:" in result.output
    reports = list((workspace / "lists").glob("*/report.html"))
    assert len(reports) == 1 and (workspace / "mlflow.db").exists()
    assert "INFO mlflow" not in result.output  # MLflow's own logging is quiet without --verbose


def test_features_reuses_the_demo_cache(demo, tmp_path: Path) -> None:
    workspace, _ = demo
    out = tmp_path / "features.parquet"
    result = invoke("features", workspace / "data", "--out", out, "--workspace", workspace)
    assert result.exit_code == 0, result.output
    assert out.exists() and "2,000 accounts" in result.output


def test_train_logs_and_registers_a_challenger(demo, monkeypatch) -> None:
    workspace, _ = demo
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    result = invoke("train", workspace / "data", "--workspace", workspace, "--experiment", "cli")
    assert result.exit_code == 0, result.output
    assert "registered as ringwatch version 2 @challenger" in result.output
    runs = json.loads(invoke("runs", "list", "--experiment", "cli", "--json", "--workspace",
                             workspace).stdout)  # fmt: skip
    assert len(runs) == 1 and runs[0]["model"] == "v2 @challenger"


def test_bench_quality_runs_the_product_on_a_public_format(tmp_path: Path) -> None:
    from tests.experiments.test_bench_quality import write_instafake

    write_instafake(tmp_path / "data")
    result = invoke(
        "bench", "quality", "--datasets", "instafake", "--seeds", 1, "--methods", "ringwatch",
        "--data-root", tmp_path / "data", "--out", tmp_path / "out", "--no-mlflow",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "| instafake | strict | ringwatch |" in (tmp_path / "out" / "results.md").read_text()


def test_bench_speed_on_a_small_world(tmp_path: Path) -> None:
    result = invoke("bench", "speed", "--accounts", 1500, "--out", tmp_path)
    assert result.exit_code == 0, result.output
    result = json.loads((tmp_path / "speed.json").read_text())
    rows = {r["command"]: r for r in result["rows"]}
    assert set(rows) == {"features", "train", "compile", "score", "end to end"}
    assert all(rows[c]["peer_wall_s"] > 0 for c in ("features", "train", "score", "end to end"))
    assert {"date", "load_average"} <= set(result["before"])


def test_bench_and_settings_mistakes_are_one_line_and_exit_2(tmp_path: Path) -> None:
    result = invoke("bench", "quality", "--datasets", "nope", "--data-root", tmp_path)
    assert result.exit_code == 2 and "unknown dataset 'nope'" in result.output
    result = invoke("demo", "--workspace", tmp_path, "--settings", tmp_path / "missing.toml")
    assert result.exit_code == 2 and "missing.toml" in result.output


def test_bench_scale_checks_its_data_before_any_cluster(tmp_path: Path) -> None:
    result = invoke("bench", "scale", "--data", tmp_path / "nope", "--out", tmp_path / "out")
    assert result.exit_code == 2 and "nope: not a folder holding the input tables" in result.output
