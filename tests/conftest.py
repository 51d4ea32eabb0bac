"""Project-wide fixtures: real MLflow stores (SQLite, pre-migrated once) and a real server.

- `mlflow_workspace` (function): a workspace folder with its own MLflow store; use it in any
  test that trains, registers, promotes or loads models.
- `mlflow_server` (session): the URI of a real `mlflow server` on 127.0.0.1.
- `logged_model_run` (function, needs `mlflow_workspace` or another tracking URI): log (and
  register) a tiny real RingwatchModel, for tests that need a model in the registry.
MLflow is imported inside the fixtures, so tests that do not use them do not pay for it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

import pytest

SERVER_START_TIMEOUT_S = 120.0  # ~10 s on an idle machine; CI's 2 cores may be busy


def _free_port() -> int:
    """A TCP port on the loopback interface that nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _copy_store(template: Path, db: Path, default_artifacts: str) -> str:
    """Copy the migrated store to `db`, point its Default experiment at `default_artifacts`."""
    db.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template, db)
    with contextlib.closing(sqlite3.connect(db)) as con, con:
        con.execute(
            "UPDATE experiments SET artifact_location = ? WHERE experiment_id = 0",
            (default_artifacts,),
        )
    return f"sqlite:///{db}"


@pytest.fixture(scope="session")
def mlflow_template_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One freshly created and migrated SQLite MLflow store per session (migrating costs ~2 s).

    Do not write to it: `mlflow_workspace` and `mlflow_server` copy it.
    """
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    folder = tmp_path_factory.mktemp("mlflow-template")
    db = folder / "mlflow.db"
    store = SqlAlchemyStore(f"sqlite:///{db}", (folder / "mlartifacts").as_uri())
    store.engine.dispose()
    return db


@pytest.fixture
def mlflow_workspace(
    mlflow_template_store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """A fresh workspace folder whose MLflow store is a copy of the pre-migrated template.

    Yields `tmp_path / "workspace"` holding `mlflow.db`; artifacts go to `workspace/mlartifacts`
    (training.tracking puts them beside the database). `MLFLOW_TRACKING_URI` is set to the copy
    (so `training.tracking.tracking_uri(anything)` returns it) and MLflow's process-wide
    tracking and registry URIs point at it too, so both `MlflowClient()` and fluent
    `mlflow.start_run()` use it. Usage:

        def test_something(mlflow_workspace):
            run(..., workspace=mlflow_workspace)            # or CLI --workspace
            load_model("models:/ringwatch@champion", mlflow_workspace)

    Afterwards any run left active is ended and MLflow's URIs are reset.
    """
    import mlflow

    workspace = tmp_path / "workspace"
    uri = _copy_store(
        mlflow_template_store,
        workspace / "mlflow.db",
        (workspace / "mlartifacts" / "0").as_uri(),
    )
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.delenv("MLFLOW_REGISTRY_URI", raising=False)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    yield workspace
    while mlflow.active_run() is not None:
        mlflow.end_run("KILLED")
    mlflow.set_tracking_uri(None)
    mlflow.set_registry_uri(None)


def _wait_healthy(url: str, process: subprocess.Popen, log: Path, timeout: float) -> None:
    """Poll <url>/health until it answers 200; fail with the server's log otherwise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(
                f"mlflow server exited with {process.returncode}:\n{log.read_text()[-3000:]}"
            )
        with (
            contextlib.suppress(OSError),
            urllib.request.urlopen(f"{url}/health", timeout=1) as response,
        ):
            if response.status == 200:
                return
        time.sleep(0.2)
    pytest.fail(f"mlflow server not healthy after {timeout:g} s:\n{log.read_text()[-3000:]}")


