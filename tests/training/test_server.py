"""Against a real `mlflow server` on loopback: train, log, register, promote, load, list.

And the other side: a tracking server that does not answer is one clear line, quickly.
"""

from __future__ import annotations

import socket
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

from common.errors import UserError
from detection.cli import app
from training import registry, runs
from training.registry import CHALLENGER, CHAMPION, MODEL_NAME


@pytest.fixture
def server_workspace(mlflow_server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A workspace folder while MLFLOW_TRACKING_URI points at the real server."""
    import mlflow

    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server)
    monkeypatch.delenv("MLFLOW_REGISTRY_URI", raising=False)
    yield tmp_path / "workspace"
    while mlflow.active_run() is not None:
        mlflow.end_run("KILLED")
    mlflow.set_tracking_uri(None)
    mlflow.set_registry_uri(None)


def tiny_dataset(source: Path):
    """A small synthetic account base (features, labels, rings) as training sees it."""
    from features.io.contract import Dataset
    from tests.training.synthetic import make_world

    world = make_world(n=600, seed=3)
    dataset = Dataset(
        source=source,
        as_of=datetime(2024, 3, 1, tzinfo=UTC),
        accounts=world.features.select("account_id"),
        events=pl.DataFrame(),
        edges=pl.DataFrame(),
        labels=world.labels,
    )
    return world, dataset


@pytest.mark.slow
def test_train_register_promote_load_through_the_server(
    server_workspace: Path, mlflow_server: str
) -> None:
    from training.config import TrainConfig
    from training.run import RunRequest, TrainData, train_run
    from training.tracking import current_client

    world, dataset = tiny_dataset(server_workspace)
    data = TrainData(
        dataset=dataset, table=world.features, groups=world.groups, truth=world.truth,
        fingerprint={"data.source": "synthetic"},
    )  # fmt: skip
    result = train_run(
        RunRequest(data=data, config=TrainConfig(), workspace=server_workspace,
                   experiment="server-test")
    )  # fmt: skip
    client = current_client()
    assert client.tracking_uri == mlflow_server
    assert not (server_workspace / "mlflow.db").exists()  # nothing recorded locally
    run = client.get_run(result.run_id)
    assert run.info.artifact_uri.startswith("mlflow-artifacts:/")  # proxied by the server
    assert run.data.metrics["test_average_precision"] > 0.5
    assert registry.aliases(client)[CHALLENGER] == result.version

    comparison = registry.promote(result.version, client=client)
    assert comparison.promoted and registry.aliases(client)[CHAMPION] == result.version
    model = registry.load_model(f"models:/{MODEL_NAME}@{CHAMPION}", server_workspace)
    assert model.version == str(result.version)
    held = result.fit.heldout
    np.testing.assert_allclose(model.predict(held), result.fit.model.predict(held))

    # The booster logged with mlflow.lightgbm is a LoggedModel: registering it also works.
    (booster,) = client.search_logged_models(
        [result.experiment_id], filter_string=f"source_run_id = '{result.run_id}'"
    )
    version = registry.register(result.run_id, f"models:/{booster.model_id}", client)
    assert registry.get_version(version, client).run_id == result.run_id
    assert registry.aliases(client)[CHALLENGER] == version

    listed = runs.list_runs("server-test", client=client)
    assert listed["run_id"][0] == result.run_id
    assert CliRunner().invoke(app, ["runs", "show", result.run_id[:8]]).exit_code == 0


@pytest.mark.slow
def test_log_booster_register_and_load_through_the_server(
    server_workspace: Path, mlflow_server: str, logged_model_run
) -> None:
    """Without the training pipeline: a booster logged with mlflow.lightgbm, registered."""
    import lightgbm
    import mlflow

    from training.tracking import current_client, use_workspace

    assert use_workspace(server_workspace) == mlflow_server
    logged = logged_model_run(experiment="server-booster", register=False)
    with mlflow.start_run(run_id=logged.run_id):
        info = mlflow.lightgbm.log_model(
            logged.model.booster,
            name="booster",
            pip_requirements=[f"lightgbm=={lightgbm.__version__}"],
        )
    client = current_client()
    version = registry.register(logged.run_id, info.model_uri, client)
    assert registry.get_version(version, client).run_id == logged.run_id
    assert registry.aliases(client)[CHALLENGER] == version
    model = registry.load_model(f"models:/{MODEL_NAME}/{version}", server_workspace)
    held = logged.heldout
    np.testing.assert_array_equal(model.predict(held), logged.model.predict(held))
    result = CliRunner().invoke(app, ["runs", "list", "--experiment", "server-booster"])
    assert result.exit_code == 0 and logged.run_id[:8] in result.stdout


def closed_port_uri() -> str:
    """http://127.0.0.1:PORT where nothing listens."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


@pytest.mark.parametrize(
    "command", [["runs", "list"], ["promote", "1"], ["runs", "show", "abcd"]], ids=" ".join
)
def test_unreachable_server_is_one_line_and_quick(
    command: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    uri = closed_port_uri()
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    start = time.monotonic()
    result = CliRunner().invoke(app, [*command, "--workspace", str(tmp_path)])
    assert time.monotonic() - start < 10  # not MLflow's default minute of retries
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"error: MLflow tracking server {uri} did not answer")


def test_unreachable_server_when_training_or_loading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from training.tracking import use_workspace

    monkeypatch.setenv("MLFLOW_TRACKING_URI", closed_port_uri())
    with pytest.raises(UserError, match="did not answer"):
        use_workspace(tmp_path)  # the first thing train_run does
    with pytest.raises(UserError, match="did not answer"):
        registry.load_model(f"models:/{MODEL_NAME}@{CHAMPION}", tmp_path)
