"""Run `score_base` in a separate process (for the kill and lock tests).

python -m tests.detection.score_runner INPUTS OUT [--overwrite]
INPUTS holds features.parquet, membership.parquet, rings.parquet and a saved model folder
`model/`. Exit code: the UserError's exit code, else 0.
"""

from __future__ import annotations

import sys
from pathlib import Path

import polars as pl

from common.errors import UserError
from detection.config import ScoreConfig
from detection.pipeline import score_base
from tests.detection.world import AS_OF
from training.model import RingwatchModel


def save_inputs(folder: Path, world, model) -> Path:  # world: tests.detection.world.World
    """Write what `main` reads."""
    folder.mkdir(parents=True, exist_ok=True)
    world.features.write_parquet(folder / "features.parquet")
    world.membership.write_parquet(folder / "membership.parquet")
    world.rings.write_parquet(folder / "rings.parquet")
    model.save(folder / "model")
    return folder


def run(inputs: Path, out: Path, overwrite: bool) -> Path:
    """Score the saved inputs into `out`."""
    model = RingwatchModel.load(inputs / "model")
    model.name, model.version = "ringwatch", "1"
    result = score_base(
        pl.read_parquet(inputs / "features.parquet"),
        model,
        AS_OF,
        out,
        ScoreConfig(capacity=60, max_ring_sections=1),
        membership=pl.read_parquet(inputs / "membership.parquet"),
        rings=pl.read_parquet(inputs / "rings.parquet"),
        overwrite=overwrite,
    )
    return result.folder


def main(argv: list[str]) -> int:
    """Entry point; prints the output folder."""
    try:
        print(run(Path(argv[0]), Path(argv[1]), "--overwrite" in argv), flush=True)
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return int(error.exit_code)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
