"""The new ring links on tiny hand-made worlds: co-timed novelty (takeover crews), exclusivity
weights, mutual relations, and fans of a celebrity who never bind."""

from __future__ import annotations

from dataclasses import replace
from itertools import combinations

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from features.config import GraphConfig
from features.graph import build_graphs, csr, find_rings
from features.graph.links import exclusive_pairs, mutual_graph
from tests.features.graph.ring_worlds import crew, crews_and_families, family, fans
from tests.features.graph.worlds import dataset

CONFIG = GraphConfig()


def candidates_of(ds, config=CONFIG, **kwargs) -> set[tuple[str, ...]]:
    """Member tuples of every candidate ring."""
    rings = find_rings(ds, build_graphs(ds, config), config, **kwargs)
    if rings.candidates is None:
        return set()
    return {tuple(m) for m in rings.candidates["members"].to_list()}


def test_a_takeover_crew_of_three_is_one_candidate_bound_by_novelty():
    accounts, events = crew("c")
    ds = dataset(accounts, events)
    graphs = build_graphs(ds, CONFIG)
    novel = graphs.keys.filter(pl.col("kind") == "novelty")["value"].to_list()
    assert set(novel) == {"device:kit-c-0", "device:kit-c-1", "ip:proxy-c-0", "ip:proxy-c-1"}
    rings = find_rings(ds, graphs, CONFIG)
    row = rings.candidates.row(0, named=True)
    assert rings.candidates.height == 1 and row["members"] == ["c0", "c1", "c2"]
    assert row["cover_novelty"] == 1.0 and row["cover_instrument"] == 1.0


def test_an_old_shared_tablet_is_no_novelty():
    """The family used its tablet from the first day of the data: nothing new about it."""
    accounts, events = family("f")
    graphs = build_graphs(dataset(accounts, events), CONFIG)
    assert graphs.keys.filter(pl.col("kind") == "novelty").height == 0


def test_new_accounts_picking_up_kit_are_no_takeover():
    """Novelty needs history: accounts registered days ago have no old habits to break."""
    accounts, events = crew("c")
    young = [a | {"created_at": events[-1]["ts"]} for a in accounts]
    graphs = build_graphs(dataset(young, events), CONFIG)
    assert graphs.keys.filter(pl.col("kind") == "novelty").height == 0


def test_300_fans_liking_one_post_within_a_minute_are_not_a_ring():
    ds = fans()
    graphs = build_graphs(ds, CONFIG)
    assert graphs.lockstep.m == 0  # crowded buckets are moments, not coordination
    assert candidates_of(ds) == set()
    # even with no bucket cap, a post liked by 300 weighs 1/log(305) a bucket: no lockstep
    uncapped = replace(CONFIG, lockstep_bucket_cap=10_000)
    assert build_graphs(ds, uncapped).lockstep.m == 0


def test_a_family_sharing_a_tablet_is_not_a_ring():
    """A candidate (they do share a tablet and a home IP), but the learned verdict, trained on
    other labelled families and crews, does not report an unlabelled family; nor does the
    unsupervised score when the account model scores its members low."""
    ds = crews_and_families()
    rings = find_rings(ds, build_graphs(ds, CONFIG), CONFIG, labels=ds.labels)
    assert rings.candidates["verdict"][0] == "learned"
    assert ("f5x0", "f5x1", "f5x2", "f5x3") in {
        tuple(m) for m in rings.candidates["members"].to_list()
    }
    reported = {m for ms in rings.rings["members"].to_list() for m in ms}
    assert not any(m.startswith("f") for m in reported)
    accounts, events = family("f")
    alone = dataset(accounts, events)
    scores = pl.DataFrame({"account_id": [a["account_id"] for a in accounts], "score": 0.05})
    quiet = find_rings(alone, build_graphs(alone, CONFIG), CONFIG, account_scores=scores)
    assert quiet.candidates["verdict"][0] == "unsupervised" and quiet.rings.height == 0


def test_unlabelled_takeover_crews_are_reported():
    ds = crews_and_families()
    rings = find_rings(ds, build_graphs(ds, CONFIG), CONFIG, labels=ds.labels)
    members = {tuple(m) for m in rings.rings["members"].to_list()}
    assert {("c4x0", "c4x1", "c4x2"), ("c5x0", "c5x1", "c5x2")} <= members
    assert all(0.0 <= s <= 1.0 for s in rings.rings["score"])


def test_an_address_alone_links_only_two_accounts():
    """IPs count half: three strangers behind one address are no candidate; two phones shared
    by the same three are."""
    accounts = [{"account_id": a} for a in ("a", "b", "c")]
    ip_only = [{"account_id": a, "ts": dataset([]).as_of, "action": "login", "ip": "1.1.1.1"}
               for a in "abc"]  # fmt: skip
    assert candidates_of(dataset(accounts, ip_only)) == set()
    phones = [e | {"device": "phone"} for e in ip_only]
    assert candidates_of(dataset(accounts, phones)) == {("a", "b", "c")}


def reference_exclusive(groups: list[list[int]], d: list[int], n: int, c: float) -> dict:
    """Pair -> summed 1/log(d + c) over the groups both are in (plain Python)."""
    out: dict = {}
    for members, size in zip(groups, d, strict=True):
        for a, b in combinations(sorted(set(members)), 2):
            out[(a, b)] = out.get((a, b), 0.0) + 1.0 / np.log(size + c)
    return out


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(st.integers(0, 9), min_size=1, max_size=5), max_size=6))
def test_exclusive_pairs_match_a_plain_reference(groups):
    n = 10
    rows = [(node, key) for key, members in enumerate(groups) for node in set(members)]
    schema = {"node": pl.Int64, "key": pl.Int64}
    incidence = (
        pl.DataFrame(rows, schema=schema, orient="row") if rows else pl.DataFrame(schema=schema)
    )
    d = [len(set(m)) + 3 for m in groups]  # users elsewhere too
    keys = pl.DataFrame(
        {"key": list(range(len(groups))), "accounts": d},
        schema={"key": pl.Int64, "accounts": pl.Int64},
    )
    graph = exclusive_pairs(keys, incidence, n, 5.0)
    src, dst, w = graph.edges()
    got = {(a, b): x for a, b, x in zip(src, dst, w, strict=True) if a < b}
    want = reference_exclusive(groups, d, n, 5.0)
    assert got.keys() == want.keys()
    for pair, weight in want.items():
        assert got[pair] == pytest.approx(weight)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 7), st.integers(0, 7)), max_size=30))
def test_mutual_graph_matches_a_plain_reference(edges):
    n = 8
    src = np.array([e[0] for e in edges], dtype=np.int64)
    dst = np.array([e[1] for e in edges], dtype=np.int64)
    directed = csr.from_edges(n, src, dst, undirected=False)
    pairs = {(a, b) for a, b in edges if a != b}
    mutual = {(min(a, b), max(a, b)) for a, b in pairs if (b, a) in pairs}
    degree = {u: sum(u in p for p in mutual) for u in range(n)}
    got_src, got_dst, got_w = mutual_graph(directed, 5.0).edges()
    got = {(a, b): w for a, b, w in zip(got_src, got_dst, got_w, strict=True) if a < b}
    assert got.keys() == mutual
    for (a, b), w in got.items():
        assert w == pytest.approx(1.0 / np.log(max(degree[a], degree[b]) + 5.0))
