"""Fault injection: hostile input, damaged artifacts and a failing machine, end to end.

Each case runs the real command on a small simulated world (2,000 accounts, two weeks) and
asserts what a batch job's owner relies on: the exit code, exactly one `error:` line (and one
JSON line with --json), and the previous list untouched, byte for byte.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from detection.cli import app

runner = CliRunner()
IS_ROOT = os.geteuid() == 0
RINGWATCH = str(Path(sys.executable).with_name("ringwatch"))  # the installed CLI


def ringwatch(*args: str):  # -> click.testing.Result
    """Run a command in-process."""
    return runner.invoke(app, [str(a) for a in args])


def error_lines(stderr: str) -> list[str]:
    """The `error:` lines of a run's stderr."""
    return [line for line in stderr.splitlines() if line.startswith("error:")]


def assert_one_error(result, code: int, *words: str) -> str:
    """Exit `code`, exactly one `error:` line holding `words`, no traceback; return the line."""
    stderr = result.stderr
    assert result.exit_code == code, (result.exit_code, stderr[-2000:], result.exception)
    assert "Traceback" not in stderr
    lines = error_lines(stderr)
    assert len(lines) == 1, stderr
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file of a folder tree and its bytes (to prove a list was not touched)."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A simulated world, a model trained on it, its feature cache and one finished list."""
    from experiments.simulate import WorldConfig, simulate_world, write_world
    from features.io.load import load_dataset
    from features.pipeline import feature_table
    from training.config import TrainConfig
    from training.fit import fit_model

    root = tmp_path_factory.mktemp("faults")
    data, model, workspace = root / "world", root / "model", root / "ws"
    write_world(simulate_world(WorldConfig(accounts=2000, weeks=2, seed=3).check()), data)
    ds = load_dataset(data)
    table = feature_table(ds, workspace / "feature-cache")
    fit = fit_model(
        table.frame, ds.labels, table.rings.components, TrainConfig(), graphs=table.graphs
    )
    fit.model.save(model)
    lists = root / "lists"
    result = ringwatch("score", data, "--model", model, "--out", lists, "--workspace", workspace)
    assert result.exit_code == 0, result.stderr
    return {"data": data, "model": model, "workspace": workspace, "lists": lists}


@pytest.fixture(scope="module")
def as_of(base: dict[str, Path]) -> str:
    """The date of the baseline list (the world's latest event)."""
    return next(base["lists"].iterdir()).name


@pytest.fixture
def lists(base: dict[str, Path], tmp_path: Path) -> Path:
    """A private copy of the output root holding the baseline list."""
    return Path(shutil.copytree(base["lists"], tmp_path / "lists"))


def data_copy(base: dict[str, Path], tmp_path: Path) -> Path:
    """A private copy of the world's data folder (without truth)."""
    folder = Path(shutil.copytree(base["data"], tmp_path / "data"))
    (folder / "truth.parquet").unlink()
    return folder


def score(base: dict[str, Path], data: Path, out: Path, *extra: str):
    """`ringwatch score` with the test model and workspace."""
    model = extra[extra.index("--model") + 1] if "--model" in extra else base["model"]
    extra = tuple(e for i, e in enumerate(extra) if "--model" not in (e, extra[i - 1]))
    return ringwatch(
        "score", data, "--model", model, "--out", out, "--workspace", base["workspace"], *extra
    )


# --- hostile input -------------------------------------------------------------------------------


def test_far_future_events_are_refused_and_the_snapshot_does_not_move(as_of, base, lists, tmp_path):
    data = data_copy(base, tmp_path)
    events = pl.read_parquet(data / "events.parquet")
    stray = events.head(3).with_columns(ts=pl.lit(datetime(2999, 1, 1, tzinfo=UTC)))
    pl.concat([events, stray]).write_parquet(data / "events.parquet")
    before = snapshot(lists)
    result = score(base, data, lists, "--json")
    line = assert_one_error(result, 2, "events.parquet", "'ts'", "3 timestamps outside")
    assert "2999-01-01" in line
    assert json.loads(result.stdout)["exit_code"] == 2
    assert snapshot(lists) == before and sorted(p.name for p in lists.iterdir()) == [as_of]


