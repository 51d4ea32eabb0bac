"""Exit codes a scheduler can act on, and the errors that carry them.

| code | meaning                                                              | scheduler    |
|------|----------------------------------------------------------------------|--------------|
| 0    | the list was written                                                 | done         |
| 1    | unexpected failure (a bug; traceback on stderr)                      | alert        |
| 2    | user error: bad data, options, settings or model reference           | fix input    |
| 3    | another live run holds the lock on this output folder                | retry later  |
| 4    | the output for this as-of already exists (rerun with --overwrite)    | skip / done  |
"""

from __future__ import annotations

from enum import IntEnum

from features.errors import UserError


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
