"""build_graph_features and bad_neighbour_share: shape, types, specs, and a few values."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import polars as pl
import pytest

from features.config import GraphConfig
from features.graph import bad_neighbour_share, build_graph_features, build_graphs
from features.graph.specs import DEFAULT_NEIGHBOUR_COLUMNS, SPECS, specs_for
from features.registry import all_specs
from tests.features.graph.worlds import dataset, ring_world

CONFIG = GraphConfig()


def behaviour_of(ds) -> pl.DataFrame:
    """A behaviour frame with the default aggregated columns (values: position in the order)."""
    ids = ds.accounts["account_id"].sort()
    frame = pl.DataFrame({"account_id": ids})
    return frame.with_columns(
        [pl.int_range(pl.len()).cast(pl.Float64).alias(c) for c in DEFAULT_NEIGHBOUR_COLUMNS]
    )


@pytest.fixture(scope="module")
def world():
    ds = ring_world()
    graphs = build_graphs(ds, CONFIG)
    return ds, graphs, build_graph_features(ds, graphs, behaviour_of(ds), CONFIG)


def test_one_numeric_row_per_account_sorted(world):
    ds, _, features = world
    assert features["account_id"].to_list() == sorted(ds.accounts["account_id"].to_list())
    assert all(dtype in (pl.Int64, pl.Float64) for dtype in features.schema.dtypes()[1:])


def test_every_column_has_a_spec_and_every_spec_a_column(world):
    _, _, features = world
    graph_specs = {s.name for s in SPECS if s.stage == "graph"}
    assert set(features.columns[1:]) == graph_specs
    label_specs = {s.name for s in SPECS if s.stage == "label-derived"}
    assert label_specs == {
        "g_rel_bad_neighbours",
        "g_rel_bad_share",
        "g_link_bad_neighbours",
        "g_link_bad_share",
    }
    assert {s.name for s in all_specs()} >= graph_specs | label_specs


def test_ring_columns(world):
    _, _, features = world
    row = dict(zip(features["account_id"], features["g_ring_size"], strict=True))
    assert row["f0"] == 8 and row["k0"] == 4 and row["n0"] == 0 and row["u00"] == 0
    assert features.filter(pl.col("account_id") == "f0")["g_ring_score"].item() > 0


def test_shared_identifier_columns(world):
    _, _, features = world
    f0 = features.filter(pl.col("account_id") == "f0").row(0, named=True)
    assert f0["g_device_degree"] == 7 and f0["g_device_component_size"] == 8
    u = features.filter(pl.col("account_id") == "u00").row(0, named=True)
    assert u["g_ip_hub_uses"] == 1 and u["g_ip_degree"] == 0
    assert f0["g_lockstep_degree"] == 7 and f0["g_link_component_size"] == 8


def test_graph_tree_aggregates_by_hand():
    """Path a - b - c (follows): b's neighbours are a (0) and c (2)."""
    ds = dataset(
        [{"account_id": x} for x in "abc"],
        edges=[
            {"src": "a", "dst": "b", "relation": "follows"},
            {"src": "c", "dst": "b", "relation": "follows"},
        ],
    )
    config = replace(CONFIG, neighbour_columns=("x",))
    behaviour = pl.DataFrame({"account_id": ["c", "a", "b"], "x": [2.0, 0.0, None]})
    features = build_graph_features(ds, build_graphs(ds, config), behaviour, config)
    rows = {r["account_id"]: r for r in features.iter_rows(named=True)}
    assert rows["b"]["g_rel_n1_mean_x"] == 1.0 and rows["b"]["g_rel_n1_max_x"] == 2.0
    assert rows["a"]["g_rel_n1_mean_x"] is None  # b has no value
    assert rows["a"]["g_rel_n2_mean_x"] == 1.0  # mean over b of b's neighbour mean
    assert rows["a"]["g_rel_n2_max_x"] == 2.0
    assert rows["a"]["g_rel_in_degree"] == 0 and rows["b"]["g_rel_in_degree"] == 2
    assert {s.name for s in specs_for(config, ("x",))} == set(features.columns[1:]) | {
        "g_rel_bad_neighbours",
        "g_rel_bad_share",
        "g_link_bad_neighbours",
        "g_link_bad_share",
    }


def test_trust_is_missing_without_verified_seeds_and_set_with_them():
    accounts = [{"account_id": x} for x in "abcd"]
    edges = [{"src": s, "dst": d, "relation": "follows"} for s, d in ("ab", "bc", "ca")]
    ds = dataset(accounts, edges=edges)
    features = build_graph_features(ds, build_graphs(ds, CONFIG), behaviour_of(ds), CONFIG)
    assert features["g_trust"].null_count() == 4
    seeded = dataset([a | {"verified": a["account_id"] == "a"} for a in accounts], edges=edges)
    trust = build_graph_features(
        seeded, build_graphs(seeded, CONFIG), behaviour_of(seeded), CONFIG
    )["g_trust"].to_list()
    assert trust[3] == 0.0 and all(t > 0 for t in trust[:3])  # d is isolated


def test_bad_neighbour_share():
    accounts = [{"account_id": x} for x in "abcd"]
    edges = [{"src": "a", "dst": x, "relation": "follows"} for x in "bcd"]
    ds = dataset(accounts, edges=edges)
    graphs = build_graphs(ds, CONFIG)
    known = np.array([True, True, True, False])
    bad = np.array([False, True, False, True])  # d's label is unknown: it does not count
    frame = bad_neighbour_share(graphs, bad, known)
    rows = {r["account_id"]: r for r in frame.iter_rows(named=True)}
    assert rows["a"]["g_rel_bad_neighbours"] == 1 and rows["a"]["g_rel_bad_share"] == 0.5
    assert rows["b"]["g_rel_bad_share"] == 0.0 and rows["d"]["g_rel_bad_share"] == 0.0
    assert rows["a"]["g_link_bad_share"] is None  # no identity links
    assert frame.schema["g_rel_bad_neighbours"] == pl.Int64
