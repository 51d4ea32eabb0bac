"""Tiny synthetic feature tables, labels, groups and graphs for the training tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
import scipy.sparse as sp

T0 = datetime(2024, 1, 1, tzinfo=UTC)


@dataclass
class World:
    """A small account base: features, labels, groups (rings), a graph and the truth."""

    features: pl.DataFrame
    labels: pl.DataFrame
    groups: pl.DataFrame
    graph: sp.csr_matrix
    truth: pl.DataFrame


def make_world(
    n: int = 1200, bad_share: float = 0.15, label_share: float = 0.6, seed: int = 0
) -> World:
    """Accounts in rings (bad rings share a signal); some labelled, over 60 days."""
    rng = np.random.default_rng(seed)
    ids = [f"a{i:05d}" for i in range(n)]
    ring = np.zeros(n, dtype=np.int64)
    bad = np.zeros(n, dtype=bool)
    i, r = 0, 0
    while i < n:
        size = int(rng.integers(1, 9))
        is_bad = rng.random() < bad_share
        ring[i : i + size] = r
        bad[i : i + size] = is_bad
        i, r = i + size, r + 1
    ring_signal = rng.normal(size=r)[ring] + 1.2 * bad
    features = pl.DataFrame(
        {
            "account_id": ids,
            "posts_7d": rng.poisson(5 + 5 * bad).astype(np.float64),
            "ring_signal": ring_signal + rng.normal(scale=0.5, size=n),
            "noise": rng.normal(size=n),
            "verified": rng.random(n) < 0.3 * ~bad,
            "category": rng.choice(["brand", "media", "creator"], size=n).tolist(),
        }
    )
    labelled = rng.random(n) < label_share
    days = rng.uniform(0, 60, size=n)
    reason = np.where(bad, rng.choice(["fraud", "fake"], size=n), None)
    labels = pl.DataFrame(
        {
            "account_id": np.array(ids)[labelled],
            "label": bad[labelled].astype(np.int8),
            "labelled_at": [T0 + timedelta(days=float(d)) for d in days[labelled]],
            "reason": reason[labelled].tolist(),
        },
        schema={
            "account_id": pl.String,
            "label": pl.Int8,
            "labelled_at": pl.Datetime("us", "UTC"),
            "reason": pl.String,
        },
    )
    groups = pl.DataFrame({"account_id": ids, "component_id": [f"c{g}" for g in ring]})
    same = ring[:, None] == ring[None, :]
    np.fill_diagonal(same, False)
    graph = sp.csr_matrix(same.astype(np.float64))
    truth = pl.DataFrame({"account_id": ids, "is_bad": bad, "ring_id": [f"c{g}" for g in ring]})
    return World(features, labels, groups, graph, truth)


def share_fn(graph: sp.csr_matrix, known_bad: np.ndarray, known: np.ndarray) -> pl.DataFrame:
    """Reference bad_neighbour_share: known-bad neighbours over known neighbours (null if none)."""
    n_bad = graph @ known_bad.astype(np.float64)
    n_known = graph @ known.astype(np.float64)
    share = np.where(n_known > 0, n_bad / np.maximum(n_known, 1), np.nan)
    return pl.DataFrame({"bad_neighbour_share": share, "known_neighbours": n_known}).with_columns(
        pl.col("bad_neighbour_share").fill_nan(None)
    )


def specs() -> tuple:
    """Registry specs for the synthetic features (the real spec modules are not needed)."""
    from features.registry import FeatureSpec

    return (
        FeatureSpec("posts_7d", "posts in the last 7 days", "count", "behaviour"),
        FeatureSpec("noise", "a feature with no signal", "", "behaviour"),
        FeatureSpec("ring_signal", "a ring-level signal", "", "graph"),
    )


def dataset_of(world: World):
    """A features.io.contract.Dataset around a synthetic world (no events or edges needed)."""
    from pathlib import Path

    from features.io.contract import EDGES, EVENTS, Dataset

    accounts = pl.DataFrame({"account_id": world.features["account_id"]})
    return Dataset(
        Path("synthetic"),
        T0 + timedelta(days=61),
        accounts,
        pl.DataFrame(schema=EVENTS.schema),
        pl.DataFrame(schema=EDGES.schema),
        world.labels,
    )
