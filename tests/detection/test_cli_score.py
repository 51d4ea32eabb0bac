"""`ringwatch score` / `ringwatch feedback` from the command line: exit codes and --json."""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path

from typer.testing import CliRunner

from common.errors import ExitCode
from detection.cli import app
from tests.detection.test_feedback import ROWS, data_folder, decisions

runner = CliRunner()


def score(*args: str):  # -> click.testing.Result
    """Run `ringwatch score` in-process."""
    return runner.invoke(app, ["score", *args])


def test_capacity_and_min_precision_together_exit_2_with_a_json_line(tmp_path: Path) -> None:
    result = score(
        str(tmp_path),
        "--out",
        str(tmp_path / "out"),
        "--capacity",
        "5",
        "--min-precision",
        "0.9",
        "--json",
    )
    assert result.exit_code == ExitCode.USER_ERROR
    line = json.loads(result.stdout.strip())
    assert line["status"] == "error" and line["exit_code"] == 2
    assert "either --capacity or --min-precision" in result.stderr
    assert "Traceback" not in result.stderr


def test_thresholds_out_of_order_exit_2_naming_them(tmp_path: Path) -> None:
    result = score(str(tmp_path), "--out", str(tmp_path / "out"), "--close-at", "0.5")
    assert result.exit_code == ExitCode.USER_ERROR
    assert "watch <= review <= close" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_existing_list_exits_4_before_any_work(tmp_path: Path) -> None:
    (tmp_path / "out" / "2024-01-28").mkdir(parents=True)
    result = score(
        str(tmp_path / "no-data"), "--out", str(tmp_path / "out"), "--as-of", "2024-01-28T12:00:00"
    )
    assert result.exit_code == ExitCode.OUTPUT_EXISTS
    assert "--overwrite" in result.stderr


def test_a_live_lock_exits_3(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    record = {"pid": os.getpid(), "host": socket.gethostname(), "locked_at": time.time()}
    (out / ".2024-01-28.lock").write_text(json.dumps(record))
    result = score(
        str(tmp_path), "--out", str(out), "--as-of", "2024-01-28", "--json", "--overwrite"
    )
    assert result.exit_code == ExitCode.LOCK_HELD
    assert json.loads(result.stdout)["exit_code"] == 3


def test_feedback_command(tmp_path: Path) -> None:
    folder = data_folder(tmp_path)
    path = decisions(tmp_path, ROWS)
    result = runner.invoke(app, ["feedback", str(path), "--data", str(folder), "--json"])
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert (summary["labels_added"], summary["escalated"]) == (2, 1)
    bad = decisions(tmp_path, "a9,closed,2024-02-01,ann,\n", "bad.csv")
    result = runner.invoke(app, ["feedback", str(bad), "--data", str(folder)])
    assert result.exit_code == ExitCode.USER_ERROR
    assert result.stderr.strip().count("\n") == 0 and "row 2" in result.stderr


def test_exit_codes_are_documented_in_the_help() -> None:
    text = " ".join(runner.invoke(app, ["score", "--help"], terminal_width=200).stdout.split())
    described = "0 written, 1 failure, 2 user error, 3 locked by another run, 4 list exists"
    assert described in text
    assert "5 stale data" in text
    assert [int(c) for c in ExitCode] == [0, 1, 2, 3, 4, 5, 130]
