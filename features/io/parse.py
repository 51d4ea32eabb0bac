"""Turning stored columns into the contract's types, naming the values that do not parse.

The conversions are polars expressions (`converted`), so the same rules type an in-memory
table (`conform`) and a scan of a table larger than memory (`features.io.scan`).
"""

from __future__ import annotations

import polars as pl

from common.errors import ContractError
from features.io.contract import TS, Column, Table

TRUE_WORDS = ("true", "t", "yes", "y", "1")
FALSE_WORDS = ("false", "f", "no", "n", "0")


TIMESTAMP_FORMATS = (
    "%Y-%m-%d %H:%M:%S%.f%#z",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%d %H:%M%#z",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
)


def _datetime_from_text(text: pl.Expr) -> pl.Expr:
    """ISO 8601 strings (with or without offset, 'T' or space, date only) as UTC."""
    text = text.str.strip_chars().str.replace("T", " ", literal=True).str.replace(r"Z$", "+00:00")
    tries = [
        text.str.to_datetime(fmt, time_unit="us", time_zone="UTC", strict=False)
        for fmt in TIMESTAMP_FORMATS
    ]
    return pl.coalesce(tries)


def _datetime(column: pl.Expr, stored: pl.DataType) -> pl.Expr:
    """Timestamps as UTC microseconds; naive ones are taken as UTC."""
    if stored == pl.String:
        return _datetime_from_text(column)
    if stored == pl.Date:
        return column.cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
    if isinstance(stored, pl.Datetime):
        if stored.time_zone is None:
            column = column.dt.replace_time_zone("UTC")
        return column.dt.convert_time_zone("UTC").dt.cast_time_unit("us")
    raise TypeError(f"a timestamp is expected, found {stored}")


def _bool(column: pl.Expr, stored: pl.DataType) -> pl.Expr:
    """Booleans from bool, 0/1 numbers or the usual words."""
    if stored == pl.Boolean:
        return column
    if stored.is_numeric():
        return column.replace_strict({1: True, 0: False}, default=None, return_dtype=pl.Boolean)
    words = column.cast(pl.String).str.strip_chars().str.to_lowercase()
    mapping = {w: True for w in TRUE_WORDS} | {w: False for w in FALSE_WORDS}
    return words.replace_strict(mapping, default=None, return_dtype=pl.Boolean)


def converted(name: str, stored: pl.DataType, dtype: pl.DataType) -> pl.Expr:
    """Column `name`, stored as `stored`, converted to `dtype`; values that do not convert
    become null. Raises TypeError when `stored` cannot hold such values at all."""
    column = pl.col(name)
    if dtype == TS:
        out = _datetime(column, stored)
    elif dtype == pl.Boolean:
        out = _bool(column, stored)
    elif dtype == pl.String:
        out = column.cast(pl.String)
    else:
        if stored == pl.String:
            column = column.str.strip_chars()
        if dtype.is_integer() and stored.is_float():
            column = pl.when(column.is_not_null() & (column != column.round(0))).then(None)
            column = column.otherwise(pl.col(name))
        out = column.cast(dtype, strict=False)
    return out.alias(name)


def unparsed(name: str, stored: pl.DataType, dtype: pl.DataType) -> pl.Expr:
    """True where column `name` holds a value that does not convert to `dtype`."""
    return converted(name, stored, dtype).is_null() & pl.col(name).is_not_null()


def problem_of(column: Column, count: int) -> str:
    """The words for `count` values of `column` that do not parse."""
    kind = "timestamps that do not parse" if column.dtype == TS else f"values not {column.dtype}"
    return f"{count} {kind}"


def cannot_read(file: str, column: Column, error: Exception) -> ContractError:
    """The error for a stored column whose type cannot be converted at all."""
    detail = str(error).splitlines()[0]
    return ContractError(file, f"cannot be read as {column.dtype}: {detail}", column.name)


def parse_column(series: pl.Series, column: Column, file: str) -> pl.Series:
    """The column in its contract type, or a ContractError naming the values that do not parse."""
    frame = series.to_frame(column.name)
    try:
        typed = frame.select(converted(column.name, series.dtype, column.dtype)).to_series()
    except (TypeError, pl.exceptions.PolarsError) as error:
        raise cannot_read(file, column, error) from None
    broken = typed.is_null() & series.is_not_null()
    if broken.any():
        bad = series.filter(broken).unique(maintain_order=True).head(5).to_list()
        raise ContractError(file, problem_of(column, int(broken.sum())), column.name, bad)
    return typed


def check_required(columns: list[str], table: Table, file: str) -> None:
    """A ContractError for the first required column of `table` missing from `columns`."""
    missing = [c.name for c in table.columns if c.required and c.name not in columns]
    if missing:
        raise ContractError(file, "required column is missing", missing[0])


def conform(frame: pl.DataFrame, table: Table, file: str) -> pl.DataFrame:
    """The frame with every contract column present, typed, in contract order, extras kept after."""
    check_required(frame.columns, table, file)
    columns = []
    for column in table.columns:
        if column.name in frame.columns:
            columns.append(parse_column(frame[column.name], column, file))
        else:
            columns.append(pl.Series(column.name, [None] * frame.height, dtype=column.dtype))
    extras = [frame[name] for name in frame.columns if name not in table.schema]
    return pl.DataFrame(columns + extras)
