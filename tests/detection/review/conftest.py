"""A finished list whose data folder exists (so the app shows events and feedback can write
labels), with hostile ids: an account and a ring whose names are HTML."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from tests.detection.world import AS_OF, World

EVIL_ACCOUNT = '"><img src=x onerror=alert(1)>'
EVIL_RING = "<script>alert(1)</script>"


def hostile(world: World) -> World:
    """The world with one ring member and one ring renamed to HTML."""
    ring = world.rings.sort("size", descending=True).row(0, named=True)
    victim, rid = ring["members"][0], ring["ring_id"]
    ids = {victim: EVIL_ACCOUNT}
    rename = pl.col("account_id").replace(ids)
    rings = world.rings.with_columns(
        pl.col("members").list.eval(pl.element().replace(ids)),
        pl.col("ring_id").replace({rid: EVIL_RING}),
    )
    membership = world.membership.with_columns(rename, pl.col("ring_id").replace({rid: EVIL_RING}))
    return World(
        world.features.with_columns(rename),
        world.truth.with_columns(rename),
        membership,
        rings,
        world.events.with_columns(rename),
        world.edges.with_columns(pl.col("src").replace(ids), pl.col("dst").replace(ids)),
    )


@pytest.fixture(scope="session")
def review_list(world: World, model, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A scored list folder (capacity 60) over a real data folder of the hostile world."""
    from detection.config import ScoreConfig
    from detection.pipeline import score_base

    w = hostile(world)
    root = tmp_path_factory.mktemp("review")
    data = root / "data"
    data.mkdir()
    w.features.select("account_id").write_parquet(data / "accounts.parquet")
    w.events.write_parquet(data / "events.parquet")
    w.edges.write_parquet(data / "edges.parquet")
    result = score_base(
        w.features,
        model,
        AS_OF,
        root / "lists",
        ScoreConfig(capacity=60, max_ring_sections=2),
        membership=w.membership,
        rings=w.rings,
        events=w.events,
        edges=w.edges,
        inputs={"source": str(data), "fingerprint": "0" * 64},
    )
    return result.folder


@pytest.fixture
def fresh_list(review_list: Path, tmp_path: Path) -> Path:
    """A private copy of the list and its data folder (tests that record decisions)."""
    import json
    import shutil

    data = tmp_path / "data"
    shutil.copytree(
        Path(json.loads((review_list / "manifest.json").read_text())["inputs"]["source"]), data
    )
    folder = tmp_path / "lists" / review_list.name
    shutil.copytree(review_list, folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["inputs"]["source"] = str(data)
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder
