"""FRAUDAR peeling per group of components (features.graph.peelgroups) finds exactly the
candidate rings of one peel over every component, in the same order."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest

from features.config import GraphConfig
from features.execution import Engine
from features.graph import build_graphs
from features.graph.peelgroups import group_nodes, peel_on
from features.graph.rings import components, peel_components
from tests.features.graph.ring_worlds import crews_and_families


def test_group_nodes_keeps_components_whole_and_in_label_order() -> None:
    active = np.array([2, -1, 0, 2, 1, 0, -1, 1])
    parts = group_nodes(active, 2)
    assert [p.tolist() for p in parts] == [[2, 4, 5, 7], [0, 3]]
    assert group_nodes(np.full(3, -1), 4) == []


@pytest.mark.parametrize("groups", [1, 3, 8])
def test_groups_peel_to_the_one_process_rings(groups: int) -> None:
    ds = crews_and_families()
    config = GraphConfig()
    graphs = build_graphs(ds, config)
    labels = components(graphs, config)
    want = peel_components(graphs, labels, config)
    assert len(want) >= 2
    with tempfile.TemporaryDirectory() as scratch:
        got = peel_on(Engine(scratch=Path(scratch), workers=1), graphs, labels, config, groups)
    assert len(got) == len(want)
    for a, b in zip(got, want, strict=True):
        assert np.array_equal(a["accounts"], b["accounts"])
        assert (a["density"], a["core_size"], a["component"]) == (
            b["density"], b["core_size"], b["component"],
        )  # fmt: skip
