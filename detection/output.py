"""Atomic batch output: a run writes into a hidden partial folder and renames it into place.

- `DIR/<name>/` only ever holds a finished list: everything is written to
  `DIR/.<name>.partial-<pid>-<token>/` and renamed in one step at the end. A crash or kill
  leaves the previous output untouched and only a hidden partial folder, which the next run
  for that name removes.
- A rerun for the same name refuses (OutputExists, exit 4) unless `overwrite`; then the new
  folder replaces the old one with one atomic exchange (Linux renameat2 RENAME_EXCHANGE);
  where that is not supported, two renames plus recovery by the next run.
- A lock file `DIR/.<name>.lock` (created with O_EXCL; holds pid, host and the process start
  time) stops two runs writing the same folder (LockHeld, exit 3). A lock whose process is
  gone (or whose pid was reused by another process) on this host is stale and is broken.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import json
import os
import secrets
import shutil
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import polars as pl
import psutil

from common.errors import LockHeld, OutputExists, UserError

#: Test hook: the writer sleeps this many seconds at `checkpoint(...)` named in PAUSE_AT.
PAUSE_AT = "RINGWATCH_PAUSE_AT"
PAUSE_SECONDS = "RINGWATCH_PAUSE_SECONDS"
FRESH_S = 2.0  # an empty lock file younger than this is being written, not stale
RENAME_EXCHANGE = 2
AT_FDCWD = -100
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")  # OWASP CSV injection


def neutralise_formulas(frame: pl.DataFrame) -> pl.DataFrame:
    """Text cells a spreadsheet would run as a formula, prefixed with a quote (OWASP advice)."""
    pattern = "^[" + "".join("\\" + c if c in "-+" else c for c in FORMULA_PREFIXES) + "]"
    risky = [name for name, dtype in frame.schema.items() if dtype == pl.String]
    return frame.with_columns(
        pl.when(pl.col(n).str.contains(pattern))
        .then(pl.lit("'") + pl.col(n))
        .otherwise(pl.col(n))
        .alias(n)
        for n in risky
    )


def write_csv(frame: pl.DataFrame, path: Path) -> None:
    """A CSV for people (spreadsheets): formula-like text neutralised."""
    neutralise_formulas(frame).write_csv(path)


def _process_started(pid: int) -> float | None:
    """The start time of process `pid`, or None when there is no such process."""
    try:
        return psutil.Process(pid).create_time()
    except (psutil.NoSuchProcess, psutil.ZombieProcess):
        return None
    except psutil.AccessDenied:
        return -1.0  # alive, start time unknown


def _owner() -> dict:
    """What a lock file records about the process holding it."""
    return {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "started": _process_started(os.getpid()),
        "locked_at": time.time(),
    }


def _read(path: Path) -> dict | None:
    """A lock file's record; None if it vanished; {} if unreadable (a crash mid-write)."""
    try:
        return json.loads(path.read_text() or "{}")
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {}


def _age(path: Path) -> float:
    """Seconds since `path` was last modified (0 if it vanished)."""
    try:
        return time.time() - path.stat().st_mtime
    except FileNotFoundError:
        return 0.0


def is_stale(record: dict) -> bool:
    """Whether a lock's holder is certainly gone: same host and its process no longer runs.

    An empty or unreadable record is stale (its holder died while writing it); callers give
    a brand-new empty lock FRESH_S seconds first.
    """
    if not record:
        return True
    if record.get("host") != socket.gethostname():
        return False  # cannot see processes of another host
    started = _process_started(int(record.get("pid", -1)))
    if started is None:
        return True
    recorded = record.get("started")
    return bool(recorded and started > 0 and abs(started - float(recorded)) > 1.0)


def _describe(record: dict, path: Path) -> str:
    """One line saying who holds a lock."""
    who = f"pid {record.get('pid')} on {record.get('host')}" if record else "an unknown process"
    since = record.get("locked_at")
    when = time.strftime(" since %Y-%m-%d %H:%M:%S", time.localtime(since)) if since else ""
    return f"{path}: held by {who}{when}; another run is writing this output (exit 3)"


def _create(path: Path) -> bool:
    """Create the lock file exclusively with our record; False if it already exists."""
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w") as handle:
        handle.write(json.dumps(_owner()))
        handle.flush()
        os.fsync(handle.fileno())
    return True


def _break_stale(path: Path, seen: dict) -> None:
    """Move a stale lock aside; if what was moved is not what we judged stale, put it back."""
    aside = path.with_name(f"{path.name}.stale-{os.getpid()}-{secrets.token_hex(4)}")
    try:
        os.rename(path, aside)
    except FileNotFoundError:
        return
    moved = _read(aside)
    if moved == seen or moved is None or is_stale(moved):
        aside.unlink(missing_ok=True)
        return
    with contextlib.suppress(FileExistsError):  # someone took the lock meanwhile: restore it
        os.link(aside, path)
    aside.unlink(missing_ok=True)


def acquire(path: Path) -> None:
    """Take the lock file `path` or raise LockHeld naming its holder."""
    for _ in range(100):
        if _create(path):
            return
        record = _read(path)
        if record is None:
            continue  # released meanwhile
        if record == {} and _age(path) < FRESH_S:
            time.sleep(0.05)  # its holder is still writing its record
            continue
        if not is_stale(record):
            raise LockHeld(_describe(record, path))
        _break_stale(path, record)
    raise LockHeld(_describe(_read(path) or {}, path))


