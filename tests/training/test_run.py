"""The MLflow-logged training run, end to end on a real SQLite store: log, register, ablate."""

import socket
from dataclasses import replace
from pathlib import Path

import numpy as np
import polars as pl
import pytest

import features.registry
import training.oof
from common.errors import UserError
from training import registry
from training.config import EvalConfig, HeadsConfig, TrainConfig
from training.interrupts import watch_interrupts
from training.run import RunRequest, TrainData, report_lines, run_ablation, train_command, train_run

from .synthetic import dataset_of, make_world, share_fn, specs

CONFIG = TrainConfig(heads=HeadsConfig(min_positives=10), eval=EvalConfig(contrib_sample=200))
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def world():
    return make_world(n=700, seed=4)


def request_of(world, workspace, experiment="tests", **options) -> RunRequest:
    """A run on the synthetic world (its label graph, hashed inputs given)."""
    data = TrainData(
        dataset=dataset_of(world), table=world.features, groups=world.groups, graphs=world.graph,
        truth=options.pop("truth", None), fingerprint={"data.inputs_sha256": "abc"},
    )  # fmt: skip
    config = options.pop("config", CONFIG)
    return RunRequest(
        data=data, workspace=workspace, config=config, experiment=experiment, **options
    )


@pytest.fixture(autouse=True)
def synthetic_registry(monkeypatch):
    """Feature docs and the graph's share function for the synthetic columns."""
    monkeypatch.setattr(features.registry, "all_specs", lambda config=None: specs())
    monkeypatch.setattr(training.oof, "default_share_fn", lambda: share_fn)


def test_train_run_logs_everything_and_registers_challenger(world, mlflow_workspace):
    from mlflow import MlflowClient

    lines: list[str] = []
    config = replace(CONFIG, eval=replace(CONFIG.eval, compare_random=True))
    request = request_of(world, mlflow_workspace, config=config, truth=world.truth)
    [result] = train_command(request, say=lines.append)
    lines += report_lines([result])
    assert result.version == 1
    assert any("registered as ringwatch version 1 @challenger" in line for line in lines)
    assert any("unlabelled bad surfaced" in line for line in lines)
    assert any("(random split, leaky:" in line for line in lines)
    client = MlflowClient()
    run = client.get_run(result.run_id)
    assert run.info.status == "FINISHED"
    assert run.data.params["split.kind"] == "strict"
    assert run.data.params["data.inputs_sha256"] == "abc"
    assert run.data.params["data.accounts"] == "700"
    assert run.data.tags["ringwatch.split"] == "strict"
    assert 0 < run.data.metrics["test_average_precision"] <= 1
    assert "truth_unlabelled_recall_at_k" in run.data.metrics
    assert "random_test_average_precision" in run.data.metrics
    artifacts = {a.path for a in client.list_artifacts(result.run_id)}
    assert {"plots", "eval", "ringwatch_model", "features.json", "split.json"} <= artifacts
    plots = {a.path.split("/")[-1] for a in client.list_artifacts(result.run_id, "plots")}
    assert plots == {
        "pr_curve.png",
        "roc_curve.png",
        "calibration.png",
        "score_histogram.png",
        "importance_gain.png",
        "contributions.png",
    }
    docs = Path(client.download_artifacts(result.run_id, "features.json"))
    assert "posts in the last 7 days" in docs.read_text()
    assert registry.aliases() == {"challenger": 1}
    loaded = registry.load_model("models:/ringwatch@challenger", mlflow_workspace)
    assert loaded.version == "1"
    table = result.fit.table
    assert np.array_equal(loaded.predict(table), result.fit.model.predict(table))
    comparison = registry.compare(1, None)
    assert comparison.n == result.fit.heldout.height
    assert comparison.challenger_metrics["average_precision"] == pytest.approx(
        run.data.metrics["test_average_precision"]
    )


def test_ablation_logs_three_runs_and_registers_none(world, mlflow_workspace):
    from mlflow import MlflowClient

    results = run_ablation(request_of(world, mlflow_workspace, "ablation"))
    assert [r.version for r in results] == [None, None, None]
    names = [r.fit.model.feature_names for r in results]
    assert names[0] == ["posts_7d", "noise", "verified", "category"]
    assert names[1] == ["ring_signal", "bad_neighbour_share", "known_neighbours"]
    assert set(names[2]) == set(names[0]) | set(names[1])
    tags = [MlflowClient().get_run(r.run_id).data.tags["ringwatch.ablation"] for r in results]
    assert tags == ["behaviour", "graph", "both"]
    assert registry.aliases() == {}


def test_failure_while_logging_leaves_no_registered_model(world, mlflow_workspace, monkeypatch):
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    import training.logged

    def broken(fit):
        raise MlflowException("artifact store is full")

    monkeypatch.setattr(training.logged, "log_booster", broken)
    with pytest.raises(UserError, match="MLflow run failed, nothing registered: artifact store"):
        train_run(request_of(world, mlflow_workspace))
    assert registry.aliases() == {}
    runs = MlflowClient().search_runs(
        [MlflowClient().get_experiment_by_name("tests").experiment_id]
    )
    assert [r.info.status for r in runs] == ["FAILED"]


def test_failure_after_registration_takes_the_version_back(world, mlflow_workspace, monkeypatch):
    import mlflow
    from mlflow.exceptions import MlflowException

    def broken(*args, **kwargs):
        raise MlflowException("connection reset")

    monkeypatch.setattr(mlflow, "set_tag", broken)
    with pytest.raises(UserError, match="nothing registered: connection reset"):
        train_run(request_of(world, mlflow_workspace))
    assert registry.versions() == []
    assert registry.aliases() == {}


def test_unreachable_server_is_one_line_before_any_training(world, tmp_path, monkeypatch):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"http://127.0.0.1:{port}")
    no_labels = world.labels.clear()  # would fail later: the store is checked first
    with pytest.raises(UserError, match="did not answer"):
        train_run(request_of(world, tmp_path))
    ds = dataset_of(world)
    assert pl.DataFrame(no_labels).height == 0 and ds.labels.height > 0


def test_a_ctrl_c_swallowed_before_the_logging_still_stops_the_run(world, mlflow_workspace):
    """The gap that once let a Ctrl-C through (exit 0, model registered): the signal lands
    after "logging the run" is said and before the logging's own watch begins, and a library
    (or a `__del__` run by the garbage collector) swallows the KeyboardInterrupt. The train
    command watches from its first step, so the logging still sees it."""
    import contextlib
    import os
    import signal

    from mlflow import MlflowClient

    def say(text: str) -> None:
        if text.startswith("logging the run"):
            with contextlib.suppress(KeyboardInterrupt):  # swallowed, as a library might
                os.kill(os.getpid(), signal.SIGINT)

    with watch_interrupts(), pytest.raises(KeyboardInterrupt):
        train_command(request_of(world, mlflow_workspace), say)
    assert registry.versions() == [] and registry.aliases() == {}
    experiment = MlflowClient().get_experiment_by_name("tests").experiment_id
    runs = MlflowClient().search_runs([experiment])
    assert [r.info.status for r in runs] == ["KILLED"]
