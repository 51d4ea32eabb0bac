"""Graph building from Dataset frames: node index, shared identifiers, lockstep, relations."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import polars as pl

from features.config import GraphConfig
from features.graph import build_graphs
from tests.features.graph.worlds import dataset, event

CONFIG = GraphConfig()


def weights(graph, graphs, a: str, b: str) -> float:
    """Edge weight between two accounts (0 when not linked)."""
    ids = graphs.account_ids.to_list()
    u, v = ids.index(a), ids.index(b)
    row = graph.indices[graph.indptr[u] : graph.indptr[u + 1]]
    hit = np.flatnonzero(row == v)
    return float(graph.weights[graph.indptr[u] + hit[0]]) if hit.size else 0.0


def test_node_index_is_the_sorted_account_order():
    ds = dataset([{"account_id": x} for x in ("c", "a", "b")])
    graphs = build_graphs(ds, CONFIG)
    assert graphs.account_ids.to_list() == ["a", "b", "c"]
    assert graphs.n == 3 and graphs.directed.m == 0 and graphs.lockstep.m == 0
    assert graphs.keys.height == 0 and graphs.incidence.height == 0


def test_shared_identifiers_weigh_by_exclusivity_and_cut_hubs():
    accounts = [{"account_id": f"a{i}"} for i in range(6)]
    events = [event("a0", 1, device="d"), event("a1", 2, device="d")]
    events += [event(f"a{i}", 3, device="big") for i in range(5)]
    events += [event("a0", 4, ip="1.1.1.1"), event("a0", 5, ip="1.1.1.1")]
    graphs = build_graphs(dataset(accounts, events), replace(CONFIG, hub_max_accounts=4))
    device = graphs.shared["device"]
    assert weights(device, graphs, "a0", "a1") == 1.0  # 'd' has 2 users: 1/(2-1)
    assert weights(device, graphs, "a2", "a3") == 0.0  # 'big' has 5 users > 4: a hub, cut
    assert graphs.hubs["device"].tolist() == [1, 1, 1, 1, 1, 0]
    assert graphs.shared["ip"].m == 0  # one user only
    loose = build_graphs(dataset(accounts, events), replace(CONFIG, hub_max_accounts=5))
    assert weights(loose.shared["device"], loose, "a2", "a3") == 0.25  # 1/(5-1)
    assert weights(loose.shared["device"], loose, "a0", "a1") == 1.25


def lockstep_events(pairs_repeats: dict[tuple[str, str], int]) -> list[dict]:
    """Each pair likes a fresh target account together, `repeats` times."""
    rows, t = [], 0
    for (a, b), repeats in pairs_repeats.items():
        for r in range(repeats):
            target = f"t{t}"
            t += 1
            rows += [event(a, 100 * t, "like", target_id=target)]
            rows += [event(b, 100 * t + 1, "like", target_id=target)]
            del r
    return rows


def test_lockstep_needs_repeats_in_the_same_window():
    names = ["a", "b", "c", "d"] + [f"t{i}" for i in range(10)]
    events = lockstep_events({("a", "b"): 3, ("c", "d"): 2})
    events += [event("c", 5000, "like", target_id="t0"), event("d", 5030, "like", target_id="t0")]
    graphs = build_graphs(dataset([{"account_id": x} for x in names], events), CONFIG)
    assert weights(graphs.lockstep, graphs, "a", "b") > 0
    assert weights(graphs.lockstep, graphs, "c", "d") == 0.0  # two shared windows only
    keys = graphs.keys.filter(pl.col("kind") == "lockstep")
    assert keys.height == 3 and keys["engagement"].all()  # targets are accounts
    assert set(keys["target"]) == {"t0", "t1", "t2"}


def test_lockstep_drops_crowded_buckets():
    names = [f"a{i}" for i in range(6)] + ["t"]
    events = [
        event(f"a{i}", 1000 * w + i, "like", target_id="t") for w in range(4) for i in range(6)
    ]
    ds = dataset([{"account_id": x} for x in names], events)
    assert build_graphs(ds, CONFIG).lockstep.m > 0
    assert build_graphs(ds, replace(CONFIG, lockstep_bucket_cap=5)).lockstep.m == 0


def test_lockstep_on_popular_targets_weighs_little():
    """Co-liking a target 200 others like, three times, is below lockstep_min_weight."""
    names = ["a", "b"] + [f"fan{i}" for i in range(200)] + ["star"]
    events = [event("a", 1000 * w, "like", target_id="star") for w in range(3)]
    events += [event("b", 1000 * w + 1, "like", target_id="star") for w in range(3)]
    events += [event(f"fan{i}", 50_000 + 30 * i, "like", target_id="star") for i in range(200)]
    graphs = build_graphs(dataset([{"account_id": x} for x in names], events), CONFIG)
    assert weights(graphs.lockstep, graphs, "a", "b") == 0.0


def test_relation_graphs():
    accounts = [{"account_id": x} for x in ("a", "b", "c")]
    edges = [
        {"src": "a", "dst": "b", "relation": "follows"},
        {"src": "b", "dst": "a", "relation": "follows", "weight": 2.0},
        {"src": "b", "dst": "c", "relation": "interacts", "weight": 3.0},
        {"src": "c", "dst": "a", "relation": "same_phone"},
        {"src": "c", "dst": "c", "relation": "follows"},
    ]
    graphs = build_graphs(dataset(accounts, edges=edges), CONFIG)
    assert graphs.directed.degree().tolist() == [1, 2, 1]
    assert weights(graphs.social, graphs, "a", "b") == 3.0
    assert weights(graphs.relations["follows"], graphs, "a", "b") == 3.0
    assert weights(graphs.relations["interacts"], graphs, "c", "b") == 3.0
    assert weights(graphs.binding_relations, graphs, "a", "c") == 1.0
    assert graphs.links(("relation",)).m == 2