def test_year_one_in_a_csv_is_refused(base, tmp_path):
    data = data_copy(base, tmp_path)
    accounts = pl.read_parquet(data / "accounts.parquet").with_columns(
        pl.col("created_at").cast(pl.String)
    )
    accounts = accounts.with_columns(
        created_at=pl.when(pl.int_range(pl.len()) == 5)
        .then(pl.lit("0001-01-01"))
        .otherwise("created_at")
    )
    (data / "accounts.parquet").unlink()
    accounts.write_csv(data / "accounts.csv")
    assert_one_error(ringwatch("validate", data), 2, "accounts.csv", "'created_at'", "0001-01-01")


def test_an_export_that_stopped_updating_is_stale_not_done(as_of, base, lists):
    """The simulated world is years old: its snapshot (the latest event) is stale. Its list
    was written minutes ago (a re-cut is fine); once that is over 12 hours ago, a rerun is
    exit 5, --overwrite or not, and the list stays as it was."""
    assert score(base, base["data"], lists, "--overwrite").exit_code == 0
    manifest = lists / as_of / "manifest.json"
    record = json.loads(manifest.read_text())
    assert any("has the export stopped updating" in w for w in record["inputs"]["warnings"])
    record["created_at"] = "2024-01-01T00:00:00+00:00"
    manifest.write_text(json.dumps(record))
    before = snapshot(lists)
    for extra in ((), ("--overwrite",)):
        result = score(base, base["data"], lists, *extra, "--json")
        assert_one_error(result, 5, "has the export stopped updating", "--as-of")
        assert json.loads(result.stdout)["exit_code"] == 5
    assert snapshot(lists) == before
    assert score(base, base["data"], lists, "--as-of", as_of).exit_code == 4  # on purpose


def test_temporary_and_hidden_parts_are_skipped_by_name(as_of, base, lists, tmp_path):
    data = data_copy(base, tmp_path)
    events = pl.read_parquet(data / "events.parquet")
    (data / "events.parquet").unlink()
    parts = data / "events"
    (parts / "_temporary" / "0").mkdir(parents=True)
    half = events.height // 2
    events.head(half).write_parquet(parts / "part-00000.parquet")
    events.slice(half).write_parquet(parts / "part-00001.parquet")
    events.head(1000).write_parquet(parts / "_temporary" / "0" / "part-00001.parquet")
    events.head(1000).write_parquet(parts / ".part-00002.parquet")
    (parts / "_SUCCESS").write_text("")
    result = ringwatch("validate", data)
    assert result.exit_code == 0, result.stderr
    assert "skipped 3 hidden or temporary" in result.stdout
    assert "_temporary/0/part-00001.parquet" in result.stdout
    from features.io.load import load_dataset

    assert load_dataset(data).n_events == load_dataset(base["data"]).n_events
    out = tmp_path / "again"
    again = score(base, data, out, "--json")
    assert again.exit_code == 0, again.stderr
    same = pl.read_parquet(lists / as_of / "candidates.parquet")["account_id"]
    assert pl.read_parquet(out / as_of / "candidates.parquet")["account_id"].equals(same)


def test_a_part_with_a_renamed_column_is_named(base, tmp_path):
    data = data_copy(base, tmp_path)
    events = pl.read_parquet(data / "events.parquet")
    (data / "events.parquet").unlink()
    (data / "events").mkdir()
    events.head(100).write_parquet(data / "events" / "part-0.parquet")
    events.slice(100).rename({"ip": "ip_addr"}).write_parquet(data / "events" / "part-1.parquet")
    assert_one_error(ringwatch("validate", data), 2, "part-1.parquet", "missing: ip", "ip_addr")


