"""`ringwatch demo` keeps the data it finds: reused when its settings match, refused otherwise."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from common.errors import UserError
from detection.demo import MANIFEST, prepare_data, world_settings, write_record
from experiments.simulate import WorldConfig, simulate_to


def test_a_second_demo_reuses_or_refuses(tmp_path: Path) -> None:
    said: list[str] = []
    world = WorldConfig(accounts=300, weeks=1, seed=3)
    settings = world_settings(world)

    def make(data: Path) -> None:
        simulate_to(world, data, overwrite=True)

    assert prepare_data(tmp_path, settings, make, False, said.append) is False  # simulated
    steps = {"simulate": 1.0, "score": 2.0}
    record = json.loads(write_record(tmp_path, settings, steps, False, tmp_path).read_text())
    assert record["timings"] == {"simulate": 1.0, "score": 2.0, "total": 3.0}
    assert record["world"] == settings

    labels = tmp_path / "data" / "labels.parquet"
    before = labels.read_bytes()
    assert prepare_data(tmp_path, settings, make, False, said.append) is True  # reused as it is
    assert labels.read_bytes() == before and "reusing" in said[-1]
    other = world_settings(WorldConfig(accounts=300, weeks=1, seed=4))
    with pytest.raises(UserError, match="--overwrite"):
        prepare_data(tmp_path, other, make, False, said.append)
    (tmp_path / MANIFEST).unlink()  # data that no demo recorded is not replaced either
    with pytest.raises(UserError, match="not from a demo"):
        prepare_data(tmp_path, settings, make, False, said.append)
    assert prepare_data(tmp_path, settings, make, True, said.append) is False  # --overwrite
    (tmp_path / "lists" / "2024-01-28").mkdir(parents=True)  # a list reviewed in that world
    (tmp_path / "lists" / "2024-01-28" / "decisions.sqlite").write_bytes(b"x")
    assert prepare_data(tmp_path, settings, make, True, said.append) is False
    aside = list(tmp_path.glob("lists-before-*/2024-01-28/decisions.sqlite"))
    assert len(aside) == 1 and not (tmp_path / "lists").exists() and "moved" in said[-2]
