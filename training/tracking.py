"""Where MLflow records runs: the workspace's SQLite store by default, any server by one setting.

Layout of a workspace (the default, embedded store):
    <workspace>/mlflow.db        SQLite tracking + model-registry store
    <workspace>/mlartifacts/     artifacts of every experiment ringwatch creates (plots, models)
`MLFLOW_TRACKING_URI` overrides the store (an `http(s)://` server, or another `sqlite:///` file,
whose artifacts then go to `mlartifacts/` beside that file). Nothing here keeps state of its
own: functions take an `MlflowClient` (built by `client_for`) or use MLflow's current URI.
"""

from __future__ import annotations

import contextlib
import os
import re
import sqlite3
import urllib.error
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote

from common.errors import UserError

if TYPE_CHECKING:
    from mlflow import MlflowClient

TRACKING_ENV = "MLFLOW_TRACKING_URI"
REGISTRY_ENV = "MLFLOW_REGISTRY_URI"
STORE_FILE = "mlflow.db"
ARTIFACT_DIR = "mlartifacts"
PROBE_TIMEOUT_S = 3.0
SQLITE_PREFIX = "sqlite:///"


def tracking_uri(workspace: Path) -> str:
    """`MLFLOW_TRACKING_URI` when set, else the workspace's own SQLite store."""
    if uri := os.environ.get(TRACKING_ENV, "").strip():
        return uri
    return SQLITE_PREFIX + str(Path(workspace).resolve() / STORE_FILE)


def sqlite_path(uri: str) -> Path | None:
    """The database file of a `sqlite:///` URI (None for any other kind of store)."""
    if not uri.startswith(SQLITE_PREFIX):
        return None
    return Path(unquote(uri[len(SQLITE_PREFIX) :].split("?")[0])).resolve()


def artifact_root(uri: str) -> str | None:
    """Artifact folder for experiments in a SQLite store (beside the database); None = server's."""
    db = sqlite_path(uri)
    return (db.parent / ARTIFACT_DIR).as_uri() if db else None


#: Columns of MLflow's SQLite store holding artifact locations (file URIs).
LOCATION_COLUMNS = (
    ("experiments", "artifact_location"),
    ("runs", "artifact_uri"),
    ("logged_models", "artifact_location"),
    ("model_versions", "source"),
    ("model_versions", "storage_location"),
)


def relocate(db: Path) -> list[str]:
    """Point a moved or copied workspace's artifact locations at its own `mlartifacts/`.

    MLflow stores absolute file URIs: a moved workspace could not load its models and a copied
    one would write into the original. Any location inside another folder's `mlartifacts/` is
    rewritten to this store's (best effort: a read-only store is left as it is). Returns the
    old roots it rewrote.
    """
    here = (db.parent / ARTIFACT_DIR).as_uri()
    pattern = re.compile(r"^(file://.*/" + ARTIFACT_DIR + r")(/|$)")
    try:
        with contextlib.closing(sqlite3.connect(db)) as con, con:
            found = con.execute("SELECT artifact_location FROM experiments").fetchall()
            olds = {m.group(1) for (loc,) in found if loc and (m := pattern.match(loc))}
            olds.discard(here)
            for old in sorted(olds):
                for table, column in LOCATION_COLUMNS:
                    con.execute(
                        f"UPDATE {table} SET {column} = ? || substr({column}, ?) "
                        f"WHERE substr({column}, 1, ?) = ?",
                        (here, len(old) + 1, len(old), old),
                    )
    except sqlite3.Error:
        return []
    return sorted(olds)


def client_for(uri: str) -> MlflowClient:
    """An MlflowClient bound to `uri` for both tracking and the model registry."""
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def current_client(client: MlflowClient | None = None) -> MlflowClient:
    """`client` if given, else a client on MLflow's current tracking URI (see use_workspace)."""
    if client is not None:
        return client
    import mlflow

    return client_for(mlflow.get_tracking_uri())