@pytest.mark.parametrize("column", ["account_id", "category"])
def test_a_repeated_header_name_is_refused(base, tmp_path, column):
    data = data_copy(base, tmp_path)
    accounts = pl.read_parquet(data / "accounts.parquet")
    (data / "accounts.parquet").unlink()
    text = accounts.write_csv()
    header, rest = text.split("\n", 1)
    names = header.split(",")
    names[-1] = column  # the last column mislabelled
    (data / "accounts.csv").write_text(",".join(names) + "\n" + rest)
    assert_one_error(ringwatch("validate", data), 2, "accounts.csv", column, "more than once")


# --- damaged artifacts ---------------------------------------------------------------------------


def test_a_tampered_booster_is_refused_and_lightgbm_stays_quiet(base, lists, tmp_path):
    model = Path(shutil.copytree(base["model"], tmp_path / "model"))
    text = (model / "booster.txt").read_bytes()
    cut = text.index(b"Tree=3")
    (model / "booster.txt").write_bytes(text[:cut])  # truncated: used to crash LightGBM
    before = snapshot(lists)
    result = score(base, base["data"], lists, "--model", str(model), "--overwrite", "--json")
    assert_one_error(result, 2, "booster.txt", "sha256")
    assert "LightGBM" not in result.stdout
    assert json.loads(result.stdout)["exit_code"] == 2  # stdout is the JSON line alone
    assert snapshot(lists) == before


def test_a_damaged_earlier_list_and_cache_entry_are_skipped_by_name(as_of, base, tmp_path):
    out = tmp_path / "lists"
    shutil.copytree(base["lists"] / as_of, out / "2024-01-08")
    older = pl.read_parquet(out / "2024-01-08" / "candidates.parquet").drop("ring_id")
    older.write_parquet(out / "2024-01-08" / "candidates.parquet")
    workspace = Path(shutil.copytree(base["workspace"], tmp_path / "ws"))
    for entry in (workspace / "feature-cache").iterdir():
        if entry.is_dir():  # beside the entries: input-hashes.json
            (entry / "features.parquet").write_bytes(b"PAR1 not really")
    result = ringwatch(
        "score", base["data"], "--model", base["model"], "--out", out, "--workspace", workspace
    )
    assert result.exit_code == 0, result.stderr
    assert "2024-01-08/candidates.parquet lacks column(s) ring_id" in result.stderr
    assert "feature cache entry" in result.stderr and "rebuilding" in result.stderr
    manifest = json.loads((out / as_of / "manifest.json").read_text())
    assert any("ring_id" in w for w in manifest["inputs"]["warnings"])
    rebuilt = ringwatch(
        "score",
        base["data"],
        "--model",
        base["model"],
        "--out",
        out,
        "--workspace",
        workspace,
        "--overwrite",
    )
    assert "reusing the feature table" in rebuilt.stderr


def test_formula_ids_are_neutralised_in_csv_outputs(as_of, base, tmp_path):
    data = data_copy(base, tmp_path)
    top = pl.read_parquet(base["lists"] / as_of / "candidates.parquet")["account_id"].head(4)
    evil = dict(zip(top, ["=1+1", "+cmd|' /C calc'!A0", "@SUM(1,2)", "-2+3"], strict=True))
    for name, columns in {
        "accounts": ["account_id"],
        "events": ["account_id", "target_id"],
        "edges": ["src", "dst"],
        "labels": ["account_id"],
    }.items():
        frame = pl.read_parquet(data / f"{name}.parquet")
        frame = frame.with_columns(pl.col(c).replace(evil) for c in columns)
        frame.write_parquet(data / f"{name}.parquet")
    out = tmp_path / "out"
    result = score(base, data, out)
    assert result.exit_code == 0, result.stderr
    for file in ("candidates.csv", "changes.csv"):
        cells = pl.read_csv(out / as_of / file, infer_schema=False)
        for column in cells.columns:
            values = cells[column].drop_nulls()
            text = values.filter(values.cast(pl.Float64, strict=False).is_null())  # not numbers
            assert not text.str.contains(r"^[=+\-@\t\r]").any(), (file, column)
    ids = pl.read_csv(out / as_of / "candidates.csv", infer_schema=False)["account_id"]
    assert {"'=1+1", "'@SUM(1,2)"} <= set(ids)
    assert set(evil.values()) <= set(
        pl.read_parquet(out / as_of / "candidates.parquet")["account_id"]
    )


