"""Errors every stage may raise, and the exit codes a scheduler can act on.

User-facing errors are reported as one clear line, never a traceback.

| code | meaning                                                              | scheduler    |
|------|----------------------------------------------------------------------|--------------|
| 0    | the list was written                                                 | done         |
| 1    | unexpected failure (a bug; traceback on stderr)                      | alert        |
| 2    | user or environment error: bad data, options, settings, model        | fix input    |
|      | reference, a model that fails verification; permissions, disk full,  |              |
|      | read-only workspace or store, an --out that is not a folder          |              |
| 3    | another live run holds the lock on this output folder                | retry later  |
| 4    | the output for this as-of already exists (rerun with --overwrite)    | skip / done  |
| 5    | the data is stale: its snapshot (latest time) is older than          | alert        |
|      | input.stale_after_days and its list exists (the export stopped)      |              |
| 130  | interrupted (Ctrl-C / SIGINT): nothing published, no model registered| retry        |

Every failure prints exactly one `error: ...` line on stderr (and, with --json, one JSON line
`{"status": "error", "exit_code": N, "error": "..."}` on stdout); code 1 adds the traceback.
"""

from __future__ import annotations

import errno
import os
import re
from collections.abc import Iterable, Iterator
from enum import IntEnum


class UserError(Exception):
    """A mistake in what the user gave us (data, options, settings); the CLI exits with code 2."""

    exit_code = 2


class ContractError(UserError):
    """An input table breaks the data contract: names the file, the column and the problem."""

    def __init__(
        self, file: str, problem: str, column: str | None = None, examples: Iterable = ()
    ) -> None:
        self.file, self.column, self.problem = file, column, problem
        self.examples = [repr(e) for e in list(examples)[:5]]
        where = f"{file}: column '{column}'" if column else file
        tail = f" (e.g. {', '.join(self.examples)})" if self.examples else ""
        super().__init__(f"{where}: {problem}{tail}")


class ExitCode(IntEnum):
    """Process exit codes of `ringwatch score` and `ringwatch feedback`."""

    OK = 0
    FAILED = 1
    USER_ERROR = 2
    LOCK_HELD = 3
    OUTPUT_EXISTS = 4
    STALE = 5
    INTERRUPTED = 130


class LockHeld(UserError):
    """Another live process is writing the same output (or labels) right now."""

    exit_code = ExitCode.LOCK_HELD


class OutputExists(UserError):
    """The output folder for this as-of date exists and --overwrite was not given."""

    exit_code = ExitCode.OUTPUT_EXISTS


class StaleData(UserError):
    """The snapshot taken from the data is old and already listed: the export stopped updating."""

    exit_code = ExitCode.STALE


#: errno values that mean "the machine or its setup", not a bug: reported as one line, exit 2.
ENVIRONMENT_ERRNOS = {
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.EROFS: "read-only file system",
    errno.ENOSPC: "disk full (no space left on device)",
    errno.EDQUOT: "disk quota exceeded",
    errno.EEXIST: "already exists",
    errno.ENOTDIR: "not a folder",
    errno.EISDIR: "is a folder",
    errno.ENOENT: "no such file or folder",
    errno.EMFILE: "too many open files",
    errno.ENAMETOOLONG: "file name too long",
    errno.EIO: "input/output error",
    errno.EFBIG: "file too large (a file-size limit was reached)",
}
#: What SQLite says (through SQLAlchemy and MLflow) when the machine is the problem.
SQLITE_PROBLEMS = {
    "database or disk is full": "disk full (no space left on device)",
    "attempt to write a readonly database": "read-only database (permission denied)",
    "unable to open database file": "cannot open the database file",
    "disk i/o error": "input/output error",
}


def _chain(error: BaseException) -> Iterator[BaseException]:
    """`error` and the exceptions it was raised from or during, outermost first."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        yield error
        error = error.__cause__ or error.__context__


def environment_problem(error: BaseException) -> str | None:
    """One line for a failure caused by the environment (permissions, disk full, read-only
    store, a path of the wrong kind), found anywhere in the exception chain; None for a bug."""
    for link in _chain(error):
        if isinstance(link, OSError) and link.errno in ENVIRONMENT_ERRNOS:
            where = link.filename or ""
            return (
                f"{where}: {ENVIRONMENT_ERRNOS[link.errno]}"
                if where
                else (ENVIRONMENT_ERRNOS[link.errno])
            )
        text = str(link).lower()
        code = re.search(r"\(os error (\d+)\)", text)  # Rust-side IO errors (polars)
        if code and int(code.group(1)) in ENVIRONMENT_ERRNOS:
            return ENVIRONMENT_ERRNOS[int(code.group(1))]
        for needle, problem in SQLITE_PROBLEMS.items():
            if needle in text:
                return f"the MLflow store: {problem}"
    return None


LOW_SPACE = 1 << 20  # bytes: a file system with less free space than this counts as full


def full_disk(paths: Iterable[object]) -> str | None:
    """'PATH: disk full ...' when a file system holding one of `paths` (or its nearest existing
    parent) is out of space: some writers (polars' Parquet) lose the OS error on a full disk."""
    from pathlib import Path

    for value in paths:
        if not isinstance(value, Path):
            continue
        place = value.absolute()
        while not place.exists() and place != place.parent:
            place = place.parent
        try:
            stats = os.statvfs(place)
        except OSError:
            continue
        if stats.f_bavail * stats.f_frsize < LOW_SPACE:
            return f"{value}: disk full (less than 1 MiB left on its file system)"
    return None
