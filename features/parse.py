"""Turning stored columns into the contract's types, naming the values that do not parse."""

from __future__ import annotations

import polars as pl

from features.contract import TS, Column, Table
from features.errors import ContractError

TRUE_WORDS = ("true", "t", "yes", "y", "1")
FALSE_WORDS = ("false", "f", "no", "n", "0")


TIMESTAMP_FORMATS = (
    "%Y-%m-%d %H:%M:%S%.f%#z",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%d %H:%M%#z",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
)


def _parse_datetime_text(text: pl.Series) -> pl.Series:
    """ISO 8601 strings (with or without offset, 'T' or space, date only) as UTC."""
    text = text.str.strip_chars().str.replace("T", " ", literal=True).str.replace(r"Z$", "+00:00")
    tries = [
        text.str.to_datetime(fmt, time_unit="us", time_zone="UTC", strict=False)
        for fmt in TIMESTAMP_FORMATS
    ]
    return pl.select(pl.coalesce(tries)).to_series().alias(text.name)


def _parse_datetime(series: pl.Series) -> pl.Series:
    """Timestamps as UTC microseconds; naive ones are taken as UTC."""
    dtype = series.dtype
    if dtype == pl.String:
        return _parse_datetime_text(series)
    if dtype == pl.Date:
        return series.cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
    if isinstance(dtype, pl.Datetime):
        if dtype.time_zone is None:
            series = series.dt.replace_time_zone("UTC")
        return series.dt.convert_time_zone("UTC").dt.cast_time_unit("us")
    raise TypeError(f"a timestamp is expected, found {dtype}")


def _parse_bool(series: pl.Series) -> pl.Series:
    """Booleans from bool, 0/1 numbers or the usual words."""
    if series.dtype == pl.Boolean:
        return series
    if series.dtype.is_numeric():
        return series.replace_strict({1: True, 0: False}, default=None, return_dtype=pl.Boolean)
    words = series.cast(pl.String).str.strip_chars().str.to_lowercase()
    mapping = {w: True for w in TRUE_WORDS} | {w: False for w in FALSE_WORDS}
    return words.replace_strict(mapping, default=None, return_dtype=pl.Boolean)


def _convert(series: pl.Series, dtype: pl.DataType) -> pl.Series:
    """Series converted to `dtype`; values that do not convert become null."""
    if dtype == TS:
        return _parse_datetime(series)
    if dtype == pl.Boolean:
        return _parse_bool(series)
    if dtype == pl.String:
        return series.cast(pl.String)
    if series.dtype == pl.String:
        series = series.str.strip_chars()
    if dtype.is_integer() and series.dtype.is_float():
        series = series.set(series.is_not_null() & (series != series.round(0)), None)
    return series.cast(dtype, strict=False)


def parse_column(series: pl.Series, column: Column, file: str) -> pl.Series:
    """The column in its contract type, or a ContractError naming the values that do not parse."""
    try:
        converted = _convert(series, column.dtype)
    except (TypeError, pl.exceptions.PolarsError) as error:
        detail = str(error).splitlines()[0]
        raise ContractError(
            file, f"cannot be read as {column.dtype}: {detail}", column.name
        ) from None
    broken = converted.is_null() & series.is_not_null()
    if broken.any():
        bad = series.filter(broken).unique(maintain_order=True).head(5).to_list()
        kind = (
            "timestamps that do not parse" if column.dtype == TS else f"values not {column.dtype}"
        )
        raise ContractError(file, f"{broken.sum()} {kind}", column.name, bad)
    return converted.alias(column.name)


def conform(frame: pl.DataFrame, table: Table, file: str) -> pl.DataFrame:
    """The frame with every contract column present, typed, in contract order, extras kept after."""
    missing = [c.name for c in table.columns if c.required and c.name not in frame.columns]
    if missing:
        raise ContractError(file, "required column is missing", missing[0])
    columns = []
    for column in table.columns:
        if column.name in frame.columns:
            columns.append(parse_column(frame[column.name], column, file))
        else:
            columns.append(pl.Series(column.name, [None] * frame.height, dtype=column.dtype))
    extras = [frame[name] for name in frame.columns if name not in table.schema]
    return pl.DataFrame(columns + extras)