# --- the machine ---------------------------------------------------------------------------------


def test_out_that_is_a_file_is_one_line_before_any_work(base, tmp_path):
    file = tmp_path / "lists"
    file.write_text("not a folder")
    result = score(base, base["data"], file, "--json")
    assert_one_error(result, 2, "--out must be a folder")
    assert json.loads(result.stdout)["status"] == "error"


def test_features_out_a_folder_or_an_existing_file_fails_before_the_work(base, tmp_path):
    assert_one_error(ringwatch("features", base["data"], "--out", tmp_path), 2, "is a folder")
    existing = tmp_path / "f.parquet"
    existing.write_text("keep")
    assert_one_error(ringwatch("features", base["data"], "--out", existing), 2, "--overwrite")
    assert existing.read_text() == "keep"


@pytest.mark.parametrize("kind", ["file", "symlink"])
def test_overwrite_onto_a_date_that_is_not_a_folder_publishes_nothing(
    as_of, base, lists, tmp_path, kind
):
    target = lists / as_of
    shutil.rmtree(target)
    if kind == "file":
        target.write_text("x")
    else:
        target.symlink_to(tmp_path)
    result = score(base, base["data"], lists, "--overwrite")
    assert_one_error(result, 2, f"is a {'file' if kind == 'file' else 'symbolic link'}")
    assert [p.name for p in lists.iterdir()] == [as_of]


@contextlib.contextmanager
def mounted(folder: Path, size: str, read_only: bool = False) -> Iterator[Path]:
    """A tmpfs of `size` at `folder` (root only), optionally remounted read-only."""
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], check=True)
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def make_read_only(folder: Path) -> None:
    """Remount a tmpfs read-only (root), else drop the write permission bits."""
    if IS_ROOT:
        subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True)
    else:
        for path in [folder, *folder.rglob("*")]:
            path.chmod(path.stat().st_mode & ~0o222)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A folder on its own small file system (root: a tmpfs), or a plain folder otherwise."""
    folder = tmp_path / "disk"
    if IS_ROOT:
        with mounted(folder, "8m"):
            yield folder
    else:
        folder.mkdir()
        yield folder
        for path in [folder, *folder.rglob("*")]:
            path.chmod(0o755)


def test_a_read_only_output_root_is_one_line_and_the_list_stays(base, small_disk):
    lists = Path(shutil.copytree(base["lists"], small_disk / "lists"))
    before = snapshot(lists)
    make_read_only(small_disk)
    result = score(base, base["data"], lists, "--overwrite", "--json")
    assert_one_error(result, 2, "not writable")
    assert json.loads(result.stdout)["exit_code"] == 2
    assert snapshot(lists) == before


def test_a_read_only_workspace_fails_train_in_one_line(base, small_disk):
    workspace = small_disk / "ws"
    workspace.mkdir()
    make_read_only(small_disk)
    result = ringwatch("train", base["data"], "--workspace", workspace)
    assert result.exit_code == 2, result.stderr
    assert len(error_lines(result.stderr)) == 1 and "Traceback" not in result.stderr


def test_a_full_disk_is_said_and_the_previous_list_stays(base, tmp_path):
    """The new list does not fit: `disk full` (tmpfs, as root) or the file-size limit."""
    folder = tmp_path / "disk"
    with contextlib.ExitStack() as stack:
        if IS_ROOT:
            size = sum(len(b) for b in snapshot(base["lists"]).values())
            stack.enter_context(mounted(folder, str(size + 64 * 1024)))
        else:
            folder.mkdir()
        lists = Path(shutil.copytree(base["lists"], folder / "lists"))
        before = snapshot(lists)
        run = subprocess.run(
            [
                RINGWATCH,
                "score",
                str(base["data"]),
                "--model",
                str(base["model"]),
                "--out",
                str(lists),
                "--workspace",
                str(base["workspace"]),
                "--overwrite",
            ],
            capture_output=True,
            text=True,
            preexec_fn=None if IS_ROOT else limit_file_size,
            timeout=600,
        )
        assert run.returncode == 2, run.stderr[-2000:]
        lines = error_lines(run.stderr)
        assert len(lines) == 1 and "Traceback" not in run.stderr
        assert ("disk full" if IS_ROOT else "file too large") in lines[0]
        assert snapshot(lists) == before
        assert not [p for p in lists.iterdir() if ".partial-" in p.name]


def limit_file_size() -> None:
    """In the child: files may not grow past 64 KiB, and going past fails the write (EFBIG)."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))


