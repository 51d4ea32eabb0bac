"""score_base's named steps, one at a time: build the list, write tables, report, manifest."""

from __future__ import annotations

from pathlib import Path

from detection.config import ScoreConfig
from detection.manifest import Timings
from detection.pipeline import build_list, manifest_of, write_report, write_tables
from tests.detection.world import AS_OF

CONFIG = ScoreConfig(capacity=60, max_ring_sections=2)


def test_the_steps_of_a_scoring_run(world, model, tmp_path: Path) -> None:
    timings = Timings()
    listed = build_list(
        world.features, model, AS_OF, tmp_path, CONFIG, world.membership, world.rings, timings
    )
    assert listed.ranked.height == world.features.height
    assert listed.candidates.height >= 60 and listed.previous is None
    counts = listed.counts()
    assert counts["candidates"] == listed.candidates.height
    assert {"close", "review", "watch", "new", "dropped"} <= set(counts)
    assert set(timings.to_dict()) >= {"score", "select", "explain", "rings", "diff"}
    folder = tmp_path / "run"
    folder.mkdir()
    write_tables(folder, listed, CONFIG)
    names = {p.name for p in folder.iterdir()}
    assert names == {"candidates.parquet", "candidates.csv", "scores.parquet", "rings.parquet",
                     "changes.csv"}  # fmt: skip
    write_report(folder, listed, model, AS_OF, CONFIG, world.events, world.edges)
    assert "<html" in (folder / "report.html").read_text().lower()
    manifest = manifest_of(folder, listed, model, AS_OF, CONFIG, {"source": "t"}, timings)
    assert manifest["counts"] == counts and manifest["inputs"] == {"source": "t"}
