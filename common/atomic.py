"""Write-then-rename helpers: a crash or a rerun never leaves a half-written output behind."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import polars as pl

from common.errors import UserError


@contextmanager
def atomic_file(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside `path`; on success it replaces `path` in one rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    os.chmod(tmp, 0o644)  # mkstemp makes it private; outputs are meant to be shared
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def check_output_file(path: Path, overwrite: bool) -> None:
    """Fail before the work when `path` cannot take a file output: a folder, or an existing
    file without `overwrite`."""
    path = Path(path)
    if path.is_dir():
        raise UserError(
            f"{path}: is a folder; --out takes a file path (e.g. {path / 'out.parquet'})"
        )
    if path.exists() and not overwrite:
        raise UserError(f"{path}: already exists (use --overwrite to replace it)")


def write_parquet(frame: pl.DataFrame, path: Path) -> Path:
    """Write a Parquet file atomically."""
    with atomic_file(path) as tmp:
        frame.write_parquet(tmp)
    return Path(path)


@contextmanager
def atomic_dir(path: Path, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary folder beside `path`; on success it takes `path`'s place."""
    path = Path(path)
    if path.exists() and any(path.iterdir()) and not overwrite:
        raise UserError(f"{path}: already exists and is not empty (use --overwrite to replace it)")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    tmp.chmod(0o755)  # mkdtemp makes it private; outputs are meant to be shared
    try:
        yield tmp
        if path.exists():
            old = path.with_name(f".{path.name}.old-{os.getpid()}")
            os.replace(path, old)
            os.replace(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
