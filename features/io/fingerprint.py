"""Content fingerprints of input folders: what a model or a list was built from, and cache keys."""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path

from features.io.contract import TABLES
from features.io.tables import find_table, part_files

CHUNK = 1 << 20


def _files(folder: Path) -> list[Path]:
    """Every file holding an input table, in a fixed order."""
    files: list[Path] = []
    for table in TABLES:
        path = find_table(folder, table.name)
        if path is not None:
            files += part_files(path) if path.is_dir() else [path]
    return files


def _update(digest: hashlib._Hash, path: Path) -> None:
    """Feed the bytes of `path` to `digest`, a chunk at a time."""
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)


def file_sha256(path: Path) -> str:
    """sha256 of one file's bytes (read in chunks)."""
    digest = hashlib.sha256()
    _update(digest, path)
    return digest.hexdigest()


def fingerprint_inputs(folder: Path) -> str:
    """sha256 over the bytes of every input table file (names relative to the folder)."""
    digest = hashlib.sha256()
    for path in _files(Path(folder)):
        digest.update(str(path.relative_to(folder)).encode())
        _update(digest, path)
    return digest.hexdigest()


def cache_key(inputs: str, as_of: datetime, settings: object) -> str:
    """A short key for outputs built from these inputs, snapshot and settings."""
    text = f"{inputs}|{as_of.isoformat()}|{settings!r}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]