def test_partials_and_locks_of_dead_runs_are_swept(as_of, base, lists):
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    partial = lists / f".2024-01-01.partial-{dead}-abcd"
    partial.mkdir()
    (partial / "candidates.parquet").write_text("half")
    lock = lists / ".2024-01-01.lock"
    lock.write_text(json.dumps({"pid": int(dead), "host": os.uname().nodename, "started": 1.0}))
    result = score(base, base["data"], lists, "--overwrite")
    assert result.exit_code == 0, result.stderr
    assert sorted(p.name for p in lists.iterdir()) == [as_of]


def test_as_of_before_all_data_and_a_folder_as_store_fail_fast(base, tmp_path, monkeypatch):
    result = score(base, base["data"], tmp_path / "out", "--as-of", "1999-01-01")
    assert_one_error(result, 2, "no account exists at the snapshot 1999-01-01")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path}")
    assert_one_error(ringwatch("runs", "list", "--json"), 2, "is a folder")


@pytest.mark.parametrize(
    "args, words",
    [
        (["score", "--json"], "Missing argument"),
        (["score", "data", "--out", "lists", "--bogus", "--json"], "No such option: --bogus"),
        (["runs", "list", "--limit", "many", "--json"], "--limit"),
        (["scor", "--json"], "No such command"),
    ],
)
def test_usage_errors_under_json_are_one_json_line_and_exit_2(args, words):
    result = ringwatch(*args)
    assert result.exit_code == 2
    [line] = result.stdout.splitlines()
    failure = json.loads(line)
    assert failure["status"] == "error" and failure["exit_code"] == 2
    assert words in failure["error"]


def test_usage_errors_without_json_leave_stdout_empty():
    assert ringwatch("score", "--bogus").stdout == ""


@pytest.mark.slow
def test_sigint_during_train_registers_nothing_and_leaves_no_run_running(
    base, tmp_path, mlflow_template_store
):
    from tests.conftest import _copy_store

    # The signal races the run's own progress: on a loaded machine it has once been seen to
    # miss (exit 0, model registered; not reproduced alone). Up to 3 tries, each in a fresh
    # workspace, so a real "Ctrl-C is swallowed" bug still fails every try.
    for attempt in range(3):
        workspace = Path(shutil.copytree(base["workspace"], tmp_path / f"ws{attempt}"))
        _copy_store(
            mlflow_template_store,
            workspace / "mlflow.db",
            (workspace / "mlartifacts" / "0").as_uri(),
        )
        process, err = _interrupted_train(base["data"], workspace)
        if process.returncode == 130:
            break
    assert process.returncode == 130, err[-2000:]
    assert len(error_lines(err)) == 1 and "Traceback" not in err
    with contextlib.closing(sqlite3.connect(workspace / "mlflow.db")) as db:
        statuses = {s for (s,) in db.execute("SELECT status FROM runs")}
        versions = db.execute("SELECT count(*) FROM model_versions").fetchone()[0]
    assert statuses <= {"KILLED", "FAILED"} and versions == 0


def _interrupted_train(data: Path, workspace: Path) -> tuple[subprocess.Popen, str]:
    """Run `ringwatch train` and send it SIGINT once it starts logging the run."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    env["PYTHONUNBUFFERED"] = "1"
    command = [RINGWATCH, "train", str(data), "--workspace", str(workspace)]
    process = subprocess.Popen(
        command, stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env
    )
    for line in process.stderr:
        if "logging the run" in line:
            process.send_signal(signal.SIGINT)
            break
    _, err = process.communicate(timeout=600)
    return process, err
