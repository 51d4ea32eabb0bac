"""Reading one input table from a data folder: Parquet file, CSV file or folder of Parquet parts,
whole (`read_table`) or as a lazy scan (`scan_table`)."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from common.errors import ContractError, UserError


def find_table(folder: Path, name: str) -> Path | None:
    """The path holding table `name` in `folder`, or None; more than one candidate is an error."""
    candidates = [
        path
        for path in (folder / f"{name}.parquet", folder / f"{name}.csv", folder / name)
        if path.exists()
    ]
    if len(candidates) > 1:
        listed = ", ".join(p.name for p in candidates)
        raise UserError(f"{folder}: table '{name}' is given more than once ({listed}); keep one")
    return candidates[0] if candidates else None


def part_files(path: Path) -> list[Path]:
    """The Parquet part files of a table folder, in name order (the order rows are read in)."""
    parts = sorted(p for p in path.rglob("*.parquet") if p.is_file())
    if not parts:
        raise ContractError(str(path), "folder holds no .parquet part files")
    return parts


def unreadable(path: Path, error: Exception) -> ContractError:
    """The error for a file that is not a readable table, with the reader's first line."""
    first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error)
    return ContractError(str(path), f"cannot be read as a table: {first_line}")


def read_table(path: Path) -> pl.DataFrame:
    """Read a table as stored; CSV columns come in as strings so that parsing errors are ours."""
    try:
        if path.is_dir():
            return pl.concat([pl.read_parquet(p) for p in part_files(path)], how="diagonal_relaxed")
        if path.suffix == ".csv":
            return pl.read_csv(path, infer_schema=False, null_values=[""])
        return pl.read_parquet(path)
    except UserError:
        raise
    except Exception as error:  # polars/pyarrow raise many kinds on unreadable files
        raise unreadable(path, error) from None


def scan_table(path: Path) -> pl.LazyFrame:
    """A lazy scan of a table as stored (CSV columns as strings, like `read_table`); part files
    are stacked in name order, their columns united (`diagonal_relaxed`)."""
    try:
        if path.is_dir():
            parts = [pl.scan_parquet(p) for p in part_files(path)]
            scan = parts[0] if len(parts) == 1 else pl.concat(parts, how="diagonal_relaxed")
        elif path.suffix == ".csv":
            scan = pl.scan_csv(path, infer_schema=False, null_values=[""])
        else:
            scan = pl.scan_parquet(path)
        scan.collect_schema()  # unreadable files fail here, with the file named
        return scan
    except UserError:
        raise
    except Exception as error:
        raise unreadable(path, error) from None
