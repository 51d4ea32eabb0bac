"""Reading one input table from a data folder: Parquet file, CSV file or folder of Parquet parts,
whole (`read_table`) or as a lazy scan (`scan_table`)."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import polars as pl

from common.errors import ContractError, UserError
from features.io.contract import TABLES


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


def is_hidden(path: Path, root: Path) -> bool:
    """Whether a path inside a part folder is a marker or temporary (a name starting with `_`
    or `.`: Spark/Hadoop `_SUCCESS`, `_temporary/`, hidden `.part-*` files being written)."""
    return any(part.startswith(("_", ".")) for part in path.relative_to(root).parts)


def skipped_parts(path: Path) -> list[Path]:
    """The hidden or temporary files of a part folder that are not read (see `is_hidden`)."""
    return sorted(p for p in path.rglob("*") if p.is_file() and is_hidden(p, path))


def part_files(path: Path) -> list[Path]:
    """The Parquet part files of a table folder, in name order (the order rows are read in);
    hidden and temporary paths are never read, and every part has the first part's columns."""
    parts = sorted(p for p in path.rglob("*.parquet") if p.is_file() and not is_hidden(p, path))
    if not parts:
        raise ContractError(str(path), "folder holds no .parquet part files")
    check_part_columns(parts, path)
    return parts


def compared_columns(path: Path, names: list[str]) -> list[str]:
    """The columns every part of table folder `path` must share: the contract's (for accounts
    every column: extra ones are attribute features; other tables' extras, e.g. feedback's
    audit columns, may differ between parts)."""
    table = next((t for t in TABLES if t.name == path.name), None)
    if table is None or table.name == "accounts":
        return names
    return [n for n in names if n in table.schema]


def check_part_columns(parts: list[Path], folder: Path) -> None:
    """A ContractError naming the first part whose columns differ from the first part's (a
    renamed or missing column would silently become nulls when the parts are stacked)."""
    everything = list(pl.read_parquet_schema(parts[0]))
    first = compared_columns(folder, everything)
    for part in parts[1:]:
        names = list(pl.read_parquet_schema(part))
        if sorted(compared_columns(folder, names)) == sorted(first):
            continue
        missing = [n for n in first if n not in names]
        extra = [n for n in names if n not in everything]
        problem = f"columns differ from the first part {parts[0].name}"
        if missing:
            problem += f"; missing: {', '.join(missing)}"
        if extra:
            problem += f"; not in the first part: {', '.join(extra)}"
        raise ContractError(str(part), problem)


def check_header(names: list[str], file: str) -> None:
    """A ContractError for a blank or repeated column name (polars would rename a repeat to
    `NAME_duplicated_0`, silently losing the column the contract expects)."""
    for i, name in enumerate(names):
        if not name.strip():
            raise ContractError(file, f"column {i + 1} of the header has no name")
    repeated = [n for n, k in Counter(n.strip() for n in names).items() if k > 1]
    if repeated:
        raise ContractError(file, "column name appears more than once in the header", repeated[0])


def check_csv(path: Path) -> None:
    """Check a CSV file's header and that every row has as many fields as the header: polars
    would fill a short row (or a blank line) with nulls, silently."""
    file = str(path)
    with path.open(newline="", encoding="utf-8-sig", errors="replace") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            raise ContractError(file, "is empty (no header row)")
        check_header(header, file)
        width, ragged, examples = len(header), 0, []
        for row in reader:
            if len(row) != width and not (width == 1 and not row):  # "" is one empty field
                ragged += 1
                if len(examples) < 5:
                    examples.append(f"line {reader.line_num}: {len(row)} fields")
    if ragged:
        problem = f"{ragged} rows do not have the header's {width} fields"
        raise ContractError(file, problem, examples=examples)


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
            check_csv(path)
            return pl.read_csv(path, infer_schema=False, null_values=[""])
        frame = pl.read_parquet(path)
        check_header(frame.columns, str(path))
        return frame
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
            check_csv(path)
            scan = pl.scan_csv(path, infer_schema=False, null_values=[""])
        else:
            scan = pl.scan_parquet(path)
        scan.collect_schema()  # unreadable files fail here, with the file named
        return scan
    except UserError:
        raise
    except Exception as error:
        raise unreadable(path, error) from None
