"""A small account base for the detection tests: features, rings, events, edges, a real model.

Bad accounts sit in rings that share a device; a real (tiny) LightGBM RingwatchModel with
isotonic calibration is trained on it, so scores, contributions and calibration are real.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import lightgbm as lgb
import numpy as np
import polars as pl

from training.calibrate import fit_calibrator
from training.model import RingwatchModel

AS_OF = datetime(2024, 1, 28, tzinfo=UTC)
FEATURES = ["shared_device_accounts", "posts_per_day", "noise", "verified"]


@dataclass
class World:
    """Feature table, truth, rings (features.graph's frames), events and edges."""

    features: pl.DataFrame
    truth: pl.DataFrame
    membership: pl.DataFrame
    rings: pl.DataFrame
    events: pl.DataFrame
    edges: pl.DataFrame


def make_world(n: int = 2000, seed: int = 0) -> World:
    """`n` accounts; about 8 % bad, most of them in rings of 3 to 9 that share a device."""
    rng = np.random.default_rng(seed)
    ids = [f"acc{i:05d}" for i in range(n)]
    bad = np.zeros(n, dtype=bool)
    ring_of = np.full(n, -1)
    i, r = 0, 0
    while i < int(0.08 * n):
        size = int(rng.integers(3, 10))
        bad[i : i + size] = True
        ring_of[i : i + size] = r
        i, r = i + size, r + 1
    order = rng.permutation(n)  # rings are not contiguous in account order
    bad, ring_of = bad[order], ring_of[order]
    sizes = np.bincount(ring_of[ring_of >= 0], minlength=r)
    shared = np.where(ring_of >= 0, sizes[np.maximum(ring_of, 0)] - 1, rng.poisson(0.3, n))
    features = pl.DataFrame(
        {
            "account_id": ids,
            "shared_device_accounts": (shared + rng.poisson(0.5, n)).astype(np.float64),
            "posts_per_day": rng.gamma(2.0, 1.0 + 3.0 * bad),
            "noise": rng.normal(size=n),
            "verified": (rng.random(n) < 0.3) & ~bad,
        }
    )
    truth = pl.DataFrame({"account_id": ids, "is_bad": bad})
    ring_ids = [f"R{k:06d}" for k in range(1, r + 1)]
    members = [[ids[j] for j in np.flatnonzero(ring_of == k)] for k in range(r)]
    rings = pl.DataFrame(
        {
            "ring_id": ring_ids,
            "size": [len(m) for m in members],
            "members": members,
            "score": [float(len(m)) / 2 for m in members],
            "identifiers": [[f"device:dev-{k}", f"ip:10.0.{k}.1"] for k in range(r)],
            "evidence_kinds": [["device", "ip"] for _ in range(r)],
            "lockstep_windows": [0] * r,
            "lockstep_targets": [[] for _ in range(r)],
            "first_seen": [AS_OF - timedelta(days=10)] * r,
        },
        schema_overrides={
            "lockstep_targets": pl.List(pl.String),
            "first_seen": pl.Datetime("us", "UTC"),
        },
    )
    membership = (
        rings.select("members", "ring_id", ring_score="score", ring_size="size")
        .explode("members")
        .rename({"members": "account_id"})
        .select("account_id", "ring_id", "ring_score", "ring_size")
        .sort("account_id")
    )
    rows = [
        (m, AS_OF - timedelta(hours=j + 1), "login", None, f"10.0.{k}.1", f"dev-{k}")
        for k, ms in enumerate(members)
        for j, m in enumerate(ms)
    ]
    events = pl.DataFrame(
        rows,
        schema={
            "account_id": pl.String,
            "ts": pl.Datetime("us", "UTC"),
            "action": pl.String,
            "target_id": pl.String,
            "ip": pl.String,
            "device": pl.String,
        },
        orient="row",
    ).with_columns(instrument=pl.lit(None, dtype=pl.String))
    edges = pl.DataFrame(
        {
            "src": [ms[0] for ms in members],
            "dst": [ms[1] for ms in members],
            "relation": ["same_phone"] * r,
        }
    )
    return World(features, truth, membership, rings, events, edges)


def train_model(world: World, seed: int = 0) -> RingwatchModel:
    """A real LightGBM model with isotonic calibration on a held-out half."""
    x = world.features.select(FEATURES).to_numpy().astype(np.float64)
    y = world.truth["is_bad"].to_numpy().astype(np.int8)
    half = len(y) // 2
    params = {
        "objective": "binary",
        "verbose": -1,
        "num_leaves": 7,
        "seed": seed,
        "deterministic": True,
        "num_threads": 1,
        "min_data_in_leaf": 10,
    }
    booster = lgb.train(
        params, lgb.Dataset(x[:half], y[:half], feature_name=FEATURES), num_boost_round=40
    )
    calibrator = fit_calibrator(booster.predict(x[half:], raw_score=True), y[half:])
    return RingwatchModel(booster, calibrator, list(FEATURES), name="ringwatch", version="1")
