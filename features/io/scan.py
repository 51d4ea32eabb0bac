"""The events table as a scan: typed and checked in one streaming pass, never held whole.

Events are the one input that grows with activity (billions of rows), so they are not read
into memory: `scan_events` types the stored columns with the same expressions as the
in-memory tables (`features.io.parse`), counts in one streaming pass the values that do not
parse, the rows breaking a row rule (`features.io.rules`) and the rows of unknown accounts, and
reads offending values for the error message only when something is wrong. The result is a
lazy frame that every stage scans for the columns it needs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import polars as pl

from common.errors import ContractError
from features.io.contract import EVENTS, Table
from features.io.parse import cannot_read, check_required, converted, problem_of, unparsed
from features.io.rules import broken_rules, raise_first_failure
from features.io.sanity import Check, TimeWindow, missing_nan, outcome, value_checks
from features.io.tables import find_table, scan_table, unreadable

EXAMPLES = 5
SAMPLE_ROWS = 1_000  # rows tried per column to find one that cannot be converted at all


@dataclass(frozen=True)
class ScannedEvents:
    """The checked events table: a typed scan plus what the check pass counted."""

    file: str
    frame: pl.LazyFrame  # the contract's columns, typed, every stored row
    rows: int
    unknown: int  # rows whose account_id is not in the accounts table
    latest: datetime | None  # latest event time among rows of known accounts
    warnings: tuple[str, ...] = ()  # value checks that warn (NaN read as missing)

    def unknown_examples(self, known: pl.Series) -> list:
        """The first few account ids not in `known`, in file order."""
        return first_values(self.frame.filter(~is_known(known)), "account_id")


def is_known(known: pl.Series) -> pl.Expr:
    """True where the event's account is one of `known`."""
    return pl.col("account_id").is_in(known.implode())


def first_values(frame: pl.LazyFrame, column: str) -> list:
    """The first distinct non-null values of `column` in `frame`, in row order."""
    values = frame.select(pl.col(column)).drop_nulls().unique(maintain_order=True)
    return values.head(EXAMPLES).collect()[column].to_list()


def typed_columns(schema: pl.Schema, table: Table, file: str) -> list[pl.Expr]:
    """The table's columns in contract order and type (absent optional ones as nulls)."""
    out = []
    for column in table.columns:
        if column.name not in schema:
            out.append(pl.lit(None, column.dtype).alias(column.name))
            continue
        try:
            out.append(converted(column.name, schema[column.name], column.dtype))
        except TypeError as error:
            raise cannot_read(file, column, error) from None
    return out


def check_pass(
    scan: pl.LazyFrame,
    typed: list[pl.Expr],
    table: Table,
    known: pl.Series,
    file: str,
    checks: dict[str, Check],
) -> dict:
    """One streaming pass: rows, unparsed values per column, rows breaking each rule, rows
    failing each value check, rows of unknown accounts and the latest event time of known
    accounts."""
    schema = scan.collect_schema()
    present = [c for c in table.columns if c.name in schema]
    flags = [unparsed(c.name, schema[c.name], c.dtype).alias(f"unparsed|{c.name}") for c in present]
    rules = broken_rules(table.name)
    staged = scan.select(*typed, *flags)
    counts = staged.select(
        pl.len().alias("rows"),
        *[pl.col(f"unparsed|{c.name}").sum() for c in present],
        *[rule.sum().alias(name) for name, rule in rules.items()],
        *[check.offending.sum().alias(name) for name, check in checks.items()],
        (~is_known(known)).sum().alias("unknown"),
        pl.col("ts").filter(is_known(known)).max().alias("latest"),
    )
    try:
        return counts.collect().row(0, named=True)
    except pl.exceptions.PolarsError as error:
        raise read_error(scan, typed, table, file, error) from None


def read_error(
    scan: pl.LazyFrame, typed: list[pl.Expr], table: Table, file: str, error: Exception
) -> ContractError:
    """What broke the check pass: the first column whose values cannot be converted at all
    (e.g. lists stored where numbers belong), tried on the first rows, else the file itself
    (e.g. a damaged row group or CSV line)."""
    sample = scan.head(SAMPLE_ROWS)
    for column, expression in zip(table.columns, typed, strict=True):
        try:
            sample.select(expression).collect()
        except pl.exceptions.PolarsError as column_error:
            return cannot_read(file, column, column_error)
    return unreadable(Path(file), error)


def raise_unparsed(scan: pl.LazyFrame, counts: dict, table: Table, file: str) -> None:
    """A ContractError for the first column (contract order) holding values that do not parse."""
    schema = scan.collect_schema()
    for column in table.columns:
        count = counts.get(f"unparsed|{column.name}") or 0
        if count:
            bad = scan.filter(unparsed(column.name, schema[column.name], column.dtype))
            examples = first_values(bad, column.name)
            raise ContractError(file, problem_of(column, count), column.name, examples)


def scan_events(
    folder: Path, known: pl.Series, window: TimeWindow | None = None
) -> ScannedEvents | None:
    """The events table of `folder` typed and checked against the contract's column types,
    row rules and value checks (ContractError otherwise); None when it has no events table."""
    path = find_table(folder, EVENTS.name)
    if path is None:
        return None
    file = str(path)
    scan = scan_table(path)
    if scan.select(pl.len()).collect().item() == 0:
        raise ContractError(file, "table is empty")
    check_required(scan.collect_schema().names(), EVENTS, file)
    typed = typed_columns(scan.collect_schema(), EVENTS, file)
    present = [c.name for c in EVENTS.columns if c.name in scan.collect_schema()]
    checks = value_checks(EVENTS, present, window or TimeWindow.from_env())
    counts = check_pass(scan, typed, EVENTS, known, file, checks)
    raise_unparsed(scan, counts, EVENTS, file)
    frame = scan.select(typed)
    rules = broken_rules(EVENTS.name)

    def examples(column: str) -> list:
        return first_values(frame.filter(pl.any_horizontal(list(rules.values()))), column)

    raise_first_failure({name: counts[name] for name in rules}, EVENTS.name, file, examples)

    def offending(check: Check) -> list:
        return first_values(frame.filter(check.offending), check.column)

    warnings = outcome(counts, checks, file, offending)
    frame = missing_nan(frame, checks)
    rows, unknown, latest = counts["rows"], counts["unknown"], counts["latest"]
    return ScannedEvents(file, frame, rows, unknown, latest, tuple(warnings))
