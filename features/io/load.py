"""Loading a data folder into a validated, snapshot-cut Dataset: the one door every command uses."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import polars as pl

from common.errors import ContractError, UserError
from features.io.contract import ACCOUNTS, EDGES, EVENTS, LABELS, TABLES, TS, Dataset, Table
from features.io.parse import conform
from features.io.rules import check_rules
from features.io.sanity import TimeWindow, attribute_checks, check_values, value_checks
from features.io.scan import ScannedEvents, is_known, scan_events
from features.io.tables import find_table, read_table, skipped_parts

#: Share of rows of a table that may reference unknown accounts before it is an error.
MAX_UNKNOWN_SHARE = 0.01

REFERENCES = {"events": ("account_id",), "edges": ("src", "dst"), "labels": ("account_id",)}


def empty_table(table: Table) -> pl.DataFrame:
    """A table with the contract's columns and no rows (for optional tables not given)."""
    return pl.DataFrame(schema=table.schema)


def read_conformed(
    folder: Path, table: Table, window: TimeWindow
) -> tuple[pl.DataFrame | None, list[str]]:
    """One table read, typed, rule- and value-checked, with its warnings; None when an optional
    table is absent."""
    path = find_table(folder, table.name)
    if path is None:
        if table.required:
            raise ContractError(str(folder / f"{table.name}.parquet"), "required table is missing")
        return None, []
    frame = read_table(path)
    if frame.height == 0:
        raise ContractError(str(path), "table is empty")
    frame = conform(frame, table, str(path))
    check_rules(frame, table.name, str(path))
    checks = value_checks(table, frame.columns, window)
    return check_values(frame, checks, str(path))


def hidden_part_warnings(folder: Path) -> list[str]:
    """A warning for each table folder holding hidden or temporary paths that were not read."""
    warnings = []
    for table in TABLES:
        path = find_table(folder, table.name)
        if path is None or not path.is_dir():
            continue
        skipped = skipped_parts(path)
        if skipped:
            names = ", ".join(str(p.relative_to(path)) for p in skipped[:3])
            more = f" and {len(skipped) - 3} more" if len(skipped) > 3 else ""
            warnings.append(
                f"{path}: skipped {len(skipped)} hidden or temporary file(s) (a path part "
                f"starting with _ or .): {names}{more}"
            )
    return warnings


def split_attributes(
    accounts: pl.DataFrame, file: str
) -> tuple[pl.DataFrame, tuple[str, ...], list]:
    """Keep extra numeric/boolean account columns as attributes; drop (and say so) any other."""
    extras = [c for c in accounts.columns if c not in ACCOUNTS.schema]
    kept, dropped = [], []
    for name in extras:
        series = accounts[name]
        if series.dtype == pl.String:  # CSV: numbers arrive as text
            number = series.str.strip_chars().cast(pl.Float64, strict=False)
            if number.null_count() == series.null_count():
                accounts = accounts.with_columns(number.alias(name))
                series = number
        if series.dtype.is_numeric() or series.dtype == pl.Boolean:
            kept.append(name)
        else:
            dropped.append(name)
    warnings = [f"{file}: column '{n}' is neither numeric nor boolean; ignored" for n in dropped]
    floats = [n for n in kept if accounts.schema[n].is_float()]
    accounts, checked = check_values(accounts.drop(dropped), attribute_checks(floats), file)
    return accounts, tuple(kept), warnings + checked


def unknown_references(
    count: int, rows: int, file: str, column: str, examples: Callable[[], list]
) -> list[str]:
    """Rows referencing unknown accounts: a warning up to 1 % of rows, an error above."""
    if count == 0:
        return []
    share = count / rows
    problem = f"{count} rows ({share:.1%}) reference accounts not in the accounts table"
    if share > MAX_UNKNOWN_SHARE:
        raise ContractError(file, problem, column, examples())
    return [f"{file}: column '{column}': {problem}; those rows are dropped"]


def first_distinct(values: pl.Series) -> list:
    """The first few distinct values, in order."""
    return values.unique(maintain_order=True).head(5).to_list()


def drop_unknown_references(
    frame: pl.DataFrame, table: str, file: str, known: pl.Series
) -> tuple[pl.DataFrame, list[str]]:
    """Drop rows that reference unknown accounts: a warning up to 1 % of rows, an error above."""
    warnings: list[str] = []
    for column in REFERENCES[table]:
        unknown = ~frame[column].is_in(known.implode())
        offending = frame.filter(unknown)[column]
        examples = partial(first_distinct, offending)
        warnings += unknown_references(offending.len(), frame.height, file, column, examples)
        if offending.len():
            frame = frame.filter(~unknown)
    return frame, warnings


def latest_labels(labels: pl.DataFrame) -> pl.DataFrame:
    """One label per account: a later decision supersedes an earlier one (feedback history)."""
    return (
        labels.with_row_index("_order")
        .sort(["account_id", "labelled_at", "_order"], nulls_last=False)
        .unique("account_id", keep="last")
        .drop("_order")
        .sort("account_id")
    )


def known_at(history: pl.DataFrame, as_of: datetime) -> pl.DataFrame:
    """The one rule for which labels are known at a snapshot (label-derived features see
    only these): decisions made by `as_of` (or undated), the latest one per account."""
    return latest_labels(cut_at(history, "labelled_at", as_of))


def labels_known_at(ds: Dataset) -> pl.DataFrame:
    """One label per account as moderators knew it at the snapshot (for label-derived features)."""
    return known_at(ds.label_history if ds.label_history is not None else ds.labels, ds.as_of)


