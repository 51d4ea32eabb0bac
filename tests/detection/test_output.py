"""Atomic batch output: lock, overwrite, recovery, and a real run killed half-way."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from common.errors import ExitCode, LockHeld, OutputExists
from detection import output
from tests.detection import score_runner

ROOT = Path(__file__).resolve().parents[2]
DAY = "2024-01-28"


def digests(folder: Path) -> dict[str, str]:
    """sha256 of every file in a folder."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def write(root: Path, text: str, overwrite: bool = False) -> None:
    """A tiny finished batch holding one file."""
    with output.batch_output(root, DAY, overwrite) as folder:
        (folder / "list.txt").write_text(text)


def test_rerun_refuses_without_overwrite_and_replaces_with_it(tmp_path: Path) -> None:
    write(tmp_path, "first")
    with pytest.raises(OutputExists, match="--overwrite") as error:
        write(tmp_path, "second")
    assert error.value.exit_code == ExitCode.OUTPUT_EXISTS
    assert (tmp_path / DAY / "list.txt").read_text() == "first"
    write(tmp_path, "second", overwrite=True)
    assert (tmp_path / DAY / "list.txt").read_text() == "second"
    assert sorted(p.name for p in tmp_path.iterdir()) == [DAY]  # no lock, partial or old left


def test_a_failing_run_changes_nothing(tmp_path: Path) -> None:
    write(tmp_path, "first")
    with pytest.raises(RuntimeError), output.batch_output(tmp_path, DAY, True) as folder:
        (folder / "list.txt").write_text("half")
        raise RuntimeError("crash while writing")
    assert (tmp_path / DAY / "list.txt").read_text() == "first"
    assert sorted(p.name for p in tmp_path.iterdir()) == [DAY]


def test_lock_held_by_a_live_process_refuses(tmp_path: Path) -> None:
    lock = tmp_path / f".{DAY}.lock"
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        record = {
            "pid": sleeper.pid,
            "host": socket.gethostname(),
            "started": output._process_started(sleeper.pid),
            "locked_at": time.time(),
        }
        lock.write_text(json.dumps(record))
        with pytest.raises(LockHeld, match=f"pid {sleeper.pid}") as error:
            write(tmp_path, "x")
        assert error.value.exit_code == ExitCode.LOCK_HELD
        with pytest.raises(LockHeld):
            output.check_free(tmp_path, DAY, overwrite=True)
    finally:
        sleeper.kill()
        sleeper.wait()
    write(tmp_path, "after")  # its holder is gone: the lock is stale and broken
    assert (tmp_path / DAY / "list.txt").read_text() == "after"
    assert not lock.exists()


def test_stale_locks_are_broken_but_other_hosts_locks_are_not(tmp_path: Path) -> None:
    lock = tmp_path / f".{DAY}.lock"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    lock.write_text(json.dumps({"pid": dead.pid, "host": socket.gethostname(), "started": 1.0}))
    write(tmp_path, "one")
    # a reused pid (our own, started at another time) is stale too
    lock.write_text(json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "started": 1.0}))
    write(tmp_path, "two", overwrite=True)
    lock.write_text(json.dumps({"pid": 1, "host": "elsewhere", "started": 1.0}))
    with pytest.raises(LockHeld, match="elsewhere"):
        write(tmp_path, "three", overwrite=True)


def test_recover_restores_an_interrupted_replacement(tmp_path: Path) -> None:
    old = tmp_path / f".{DAY}.old-123"
    old.mkdir()
    (old / "list.txt").write_text("previous")
    partial = tmp_path / f".{DAY}.partial-123-abcd"
    partial.mkdir()
    notes = output.recover(tmp_path, DAY)
    assert (tmp_path / DAY / "list.txt").read_text() == "previous"
    assert not partial.exists() and len(notes) == 2


def test_exchange_swaps_two_folders(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "x").write_text("a")
    (b / "x").write_text("b")
    if not output.exchange(a, b):
        pytest.skip("renameat2 RENAME_EXCHANGE is not supported here (two-rename fallback)")
    assert (a / "x").read_text() == "b" and (b / "x").read_text() == "a"


def wait_for_partial(out: Path, process: subprocess.Popen, needed: str) -> Path:
    """The hidden partial folder of a running scorer once it holds `needed`."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        for folder in out.glob(f".{DAY}.partial-*"):
            if (folder / needed).exists():
                return folder
        if process.poll() is not None:
            pytest.fail(f"scorer exited early: {process.communicate()}")
        time.sleep(0.1)
    pytest.fail("the scorer never reached its pause point")


@pytest.mark.parametrize(
    ("pause_at", "needed"), [("written", "candidates.parquet"), ("publish", "manifest.json")]
)
def test_killing_a_run_half_way_leaves_the_previous_output_intact(
    tmp_path: Path, world, model, pause_at: str, needed: str
) -> None:
    inputs = score_runner.save_inputs(tmp_path / "inputs", world, model)
    out = tmp_path / "out"
    first = score_runner.run(inputs, out, overwrite=False)
    before = digests(first)
    env = {**os.environ, output.PAUSE_AT: pause_at, output.PAUSE_SECONDS: "120"}
    command = [
        sys.executable,
        "-m",
        "tests.detection.score_runner",
        str(inputs),
        str(out),
        "--overwrite",
    ]
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        partial = wait_for_partial(out, process, needed)
        # while it runs, a second run for the same as-of is refused by the lock (exit 3)
        with pytest.raises(LockHeld, match=f"pid {process.pid}") as refused:
            score_runner.run(inputs, out, overwrite=True)
        assert refused.value.exit_code == ExitCode.LOCK_HELD
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert digests(first) == before  # the previous list is untouched
    visible = sorted(p.name for p in out.iterdir() if not p.name.startswith("."))
    assert visible == [DAY]  # no partial folder that looks like a finished list
    assert partial.name.startswith(".") and partial.exists()
    # the next run breaks the dead run's lock, cleans its partial folder and replaces the list
    again = score_runner.run(inputs, out, overwrite=True)
    assert sorted(p.name for p in out.iterdir()) == [DAY]
    assert (again / "manifest.json").exists()
