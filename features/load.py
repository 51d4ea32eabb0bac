"""Loading a data folder into a validated, snapshot-cut Dataset: the one door every command uses."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from features.contract import ACCOUNTS, EDGES, EVENTS, LABELS, TABLES, TS, Dataset, Table
from features.errors import ContractError, UserError
from features.parse import conform
from features.rules import check_rules
from features.tables import find_table, read_table

#: Share of rows of a table that may reference unknown accounts before it is an error.
MAX_UNKNOWN_SHARE = 0.01

REFERENCES = {"events": ("account_id",), "edges": ("src", "dst"), "labels": ("account_id",)}


def empty_table(table: Table) -> pl.DataFrame:
    """A table with the contract's columns and no rows (for optional tables not given)."""
    return pl.DataFrame(schema=table.schema)


def read_conformed(folder: Path, table: Table) -> pl.DataFrame | None:
    """One table read, typed and rule-checked; None when an optional table is absent."""
    path = find_table(folder, table.name)
    if path is None:
        if table.required:
            raise ContractError(str(folder / f"{table.name}.parquet"), "required table is missing")
        return None
    frame = read_table(path)
    if frame.height == 0:
        raise ContractError(str(path), "table is empty")
    frame = conform(frame, table, str(path))
    check_rules(frame, table.name, str(path))
    return frame


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
    return accounts.drop(dropped), tuple(kept), warnings


def drop_unknown_references(
    frame: pl.DataFrame, table: str, file: str, known: pl.Series
) -> tuple[pl.DataFrame, list[str]]:
    """Drop rows that reference unknown accounts: a warning up to 1 % of rows, an error above."""
    warnings: list[str] = []
    for column in REFERENCES[table]:
        unknown = ~frame[column].is_in(known.implode())
        count = int(unknown.sum())
        if count == 0:
            continue
        examples = frame.filter(unknown)[column].unique(maintain_order=True).head(5).to_list()
        share = count / frame.height
        problem = f"{count} rows ({share:.1%}) reference accounts not in the accounts table"
        if share > MAX_UNKNOWN_SHARE:
            raise ContractError(file, problem, column, examples)
        warnings.append(f"{file}: column '{column}': {problem}; those rows are dropped")
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


def labels_known_at(ds: Dataset) -> pl.DataFrame:
    """One label per account as moderators knew it at the snapshot (for label-derived features)."""
    history = ds.label_history if ds.label_history is not None else ds.labels
    return latest_labels(cut_at(history, "labelled_at", ds.as_of))


def default_as_of(events: pl.DataFrame, edges: pl.DataFrame, accounts: pl.DataFrame) -> datetime:
    """The latest thing the data saw: last event, else last edge, else last account creation;
    data with no timestamps at all (e.g. static public datasets) is taken as of today."""
    for series in (events["ts"], edges["ts"], accounts["created_at"]):
        latest = series.max()
        if latest is not None:
            return latest
    return datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def normalise_as_of(as_of: datetime) -> datetime:
    """A tz-aware UTC datetime (naive input is taken as UTC)."""
    return as_of.replace(tzinfo=UTC) if as_of.tzinfo is None else as_of.astimezone(UTC)


def cut_at(frame: pl.DataFrame, column: str, as_of: datetime) -> pl.DataFrame:
    """Rows seen at or before the snapshot; rows without a time are kept."""
    return frame.filter(pl.col(column).is_null() | (pl.col(column) <= pl.lit(as_of, dtype=TS)))


def load_dataset(path: Path, as_of: datetime | None = None) -> Dataset:
    """Read, type, check and snapshot-cut the account base in `path`."""
    folder = Path(path)
    if not folder.is_dir():
        raise UserError(f"{folder}: not a folder holding the input tables")
    frames = {t.name: read_conformed(folder, t) for t in TABLES}
    accounts_file = str(find_table(folder, "accounts"))
    accounts, attributes, warnings = split_attributes(frames["accounts"], accounts_file)
    tables = {}
    for table in (EVENTS, EDGES, LABELS):
        frame = frames[table.name]
        if frame is None:
            tables[table.name] = empty_table(table)
            continue
        file = str(find_table(folder, table.name))
        frame, dropped = drop_unknown_references(frame, table.name, file, accounts["account_id"])
        warnings += dropped
        tables[table.name] = frame.select(list(table.schema))
    cut = (
        normalise_as_of(as_of)
        if as_of
        else default_as_of(tables["events"], tables["edges"], accounts)
    )
    accounts = cut_at(accounts, "created_at", cut).sort("account_id")
    alive = accounts["account_id"].implode()
    return Dataset(
        source=folder,
        as_of=cut,
        accounts=accounts,
        events=cut_at(tables["events"], "ts", cut).filter(pl.col("account_id").is_in(alive)),
        edges=cut_at(tables["edges"], "ts", cut).filter(
            pl.col("src").is_in(alive) & pl.col("dst").is_in(alive)
        ),
        labels=latest_labels(tables["labels"]),
        label_history=tables["labels"],
        attributes=attributes,
        warnings=tuple(warnings),
    )
