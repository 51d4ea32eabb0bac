"""manifest.json: what a list was built from and how (inputs, model, settings, counts, timings).

Written last into the partial folder, so a folder with a manifest is a finished one.
"""

from __future__ import annotations

import hashlib
import json
import platform
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from importlib import metadata
from pathlib import Path

from common.errors import StaleData

MANIFEST = "manifest.json"
FORMAT = 1


class Timings:
    """Wall-clock seconds of the named steps of a run, in the order they ran."""

    def __init__(self, before: dict[str, float] | None = None) -> None:
        self.seconds: dict[str, float] = dict(before or {})  # steps timed by the caller
        self._offset = sum(self.seconds.values())
        self._start = time.perf_counter()

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        """Time the block as step `name` (repeated steps add up)."""
        start = time.perf_counter()
        try:
            yield
        finally:
            spent = time.perf_counter() - start
            self.seconds[name] = self.seconds.get(name, 0.0) + spent

    def total(self) -> float:
        """Seconds since the timer was made, plus the steps timed before it."""
        return self._offset + time.perf_counter() - self._start

    def to_dict(self) -> dict[str, float]:
        """Rounded step times plus the total."""
        return {
            **{k: round(v, 3) for k, v in self.seconds.items()},
            "total": round(self.total(), 3),
        }


def file_digests(folder: Path) -> dict[str, dict]:
    """Size and sha256 of every file written so far (for audits)."""
    out = {}
    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
        out[path.name] = {"bytes": path.stat().st_size, "sha256": digest.hexdigest()}
    return out


def version() -> str:
    """The installed ringwatch version."""
    try:
        return metadata.version("ringwatch")
    except metadata.PackageNotFoundError:
        return "unknown"


def build_manifest(folder: Path, **sections: object) -> dict:
    """The manifest: format, tool version, host, creation time, the given sections and files."""
    return {
        "format": FORMAT,
        "ringwatch": version(),
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "host": platform.node(),
        **sections,
        "files": file_digests(folder),
    }


def written_at(folder: Path) -> datetime:
    """When the list in `folder` was written: its manifest's creation time, else the folder's
    modification time (a damaged or missing manifest)."""
    try:
        created = json.loads((Path(folder) / MANIFEST).read_text())["created_at"]
        return datetime.fromisoformat(created).astimezone(UTC)
    except (OSError, ValueError, KeyError, TypeError):
        return datetime.fromtimestamp(Path(folder).stat().st_mtime, UTC)


def write_manifest(folder: Path, manifest: dict) -> Path:
    """Write manifest.json into `folder` (the last file of a run)."""
    path = folder / MANIFEST
    path.write_text(json.dumps(manifest, indent=2, default=str) + "\n")
    return path


RELIST_GRACE = timedelta(hours=12)  # re-cutting a list soon after it was written is not stale


def check_not_stale(root: Path, name: str, stale: str | None) -> None:
    """A stale snapshot (data that stopped updating) whose list was written over 12 hours ago is
    not "done" (exit 4) but stale (exit 5), with --overwrite too: a weekly job must not score the
    same week again and again. The first list of a stale snapshot is written with a warning."""
    final = Path(root) / name
    if not stale or not final.is_dir():
        return
    if datetime.now(UTC) - written_at(final) > RELIST_GRACE:
        raise StaleData(
            f"{final}: {stale} Its list was written on {written_at(final):%Y-%m-%d %H:%M} "
            "UTC; pass --as-of to score that date again on purpose"
        )
