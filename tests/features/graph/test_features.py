"""build_graph_features and bad_neighbour_share: shape, types, specs, and a few values."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import polars as pl
import pytest

from features.config import GraphConfig
from features.graph import bad_neighbour_share, build_graph_features, build_graphs, label_graphs
from features.graph.specs import DEFAULT_NEIGHBOUR_COLUMNS, aggregate_spec, specs_for
from features.registry import all_specs
from tests.features.graph.worlds import dataset, ring_world

CONFIG = GraphConfig()
LABEL_COLUMNS = {
    f"g_{graph}_{name}"
    for graph in ("rel", "link")
    for name in ("bad_neighbours", "bad_share", "n2_mean_bad_share", "n2_max_bad_share")
}


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
    specs = specs_for(GraphConfig(), DEFAULT_NEIGHBOUR_COLUMNS)
    graph_specs = {s.name for s in specs if s.stage == "graph"}
    assert set(features.columns[1:]) == graph_specs
    label_specs = {s.name for s in specs if s.stage == "label-derived"}
    assert label_specs == LABEL_COLUMNS
    assert {s.name for s in all_specs()} >= graph_specs | label_specs


def test_ring_columns(world):
    """Ring columns describe the candidate ring, whatever the verdict (label free): the
    newsroom is a candidate too, NAT users are in none."""
    _, _, features = world
    row = dict(zip(features["account_id"], features["g_ring_size"], strict=True))
    assert row["f0"] == 8 and row["k0"] == 4 and row["n0"] == 8 and row["u00"] == 0
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
    assert {s.name for s in specs_for(config, ("x",))} == set(features.columns[1:]) | LABEL_COLUMNS


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
    frame = bad_neighbour_share(label_graphs(graphs), bad, known)
    rows = {r["account_id"]: r for r in frame.iter_rows(named=True)}
    assert rows["a"]["g_rel_bad_neighbours"] == 1 and rows["a"]["g_rel_bad_share"] == 0.5
    assert rows["b"]["g_rel_bad_share"] == 0.0 and rows["d"]["g_rel_bad_share"] == 0.0
    assert rows["a"]["g_link_bad_share"] is None  # no identity links
    assert frame.schema["g_rel_bad_neighbours"] == pl.Int64


def test_attributes_are_aggregated_over_relation_neighbours():
    """Star a - b, a - c with attribute y: every attribute gets the four aggregates over the
    relation graph, described from its name; switched off, none."""
    ds = dataset(
        [{"account_id": x} for x in "abc"],
        edges=[{"src": "a", "dst": x, "relation": "follows"} for x in "bc"],
    )
    ds = replace(
        ds,
        accounts=ds.accounts.with_columns(pl.Series("y", [1.0, 2.0, 6.0])),
        attributes=("y",),
    )
    behaviour = pl.DataFrame({"account_id": ["a", "b", "c"]})
    features = build_graph_features(ds, build_graphs(ds, CONFIG), behaviour, CONFIG)
    rows = {r["account_id"]: r for r in features.iter_rows(named=True)}
    assert rows["a"]["g_rel_n1_mean_y"] == 4.0 and rows["a"]["g_rel_n1_max_y"] == 6.0
    assert rows["b"]["g_rel_n1_mean_y"] == 1.0 and rows["b"]["g_rel_n2_mean_y"] == 4.0
    assert rows["b"]["g_rel_n2_max_y"] == 6.0  # c, two hops away over a
    assert rows["a"]["g_rel_n1_mean_followers"] == 10.0  # contract columns too
    assert rows["a"]["g_rel_n1_mean_verified"] == 0.0
    assert "g_link_n1_mean_y" not in features.columns  # attributes: relation graph only
    spec = aggregate_spec("g_rel_n2_mean_y")
    assert spec.stage == "graph" and "2 hops" in spec.description and "'y'" in spec.description
    assert aggregate_spec("g_rel_degree") is None
    config = replace(CONFIG, neighbour_attributes=False)
    off = build_graph_features(ds, build_graphs(ds, config), behaviour, config)
    assert not [c for c in off.columns if c.endswith(("_y", "_followers", "_verified"))]
    assert {s.name for s in specs_for(config, ())} == set(off.columns[1:]) | LABEL_COLUMNS


def test_received_and_given_edge_weights():
    """Signed ratings: a rates c +10, b rates c -4 and -2 (twice); c rates nobody."""
    ds = dataset(
        [{"account_id": x} for x in "abc"],
        edges=[
            {"src": "a", "dst": "c", "relation": "rates", "weight": 10.0},
            {"src": "b", "dst": "c", "relation": "rates", "weight": -4.0},
            {"src": "b", "dst": "c", "relation": "rates", "weight": -2.0},
            {"src": "a", "dst": "b", "relation": "follows"},  # no weight: counts as 1
        ],
    )
    features = build_graph_features(ds, build_graphs(ds, CONFIG), behaviour_of(ds), CONFIG)
    rows = {r["account_id"]: r for r in features.iter_rows(named=True)}
    c = rows["c"]
    assert c["g_rel_in_weight_mean"] == pytest.approx(4 / 3)
    assert c["g_rel_in_weight_min"] == -4.0
    assert c["g_rel_in_negative_share"] == pytest.approx(2 / 3)
    assert c["g_rel_out_weight_mean"] is None and c["g_rel_out_negative_share"] is None
    assert rows["b"]["g_rel_out_negative_share"] == 1.0
    assert rows["b"]["g_rel_in_weight_mean"] == 1.0 and rows["b"]["g_follows_in_weight_mean"] == 1.0
    assert c["g_follows_in_weight_mean"] is None  # per configured relation
    assert rows["a"]["g_rel_out_weight_mean"] == pytest.approx(11 / 2)


def test_bad_share_reaches_two_hops_over_a_bipartite_graph():
    """Users u1..u3 post in group g1, u3 and u4 in g2: u1 sees g1's bad share over 2 hops."""
    ds = dataset(
        [{"account_id": x} for x in ("g1", "g2", "u1", "u2", "u3", "u4")],
        edges=[
            {"src": u, "dst": g, "relation": "posts_in"}
            for u, g in (("u1", "g1"), ("u2", "g1"), ("u3", "g1"), ("u3", "g2"), ("u4", "g2"))
        ],
    )
    graphs = build_graphs(ds, CONFIG)
    order = graphs.account_ids.to_list()  # g1 g2 u1 u2 u3 u4
    known = np.isin(order, ["u2", "u3", "u4"])
    bad = np.isin(order, ["u2"])
    frame = bad_neighbour_share(label_graphs(graphs), bad, known)
    rows = {r["account_id"]: r for r in frame.iter_rows(named=True)}
    assert rows["u1"]["g_rel_bad_share"] is None  # its neighbour g1 has no label
    assert rows["g1"]["g_rel_bad_share"] == 0.5 and rows["g2"]["g_rel_bad_share"] == 0.0
    assert rows["u1"]["g_rel_n2_mean_bad_share"] == 0.5
    assert rows["u3"]["g_rel_n2_mean_bad_share"] == 0.25  # mean of g1 (0.5) and g2 (0)
    assert rows["u3"]["g_rel_n2_max_bad_share"] == 0.5
    assert rows["u1"]["g_link_n2_mean_bad_share"] is None  # no identity links