def _stop(process: subprocess.Popen) -> None:
    """Terminate the server's process group (uvicorn workers included), then kill if needed."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


@pytest.fixture(scope="session")
def mlflow_server(
    mlflow_template_store: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A real `mlflow server` subprocess on 127.0.0.1 (free port), its own SQLite backend and
    proxied artifact root; yields its URI (http://127.0.0.1:PORT) and always stops it.

    Point code at it with `monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server)`.
    """
    folder = tmp_path_factory.mktemp("mlflow-server")
    backend = _copy_store(mlflow_template_store, folder / "mlflow.db", "mlflow-artifacts:/0")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    env["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] = "false"  # no job runner + ~8 huey processes
    command = [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--workers", "1", "--backend-store-uri", backend]
    command += ["--serve-artifacts", "--artifacts-destination", str(folder / "artifacts")]
    log = folder / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            command,
            cwd=folder,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_healthy(url, process, log, SERVER_START_TIMEOUT_S)
        yield url
    finally:
        _stop(process)


class LoggedRun(NamedTuple):
    """What `logged_model_run` made: the run, its registered version, the model, held-out rows."""

    run_id: str
    version: int | None
    model: Any  # training.model.RingwatchModel
    heldout: Any  # polars.DataFrame: account_id, label, signal, noise


@pytest.fixture
def logged_model_run() -> Callable[..., LoggedRun]:
    """A factory: train a tiny real RingwatchModel, log it as a training run would, register it.

    `logged_model_run(features=("signal", "noise"), experiment="tests", register=True, seed=0)`
    returns a LoggedRun (run_id, version or None, model, heldout). The run holds the model
    folder (`ringwatch_model`), the held-out part (`eval/heldout.parquet`: account_id, label,
    signal, noise), a few `test_*` metrics and `ringwatch.split`/`ringwatch.stages` tags.
    features=("noise",) gives a model no better than chance (to test refusals);
    heldout_drop=("noise",) leaves columns out of the logged held-out file (a renamed feature).
    Uses MLflow's current tracking URI (set by `mlflow_workspace`, or set it yourself).
    """

    def log(
        features: tuple[str, ...] = ("signal", "noise"),
        experiment: str = "tests",
        register: bool = True,
        seed: int = 0,
        heldout_drop: tuple[str, ...] = (),
    ) -> LoggedRun:
        from training import registry
        from training.metrics import evaluate
        from training.tracking import current_client, get_or_create_experiment

        client = current_client()
        train, heldout = tiny_tables(seed)
        model = tiny_model(train, list(features), seed)
        experiment_id = get_or_create_experiment(experiment, client)
        run = client.create_run(experiment_id, run_name=f"tiny-{'-'.join(features)}")
        run_id = run.info.run_id
        metrics = evaluate(heldout["label"].to_numpy(), model.predict(heldout), ks=(20,))
        for name, value in metrics.items():
            client.log_metric(run_id, f"test_{name}", value)
        client.log_param(run_id, "features", ",".join(features))
        client.set_tag(run_id, "ringwatch.split", "random")
        client.set_tag(run_id, "ringwatch.stages", "all")
        with tempfile.TemporaryDirectory() as tmp:
            model.save(Path(tmp) / registry.MODEL_ARTIFACT)
            client.log_artifacts(
                run_id, str(Path(tmp) / registry.MODEL_ARTIFACT), registry.MODEL_ARTIFACT
            )
            held = Path(tmp) / Path(registry.HELDOUT_ARTIFACT).name
            heldout.drop(heldout_drop).write_parquet(held)
            client.log_artifact(run_id, str(held), str(Path(registry.HELDOUT_ARTIFACT).parent))
        client.set_terminated(run_id)
        version = registry.register(run_id, client=client) if register else None
        return LoggedRun(run_id, version, model, heldout)

    return log


def tiny_tables(seed: int = 0, n: int = 600):  # -> tuple[pl.DataFrame, pl.DataFrame]
    """Train and held-out frames: account_id, label, an informative `signal`, pure `noise`."""
    import numpy as np
    import polars as pl

    rng = np.random.default_rng(seed)
    label = (rng.random(n) < 0.2).astype(np.int8)
    frame = pl.DataFrame(
        {
            "account_id": [f"acc{i:05d}" for i in range(n)],
            "label": label,
            "signal": rng.normal(size=n) + 1.5 * label,
            "noise": rng.normal(size=n),
        }
    )
    cut = n * 2 // 3
    return frame[:cut], frame[cut:]


def tiny_model(train, features: list[str], seed: int = 0):  # -> RingwatchModel
    """A real (tiny) LightGBM RingwatchModel on `features` of `train`, uncalibrated."""
    import lightgbm as lgb

    from training.calibrate import Calibrator
    from training.model import RingwatchModel

    x = train.select(features).to_numpy()
    params = {
        "objective": "binary",
        "verbose": -1,
        "num_leaves": 4,
        "seed": seed,
        "deterministic": True,
        "num_threads": 1,
        "min_data_in_leaf": 5,
    }
    booster = lgb.train(
        params, lgb.Dataset(x, train["label"].to_numpy(), feature_name=features), num_boost_round=15
    )
    return RingwatchModel(booster, Calibrator("identity"), list(features))


@pytest.fixture(scope="session")
def cluster_engine(tmp_path_factory: pytest.TempPathFactory):  # -> features.execution.Engine
    """A real Dask LocalCluster of 2 worker processes on loopback for the session, with its
    scratch folder in a temporary workspace; stopped (workers ended) when the session ends."""
    from features.cluster import open_engine

    workspace = tmp_path_factory.mktemp("cluster-workspace")
    with open_engine("local:2", workspace, "2GiB") as engine:
        yield engine
