"""Errors every stage may raise, and the exit codes a scheduler can act on.

User-facing errors are reported as one clear line, never a traceback.

| code | meaning                                                              | scheduler    |
|------|----------------------------------------------------------------------|--------------|
| 0    | the list was written                                                 | done         |
| 1    | unexpected failure (a bug; traceback on stderr)                      | alert        |
| 2    | user error: bad data, options, settings or model reference           | fix input    |
| 3    | another live run holds the lock on this output folder                | retry later  |
| 4    | the output for this as-of already exists (rerun with --overwrite)    | skip / done  |
"""

from __future__ import annotations

from collections.abc import Iterable
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


class LockHeld(UserError):
    """Another live process is writing the same output (or labels) right now."""

    exit_code = ExitCode.LOCK_HELD


class OutputExists(UserError):
    """The output folder for this as-of date exists and --overwrite was not given."""

    exit_code = ExitCode.OUTPUT_EXISTS
