"""Reading one input table from a data folder: Parquet file, CSV file or folder of Parquet parts."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from features.errors import ContractError, UserError


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
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error)
        raise ContractError(str(path), f"cannot be read as a table: {first_line}") from None
