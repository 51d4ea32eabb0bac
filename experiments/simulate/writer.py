"""Writing a world as a contract-conformant data folder, atomically (temp folder, then rename)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from common.atomic import atomic_dir
from experiments.simulate.config import WorldConfig
from experiments.simulate.plan import plan_world
from experiments.simulate.world import World, chunk_ranges, iter_chunks, static_tables, window_end

ROW_GROUP = 500_000  # rows per Parquet row group


@dataclass(frozen=True)
class Written:
    """What a simulation wrote: row counts per table and the snapshot time."""

    path: Path
    rows: dict[str, int]
    as_of: str
    parts: int


def write_table(frame: pl.DataFrame, path: Path) -> None:
    """One Parquet file, with settings fixed so the same frame gives the same bytes."""
    frame.write_parquet(
        path, compression="zstd", compression_level=1, statistics=True, row_group_size=ROW_GROUP
    )


def write_world(world: World, out: Path, overwrite: bool = False) -> None:
    """Write an in-memory world's tables (and truth.parquet) to the folder `out`."""
    with atomic_dir(Path(out), overwrite=overwrite) as tmp:
        for name in ("accounts", "events", "edges", "labels", "truth"):
            write_table(getattr(world, name), tmp / f"{name}.parquet")


def simulate_to(
    config: WorldConfig,
    out: Path,
    overwrite: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> Written:
    """Simulate and write a world chunk by chunk, so memory stays bounded for big worlds.

    A world of one chunk is written as single files; a bigger one writes `events/` and
    `edges/` folders of part files (one per chunk), which every reader of the contract accepts.
    """
    plan = plan_world(config)
    total = len(chunk_ranges(plan))
    rows = {"events": 0, "edges": 0}
    with atomic_dir(Path(out), overwrite=overwrite) as tmp:
        for name, frame in static_tables(plan).items():
            write_table(frame, tmp / f"{name}.parquet")
            rows[name] = frame.height
        if total > 1:
            (tmp / "events").mkdir()
            (tmp / "edges").mkdir()
        for chunk in iter_chunks(plan):
            for name in ("events", "edges"):
                frame = getattr(chunk, name)
                part = f"{name}/part-{chunk.index:05d}" if total > 1 else name
                write_table(frame, tmp / f"{part}.parquet")
                rows[name] += frame.height
            if progress is not None:
                progress(chunk.index + 1, total)
    return Written(Path(out), rows, window_end(config).isoformat(), total)
