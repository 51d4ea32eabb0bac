"""Content fingerprints of input folders: what a model or a list was built from, and cache keys.

Hashing every input byte costs seconds per GiB, so a file's sha256 is computed once and kept
in a small JSON store (`FileHashes`) under the file's path, size and mtime_ns; a later call
re-hashes only files whose size or mtime changed.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from pathlib import Path

from common.atomic import atomic_file
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


def file_sha256(path: Path) -> str:
    """sha256 of a file's bytes, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _stamp(path: Path) -> list[int]:
    """The cheap identity of a file's content: [size, mtime_ns]."""
    stat = path.stat()
    return [stat.st_size, stat.st_mtime_ns]


class FileHashes:
    """sha256 of input files keyed by resolved path, reused while size and mtime_ns match."""

    def __init__(self, store: Path | None = None) -> None:
        self.store = Path(store) if store is not None else None
        self.entries: dict[str, dict] = {}
        self.changed = False
        if self.store is not None and self.store.exists():
            try:
                self.entries = json.loads(self.store.read_text())
            except (OSError, ValueError):
                self.entries = {}  # an unreadable store only costs a re-hash

    def sha256(self, path: Path) -> str:
        """The file's content hash, from the store when its size and mtime are unchanged."""
        key, stamp = str(Path(path).resolve()), _stamp(Path(path))
        entry = self.entries.get(key)
        if isinstance(entry, dict) and entry.get("stamp") == stamp and "sha256" in entry:
            return entry["sha256"]
        digest = file_sha256(path)
        if _stamp(Path(path)) == stamp:  # not rewritten while we read it
            self.entries[key] = {"stamp": stamp, "sha256": digest}
            self.changed = True
        return digest

    def save(self) -> None:
        """Write the store back (atomically) when a hash was added."""
        if self.store is None or not self.changed:
            return
        with atomic_file(self.store) as tmp:
            tmp.write_text(json.dumps(self.entries, indent=0, sort_keys=True))
        self.changed = False


def fingerprint_inputs(folder: Path, store: Path | None = None) -> str:
    """sha256 over every input table file's name (relative to the folder) and content hash;
    `store` (a JSON file) keeps each file's hash so unchanged files are not read again."""
    hashes, folder = FileHashes(store), Path(folder)
    digest = hashlib.sha256()
    for path in _files(folder):
        digest.update(f"{path.relative_to(folder)}\0{hashes.sha256(path)}\n".encode())
    hashes.save()
    return digest.hexdigest()


def cache_key(inputs: str, as_of: datetime, settings: object) -> str:
    """A short key for outputs built from these inputs, snapshot and settings."""
    text = f"{inputs}|{as_of.isoformat()}|{settings!r}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]
