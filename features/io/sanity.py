"""Value checks beyond types: plausible times, usable ids, finite numbers.

A row can have the right types and still be wrong in a way that silently changes every result:
one event dated 2999 moves the default snapshot a millennium ahead; an id that is blank or holds
a NUL byte joins nothing; an infinite amount poisons every sum. The checks are polars
expressions over the typed columns, so the same rules run on an in-memory table
(`check_values`) and in the events table's one streaming pass (`features.io.scan`).

The plausible time window is [earliest, now + ahead]: by default 1990-01-01 to now + 1 day,
set in the `[input]` section of the settings (`InputConfig`); the environment variables
RINGWATCH_EARLIEST (ISO date) and RINGWATCH_MAX_AHEAD_HOURS override it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import polars as pl

from common.errors import ContractError, UserError
from features.io.contract import TS, Table

EARLIEST_ENV = "RINGWATCH_EARLIEST"
AHEAD_ENV = "RINGWATCH_MAX_AHEAD_HOURS"
EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)
AHEAD = timedelta(days=1)
ID_COLUMNS = {
    "accounts": ("account_id",),
    "events": ("account_id",),
    "edges": ("src", "dst"),
    "labels": ("account_id",),
}
CONTROL = r"[\x00-\x1f\x7f]"
EXAMPLES = 5


@dataclass(frozen=True)
class InputConfig:
    """Settings of the input layer: which times are plausible, when a snapshot is stale."""

    earliest: str = "1990-01-01"  # ISO date: no input time is older (the platform's start)
    max_ahead_hours: float = 24.0  # nor later than now + this (clock skew, time zones)
    stale_after_days: float = 8.0  # a snapshot taken from the data older than this is stale

    def window(self) -> TimeWindow:
        """The plausible time window; RINGWATCH_EARLIEST / RINGWATCH_MAX_AHEAD_HOURS override."""
        earliest = os.environ.get(EARLIEST_ENV) or self.earliest
        ahead = os.environ.get(AHEAD_ENV) or self.max_ahead_hours
        try:
            start = datetime.fromisoformat(earliest)
            hours = timedelta(hours=float(ahead))
        except ValueError as error:
            given = (
                f"{EARLIEST_ENV} / {AHEAD_ENV}"
                if os.environ.get(EARLIEST_ENV) or (os.environ.get(AHEAD_ENV))
                else "input.earliest / input.max_ahead_hours"
            )
            raise UserError(f"{given}: {error}") from None
        start = start.replace(tzinfo=UTC) if start.tzinfo is None else start.astimezone(UTC)
        return TimeWindow(start, hours)

    def stale(self, as_of: datetime) -> str | None:
        """Why a snapshot taken from the data is stale (older than `stale_after_days`), or None."""
        age = datetime.now(UTC) - as_of
        if age <= timedelta(days=self.stale_after_days):
            return None
        return (
            f"the data's latest time ({as_of:%Y-%m-%d %H:%M} UTC) is {age.days:,} days old, "
            f"more than input.stale_after_days = {self.stale_after_days:g}: has the export "
            "stopped updating?"
        )


@dataclass(frozen=True)
class TimeWindow:
    """The times an input table may plausibly hold (anything else is a data error)."""

    earliest: datetime = EARLIEST
    ahead: timedelta = AHEAD

    @classmethod
    def from_env(cls) -> TimeWindow:
        """The default window, overridden by RINGWATCH_EARLIEST / RINGWATCH_MAX_AHEAD_HOURS."""
        return InputConfig().window()

    def bounds(self) -> tuple[datetime, datetime]:
        """(earliest, latest) allowed right now."""
        return self.earliest, datetime.now(UTC) + self.ahead

    def describe(self) -> str:
        """The window in words, for error messages."""
        low, high = self.bounds()
        hours = self.ahead.total_seconds() / 3600
        return (
            f"timestamps outside the plausible window {low:%Y-%m-%d} .. {high:%Y-%m-%d %H:%M} "
            f"UTC (now + {hours:g} h; set [input] earliest / max_ahead_hours, or {EARLIEST_ENV} / "
            f"{AHEAD_ENV})"
        )


@dataclass(frozen=True)
class Check:
    """One value check: the column, an expression true on offending rows, the problem."""

    column: str
    offending: pl.Expr
    problem: str
    fatal: bool = True  # False: a warning, and the values are read as missing


def value_checks(table: Table, columns: list[str], window: TimeWindow) -> dict[str, Check]:
    """'column|check' -> Check for the typed columns of `table` present in `columns`."""
    low, high = window.bounds()
    checks = {}
    for column in table.columns:
        if column.name not in columns:
            continue
        col = pl.col(column.name)
        key = column.name
        if column.dtype == TS:
            outside = (col < pl.lit(low, dtype=TS)) | (col > pl.lit(high, dtype=TS))
            checks[f"{key}|window"] = Check(key, outside.fill_null(False), window.describe())
        if column.name in ID_COLUMNS.get(table.name, ()):
            blank = (col.str.strip_chars().str.len_bytes() == 0) | col.str.contains(CONTROL)
            problem = "ids that are blank or hold control characters"
            checks[f"{key}|id"] = Check(key, blank.fill_null(False), problem)
        if column.dtype.is_float():
            checks[f"{key}|infinite"] = Check(
                key, col.is_infinite().fill_null(False), "infinite values"
            )
            checks[f"{key}|nan"] = Check(
                key, col.is_nan().fill_null(False), "NaN values, read as missing", fatal=False
            )
    return checks


def attribute_checks(columns: list[str]) -> dict[str, Check]:
    """Checks of the numeric attribute columns of `accounts` (finite, NaN as missing)."""
    checks = {}
    for name in columns:
        col = pl.col(name)
        checks[f"{name}|infinite"] = Check(
            name, col.is_infinite().fill_null(False), "infinite values"
        )
        checks[f"{name}|nan"] = Check(
            name, col.is_nan().fill_null(False), "NaN values, read as missing", fatal=False
        )
    return checks


def outcome(counts: dict[str, int], checks: dict[str, Check], file: str, examples) -> list[str]:
    """Raise a ContractError for the first fatal check with offending rows; return warnings for
    the others. `examples(check)` gives a few offending values."""
    warnings = []
    for key, check in checks.items():
        count = int(counts.get(key) or 0)
        if not count:
            continue
        if check.fatal:
            shown = [str(e) if isinstance(e, datetime) else e for e in examples(check)]
            raise ContractError(file, f"{count} {check.problem}", check.column, shown)
        warnings.append(f"{file}: column '{check.column}': {count} {check.problem}")
    return warnings


def missing_nan(frame: pl.DataFrame | pl.LazyFrame, checks: dict[str, Check]):
    """The frame with NaN read as missing in the columns whose NaNs are warned about."""
    floats = [c.column for k, c in checks.items() if k.endswith("|nan")]
    return frame.with_columns(pl.col(n).fill_nan(None) for n in floats) if floats else frame


def check_values(
    frame: pl.DataFrame, checks: dict[str, Check], file: str
) -> tuple[pl.DataFrame, list[str]]:
    """Run `checks` on an in-memory table: raise on the first failing fatal one, else return
    the table (NaN read as missing) and the warnings."""
    if not checks:
        return frame, []
    counts = frame.select(c.offending.sum().alias(k) for k, c in checks.items()).row(0, named=True)

    def examples(check: Check) -> list:
        bad = frame.filter(check.offending)[check.column]
        return bad.unique(maintain_order=True).head(EXAMPLES).to_list()

    warnings = outcome(counts, checks, file, examples)
    return missing_nan(frame, checks), warnings