def release(path: Path) -> None:
    """Remove the lock file if it is still ours."""
    record = _read(path)
    if record and record.get("pid") == os.getpid() and record.get("host") == socket.gethostname():
        path.unlink(missing_ok=True)


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold the lock file `path` for the duration of the block."""
    acquire(path)
    try:
        yield
    finally:
        release(path)


def _fsync_dir(folder: Path) -> None:
    """Make renames inside `folder` durable."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (renameat2 RENAME_EXCHANGE); False where unsupported."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return False
    result = renameat2(AT_FDCWD, os.fsencode(a), AT_FDCWD, os.fsencode(b), RENAME_EXCHANGE)
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(a))


def publish(partial: Path, final: Path) -> None:
    """Put the finished `partial` folder at `final`, replacing an existing one atomically."""
    if not final.exists():
        os.rename(partial, final)
    elif exchange(partial, final):
        shutil.rmtree(partial)  # now holds the replaced output
    else:
        old = final.with_name(f".{final.name}.old-{os.getpid()}")
        os.rename(final, old)  # a crash here is undone by `recover`
        os.rename(partial, final)
        shutil.rmtree(old)
    _fsync_dir(final.parent)


def recover(root: Path, name: str) -> list[str]:
    """Clean up after crashed runs of `name` (call with its lock held): restore a replaced
    output if the replacement never landed, remove partial and leftover folders."""
    notes = []
    final = root / name
    for old in sorted(root.glob(f".{name}.old-*")):
        if not final.exists():
            os.rename(old, final)
            notes.append(f"restored {final} from an interrupted replacement")
        else:
            shutil.rmtree(old, ignore_errors=True)
    for partial in sorted(root.glob(f".{name}.partial-*")):
        shutil.rmtree(partial, ignore_errors=True)
        notes.append(f"removed the partial output {partial.name} of an interrupted run")
    return notes


def _partial_owner(partial: Path) -> int | None:
    """The pid in a partial folder's name `.NAME.partial-PID-TOKEN` (None if unreadable)."""
    pid = partial.name.rpartition(".partial-")[2].split("-")[0]
    return int(pid) if pid.isdigit() else None


def sweep(root: Path) -> list[str]:
    """Remove what killed runs of any name left in `root`: partial folders whose writing
    process is gone and lock files whose owner is gone (live runs' files are left alone)."""
    notes = []
    for partial in sorted(root.glob(".*.partial-*")):
        pid = _partial_owner(partial)
        if partial.is_dir() and pid is not None and _process_started(pid) is None:
            shutil.rmtree(partial, ignore_errors=True)
            notes.append(f"removed the partial output {partial.name} of an interrupted run")
    for lock in sorted(root.glob(".*.lock")):
        record = _read(lock)
        if record and is_stale(record):
            _break_stale(lock, record)
            notes.append(f"removed the stale lock {lock.name} of an interrupted run")
    return notes


def check_root(root: Path) -> None:
    """A UserError when the output root or a list folder in it cannot hold a list."""
    root = Path(root)
    if root.exists() and not root.is_dir():
        raise UserError(f"{root}: --out must be a folder, but it is a file")
    if root.is_dir() and not os.access(root, os.W_OK | os.X_OK):
        raise UserError(f"{root}: output folder is not writable")


def check_target(final: Path) -> None:
    """A UserError when the list's place is taken by something that is not a list folder."""
    if final.is_symlink() or (final.exists() and not final.is_dir()):
        kind = "a symbolic link" if final.is_symlink() else "a file"
        raise UserError(f"{final}: is {kind}, not a list folder; move it away and rerun")


def checkpoint(step: str) -> None:
    """Fault-injection point for tests: sleep at `step` when RINGWATCH_PAUSE_AT names it."""
    if os.environ.get(PAUSE_AT) == step:
        time.sleep(float(os.environ.get(PAUSE_SECONDS, "60")))


@contextmanager
def batch_output(root: Path, name: str, overwrite: bool = False) -> Iterator[Path]:
    """Yield an empty hidden folder to write into; on success it becomes `root/name`.

    Raises OutputExists when `root/name` exists and not `overwrite`, LockHeld when another
    live run holds the lock. On any error the partial folder is removed and nothing changes.
    """
    root = Path(root)
    check_root(root)
    root.mkdir(parents=True, exist_ok=True)
    final = root / name
    sweep(root)
    with locked(root / f".{name}.lock"):
        recover(root, name)
        check_target(final)
        if final.exists() and not overwrite:
            raise OutputExists(
                f"{final}: a list for this as-of already exists; pass --overwrite to replace it"
            )
        partial = root / f".{name}.partial-{os.getpid()}-{secrets.token_hex(4)}"
        partial.mkdir()
        try:
            yield partial
            checkpoint("publish")
            publish(partial, final)
        finally:
            if partial.exists():
                shutil.rmtree(partial, ignore_errors=True)


def check_free(root: Path, name: str, overwrite: bool) -> None:
    """Fail early (before the expensive work) when the output exists or is locked."""
    final, lock = Path(root) / name, Path(root) / f".{name}.lock"
    check_root(root)
    check_target(final)
    if final.exists() and not overwrite:
        raise OutputExists(
            f"{final}: a list for this as-of already exists; pass --overwrite to replace it"
        )
    record = _read(lock)
    if record and not is_stale(record):
        raise LockHeld(_describe(record, lock))