def latest(frame: pl.DataFrame | pl.LazyFrame, column: str) -> datetime | None:
    """The largest value of a time column (None when it has none)."""
    return frame.lazy().select(pl.col(column).max()).collect().item()


def first_time(times: Iterable[datetime | None]) -> datetime:
    """The first of `times` that is known, else today (00:00 UTC)."""
    for moment in times:
        if moment is not None:
            return moment
    return datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def default_as_of(
    events: pl.DataFrame | pl.LazyFrame, edges: pl.DataFrame, accounts: pl.DataFrame
) -> datetime:
    """The latest thing the data saw: last event, else last edge, else last account creation;
    data with no timestamps at all (e.g. static public datasets) is taken as of today."""
    found = (
        latest(frame, c) for frame, c in ((events, "ts"), (edges, "ts"), (accounts, "created_at"))
    )
    return first_time(found)


def normalise_as_of(as_of: datetime) -> datetime:
    """A tz-aware UTC datetime (naive input is taken as UTC)."""
    return as_of.replace(tzinfo=UTC) if as_of.tzinfo is None else as_of.astimezone(UTC)


def cut_at(frame: pl.DataFrame, column: str, as_of: datetime) -> pl.DataFrame:
    """Rows seen at or before the snapshot; rows without a time are kept."""
    return frame.filter(pl.col(column).is_null() | (pl.col(column) <= pl.lit(as_of, dtype=TS)))


def events_at(
    scanned: ScannedEvents | None, cut: datetime, accounts: pl.DataFrame, alive: pl.DataFrame
) -> pl.LazyFrame:
    """The events up to the snapshot of accounts alive at it, as a lazy scan (rows of unknown
    accounts and of accounts created after the snapshot are left out)."""
    if scanned is None:
        return empty_table(EVENTS).lazy()
    frame = scanned.frame.filter(pl.col("ts").is_null() | (pl.col("ts") <= pl.lit(cut, dtype=TS)))
    if scanned.unknown or alive.height < accounts.height:  # else every account is alive
        frame = frame.filter(is_known(alive["account_id"]))
    return frame


def snapshot(
    as_of: datetime | None,
    scanned: ScannedEvents | None,
    edges: pl.DataFrame,
    accounts: pl.DataFrame,
) -> tuple[datetime, str]:
    """The snapshot time and where it came from (said with every result: it never moves
    silently): --as-of, else the latest event, edge or account creation, else today."""
    if as_of is not None:
        return normalise_as_of(as_of), "--as-of"
    found = (
        (
            scanned.latest if scanned is not None else None,
            f"latest event in {getattr(scanned, 'file', '')}",
        ),
        (latest(edges, "ts"), "latest edge"),
        (latest(accounts, "created_at"), "latest account creation"),
    )
    for moment, source in found:
        if moment is not None:
            return moment, source
    return first_time(()), "today: the data holds no times"


def load_dataset(
    path: Path, as_of: datetime | None = None, window: TimeWindow | None = None
) -> Dataset:
    """Read, type, check and snapshot-cut the account base in `path` (events stay a scan).
    Times outside `window` (default: TimeWindow.from_env()) are a ContractError."""
    folder = Path(path)
    if not folder.is_dir():
        raise UserError(f"{folder}: not a folder holding the input tables")
    window = window or TimeWindow.from_env()
    accounts_file = str(find_table(folder, "accounts"))
    conformed, warnings = read_conformed(folder, ACCOUNTS, window)
    scanned = scan_events(folder, conformed["account_id"], window)
    frames = {}
    for table in (EDGES, LABELS):
        frames[table.name], noted = read_conformed(folder, table, window)
        warnings += noted
    accounts, attributes, noted = split_attributes(conformed, accounts_file)
    warnings = hidden_part_warnings(folder) + warnings + noted
    if scanned is not None:
        warnings += scanned.warnings
        examples = partial(scanned.unknown_examples, accounts["account_id"])
        warnings += unknown_references(
            scanned.unknown, scanned.rows, scanned.file, "account_id", examples
        )
    tables = {}
    for table in (EDGES, LABELS):
        frame = frames[table.name]
        if frame is None:
            tables[table.name] = empty_table(table)
            continue
        file = str(find_table(folder, table.name))
        frame, dropped = drop_unknown_references(frame, table.name, file, accounts["account_id"])
        warnings += dropped
        tables[table.name] = frame.select(list(table.schema))
    cut, source = snapshot(as_of, scanned, tables["edges"], accounts)
    alive = cut_at(accounts, "created_at", cut).sort("account_id")
    if alive.height == 0:
        first = latest(accounts.select(pl.col("created_at").min()), "created_at")
        raise UserError(
            f"{folder}: no account exists at the snapshot {cut:%Y-%m-%d %H:%M} UTC ({source}); "
            f"the first account was created {first:%Y-%m-%d %H:%M} UTC"
        )
    alive_ids = alive["account_id"].implode()
    return Dataset(
        source=folder,
        as_of=cut,
        accounts=alive,
        events=events_at(scanned, cut, accounts, alive),
        edges=cut_at(tables["edges"], "ts", cut).filter(
            pl.col("src").is_in(alive_ids) & pl.col("dst").is_in(alive_ids)
        ),
        labels=latest_labels(tables["labels"]),
        label_history=tables["labels"],
        attributes=attributes,
        warnings=tuple(warnings),
        as_of_source=source,
    )
