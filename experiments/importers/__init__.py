"""Importers of the public evaluation datasets: each turns a dataset's own files into a folder
that satisfies the input contract, so the same pipeline (validate → features → train → score)
runs on it. Nothing dataset-specific lives outside this package.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from common.errors import UserError
from experiments.importers.common import Summary, write_tables

#: importer name → module (one small module per dataset).
MODULES = {
    "amazon": "experiments.importers.amazon",
    "bitcoin-alpha": "experiments.importers.bitcoin_alpha",
    "reddit": "experiments.importers.reddit",
    "instafake": "experiments.importers.instafake",
}
NAMES: tuple[str, ...] = tuple(MODULES)

#: folder of each dataset under the shared data root (../shared/data in this project).
SOURCE_FOLDERS = {
    "amazon": "amazon-upu",
    "bitcoin-alpha": "bitcoin-alpha",
    "reddit": "reddit",
    "instafake": "instafake",
}


def read_dataset(name: str, source_dir: Path) -> dict:
    """The contract tables of dataset `name` read from `source_dir` (nothing written)."""
    if name not in MODULES:
        raise UserError(f"unknown dataset '{name}': choose one of {', '.join(NAMES)}")
    return importlib.import_module(MODULES[name]).read(Path(source_dir))


def import_dataset(name: str, source_dir: Path, out: Path, overwrite: bool = False) -> Summary:
    """Convert dataset `name` from `source_dir` into contract tables in `out` (atomically)."""
    tables = read_dataset(name, source_dir)
    write_tables(tables, out, overwrite=overwrite)
    labels = tables.get("labels")
    return Summary(
        name=name,
        source=Path(source_dir),
        out=Path(out),
        rows={table: frame.height for table, frame in tables.items()},
        positives=int(labels["label"].sum()) if labels is not None else 0,
        notes=importlib.import_module(MODULES[name]).NOTES,
    )


__all__ = ["NAMES", "SOURCE_FOLDERS", "Summary", "import_dataset", "read_dataset"]
