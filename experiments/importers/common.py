"""What every importer shares: locating source files, typed empty tables, atomic writing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import polars as pl

from common.atomic import atomic_dir
from common.errors import UserError
from features.io.contract import TABLES, TS

T = TypeVar("T")


@dataclass(frozen=True)
class Summary:
    """What an import wrote: where, how many rows per table, how many positives, caveats."""

    name: str
    source: Path
    out: Path
    rows: dict[str, int]
    positives: int
    notes: tuple[str, ...] = ()


def source_file(source_dir: Path, name: str) -> Path:
    """The path of a required source file, or a UserError naming the file that is missing."""
    folder = Path(source_dir)
    if not folder.is_dir():
        raise UserError(f"{folder}: not a folder (give the dataset's source folder)")
    path = folder / name
    if not path.is_file():
        raise UserError(f"{path}: required source file is missing")
    return path


def read_or_fail(path: Path, reader: Callable[[Path], T], what: str) -> T:
    """Run `reader(path)`; any failure becomes one UserError naming the file and what was wrong."""
    try:
        return reader(path)
    except UserError:
        raise
    except Exception as error:  # scipy/numpy/json/polars raise many kinds on broken files
        detail = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise UserError(f"{path}: cannot be read as {what}: {detail}") from None


def malformed(path: Path, problem: str) -> UserError:
    """The error for a source file that reads but does not hold what the dataset should."""
    return UserError(f"{path}: {problem}")


def padded_ids(prefix: str, numbers: Any, width: int) -> pl.Series:
    """Account ids like `u00042`: zero-padded so that string order equals numeric order."""
    values = pl.Series("n", numbers, dtype=pl.Int64)
    return (prefix + values.cast(pl.String).str.zfill(width)).alias("account_id")


def unix_seconds(column: str) -> pl.Expr:
    """A unix-seconds integer column as the contract's UTC microsecond timestamp."""
    return (
        pl.from_epoch(pl.col(column).cast(pl.Int64), time_unit="s")
        .dt.replace_time_zone("UTC")
        .cast(TS)
    )


def conform(name: str, frame: pl.DataFrame) -> pl.DataFrame:
    """`frame` with the contract columns of table `name` cast to their types, extras kept."""
    table = next(t for t in TABLES if t.name == name)
    casts = [pl.col(c).cast(d) for c, d in table.schema.items() if c in frame.columns]
    return frame.with_columns(casts)


def write_tables(tables: dict[str, pl.DataFrame], out: Path, overwrite: bool = False) -> None:
    """Write each non-empty table as `<name>.parquet` into `out` at once (temp dir + rename)."""
    with atomic_dir(Path(out), overwrite=overwrite) as tmp:
        for name, frame in tables.items():
            if frame.height:
                conform(name, frame).write_parquet(tmp / f"{name}.parquet")
