"""Where runs are recorded: workspace SQLite store by default, MLFLOW_TRACKING_URI overrides it."""

from __future__ import annotations

import os
import shutil
import socket
import time
from pathlib import Path

import pytest

from common.errors import UserError
from training import tracking


@pytest.fixture
def no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No tracking URI from the environment, and MLflow's process URIs reset afterwards."""
    import mlflow

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("MLFLOW_REGISTRY_URI", raising=False)
    yield
    mlflow.set_tracking_uri(None)
    mlflow.set_registry_uri(None)
    monkeypatch.delenv("MLFLOW_REGISTRY_URI", raising=False)


def test_default_uri_is_the_workspace_sqlite_store(
    no_env: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    uri = tracking.tracking_uri(Path("ws"))
    assert uri == f"sqlite:///{tmp_path.resolve()}/ws/mlflow.db"
    assert tracking.sqlite_path(uri) == tmp_path.resolve() / "ws" / "mlflow.db"
    assert tracking.artifact_root(uri) == (tmp_path.resolve() / "ws" / "mlartifacts").as_uri()


def test_environment_overrides_the_workspace(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:5999")
    assert tracking.tracking_uri(Path("anything")) == "http://127.0.0.1:5999"
    assert tracking.artifact_root("http://127.0.0.1:5999") is None


def test_use_workspace_keeps_artifacts_inside_and_env_untouched(
    no_env: None, mlflow_template_store: Path, tmp_path: Path
) -> None:
    import mlflow

    workspace = tmp_path / "ws"
    workspace.mkdir()
    shutil.copyfile(mlflow_template_store, workspace / "mlflow.db")
    uri = tracking.use_workspace(workspace)
    assert uri == f"sqlite:///{workspace.resolve()}/mlflow.db"
    assert mlflow.get_tracking_uri() == uri and mlflow.get_registry_uri() == uri
    assert "MLFLOW_TRACKING_URI" not in os.environ  # MLflow exports it; we undo that
    experiment_id = tracking.get_or_create_experiment("ringwatch")
    assert tracking.get_or_create_experiment("ringwatch") == experiment_id
    client = tracking.client_for(uri)
    location = client.get_experiment(experiment_id).artifact_location
    assert location == (workspace.resolve() / "mlartifacts").as_uri()
    with mlflow.start_run(experiment_id=experiment_id) as run:
        mlflow.log_text("hello", "note.txt")
    assert (workspace / "mlartifacts" / run.info.run_id / "artifacts" / "note.txt").exists()


def test_use_workspace_creates_a_fresh_store(no_env: None, tmp_path: Path) -> None:
    """The one test that pays for a fresh migration (~2 s): a brand-new workspace works."""
    workspace = tmp_path / "new" / "ws"
    tracking.use_workspace(workspace)
    assert (workspace / "mlflow.db").is_file()


def test_deleted_experiment_is_a_user_error(mlflow_workspace: Path) -> None:
    client = tracking.current_client()
    experiment_id = tracking.get_or_create_experiment("gone", client)
    client.delete_experiment(experiment_id)
    with pytest.raises(UserError, match="was deleted: restore it"):
        tracking.get_or_create_experiment("gone", client)


def test_connect_refuses_a_workspace_without_a_store(no_env: None, tmp_path: Path) -> None:
    with pytest.raises(UserError, match="nothing has been trained in workspace"):
        tracking.connect(tmp_path / "typo")
    assert not (tmp_path / "typo").exists()


def test_file_store_uri_is_refused() -> None:
    with pytest.raises(UserError, match="file stores are not supported"):
        tracking.check_store("file:///tmp/mlruns")
    with pytest.raises(UserError, match="file stores are not supported"):
        tracking.check_store("/tmp/mlruns")


def test_sqlite_store_in_a_missing_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="does not exist"):
        tracking.check_store(f"sqlite:///{tmp_path}/missing/mlflow.db")


def test_corrupt_store_is_one_clear_line(tmp_path: Path) -> None:
    db = tmp_path / "mlflow.db"
    db.write_bytes(b"this is not a database" * 100)
    with pytest.raises(UserError, match="cannot open the MLflow store") as caught:
        tracking.check_store(f"sqlite:///{db}")
    assert "\n" not in str(caught.value)


def test_refused_connection_fails_fast() -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    start = time.monotonic()
    with pytest.raises(UserError, match=f"server http://127.0.0.1:{port} did not answer"):
        tracking.check_store(f"http://127.0.0.1:{port}")
    assert time.monotonic() - start < 10  # not MLflow's default minute of retries


def test_silent_server_times_out() -> None:
    with socket.socket() as s:  # accepts connections (backlog) but never answers
        s.bind(("127.0.0.1", 0))
        s.listen(4)
        port = s.getsockname()[1]
        start = time.monotonic()
        with pytest.raises(UserError, match=r"did not answer within 0\.5 s"):
            tracking.check_store(f"http://127.0.0.1:{port}", timeout=0.5)
        assert time.monotonic() - start < 10  # not MLflow's default minute of retries


def test_mlflow_workspace_fixture_keeps_everything_inside(mlflow_workspace: Path) -> None:
    import mlflow

    uri = f"sqlite:///{mlflow_workspace}/mlflow.db"
    assert os.environ["MLFLOW_TRACKING_URI"] == uri == mlflow.get_tracking_uri()
    assert tracking.tracking_uri(Path("ignored")) == uri
    default = tracking.current_client().get_experiment("0").artifact_location
    assert default == (mlflow_workspace / "mlartifacts" / "0").as_uri()