def check_store(uri: str, timeout: float = PROBE_TIMEOUT_S) -> None:
    """Fail fast, with one line, when the tracking store cannot be reached or opened."""
    if uri.startswith(("http://", "https://")):
        probe_server(uri, timeout)
    elif uri.startswith("databricks"):
        return
    elif uri.startswith("file:") or "://" not in uri:
        raise UserError(
            f"MLflow tracking URI {uri!r}: file stores are not supported; "
            f"use sqlite:///PATH/{STORE_FILE} or an http(s):// tracking server"
        )
    else:
        open_store(uri)


def probe_server(uri: str, timeout: float = PROBE_TIMEOUT_S) -> None:
    """GET <server>/health with a short timeout instead of MLflow's minute of retries."""
    url = uri.rstrip("/") + "/health"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            if response.status == 200:
                return
            problem = f"answered HTTP {response.status}"
    except urllib.error.HTTPError as error:
        problem = f"answered HTTP {error.code}"
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        problem = f"did not answer within {timeout:g} s ({reason})"
    raise UserError(
        f"MLflow tracking server {uri} {problem}: start it, or unset {TRACKING_ENV} "
        "to use the workspace's own store"
    )


def open_store(uri: str) -> None:
    """Open (and on first use create and migrate) a database store, or raise a UserError."""
    db = sqlite_path(uri)
    if db is not None and not db.parent.is_dir():
        raise UserError(f"MLflow store {uri}: folder {db.parent} does not exist")
    if db is not None and db.is_dir():
        raise UserError(f"MLflow store {uri}: {db} is a folder, not a SQLite database file")
    try:
        client_for(uri).search_experiments(max_results=1)
    except Exception as error:
        first = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise UserError(f"cannot open the MLflow store {uri}: {first[:300]}") from None
    if db is not None:
        relocate(db)


def use_workspace(workspace: Path) -> str:
    """Point this process's MLflow (tracking + registry) at the workspace's store; return its URI.

    Creates the workspace folder and checks the store first (one clear UserError if it is
    unreachable). MLflow's setters also export the URI to the environment; that is undone so
    that `MLFLOW_TRACKING_URI` keeps meaning "what the user set".
    """
    import mlflow

    Path(workspace).mkdir(parents=True, exist_ok=True)
    uri = tracking_uri(workspace)
    check_store(uri)
    saved = {name: os.environ.get(name) for name in (TRACKING_ENV, REGISTRY_ENV)}
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    return uri


def get_or_create_experiment(name: str, client: MlflowClient | None = None) -> str:
    """The id of experiment `name`, created with artifacts inside the workspace if new."""
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    client = client or MlflowClient()
    experiment = client.get_experiment_by_name(name)
    if experiment is None:
        try:
            return client.create_experiment(
                name, artifact_location=artifact_root(client.tracking_uri)
            )
        except MlflowException as error:  # created meanwhile by a concurrent run
            experiment = client.get_experiment_by_name(name)
            if experiment is None:
                raise UserError(f"cannot create MLflow experiment {name!r}: {error}") from None
    if experiment.lifecycle_stage == "deleted":
        raise UserError(
            f"MLflow experiment {name!r} was deleted: restore it with "
            f"`mlflow experiments restore --experiment-id {experiment.experiment_id}` "
            "or choose another --experiment name"
        )
    return experiment.experiment_id


def connect(workspace: Path, create: bool = False) -> MlflowClient:
    """A checked client on the workspace's store; without `create`, a missing store is an error.

    Read-only commands (runs, promote, scoring) should not silently create an empty store in
    a mistyped workspace: they say that nothing has been trained there instead.
    """
    uri = tracking_uri(workspace)
    db = sqlite_path(uri)
    if create:
        Path(workspace).mkdir(parents=True, exist_ok=True)
    elif db is not None and not db.exists():
        raise UserError(
            f"no MLflow store at {db}: nothing has been trained in workspace {workspace} yet "
            "(run `ringwatch train` first, or pass --workspace)"
        )
    check_store(uri)
    return client_for(uri)
