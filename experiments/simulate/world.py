"""A simulated world: plan it, then generate its events and edges account chunk by chunk."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import polars as pl

from experiments.simulate import behaviour, coordinated, farms, leaders, payments, takeover
from experiments.simulate.batch import (
    Names,
    account_ids,
    id_width,
    materialise,
    materialise_edges,
)
from experiments.simulate.config import WorldConfig
from experiments.simulate.edges import chunk_edges
from experiments.simulate.kinds import CATEGORIES
from experiments.simulate.labels import build_labels, build_truth
from experiments.simulate.plan import Plan, plan_world
from features.io.contract import ACCOUNTS, TS

GENERATORS = (
    behaviour.human_events,
    behaviour.new_account_events,
    payments.payment_events,
    payments.promo_posts,
    payments.report_events,
    coordinated.scheduled_events,
    coordinated.episode_events,
    coordinated.ring_follow_events,
    coordinated.camouflage_events,
    leaders.leader_post_events,
    leaders.reaction_events,
    takeover.takeover_events,
    farms.order_events,
    farms.story_events,
)


@dataclass(frozen=True)
class World:
    """A simulated platform: the contract's tables, the hidden truth and the snapshot time."""

    accounts: pl.DataFrame
    events: pl.DataFrame
    edges: pl.DataFrame
    labels: pl.DataFrame
    truth: pl.DataFrame
    as_of: datetime


@dataclass(frozen=True)
class Chunk:
    """Events and edges of one contiguous range of accounts."""

    index: int
    events: pl.DataFrame
    edges: pl.DataFrame


def window_end(config: WorldConfig) -> datetime:
    """The end of the observed window: the world's snapshot time."""
    return config.start + timedelta(weeks=config.weeks)


def accounts_frame(plan: Plan) -> pl.DataFrame:
    """The accounts table: contract columns plus two attribute columns a platform would have."""
    start_us = int(plan.config.start.timestamp() * 1_000_000)
    frame = pl.DataFrame(
        {
            "acc": np.arange(plan.n, dtype=np.int64),
            "created_us": start_us + np.floor(plan.created * 1e6).astype(np.int64),
            "category": pl.Series(CATEGORIES, dtype=pl.String).gather(
                plan.category.astype(np.int64)
            ),
            "verified": plan.profile["verified"],
            "followers": plan.profile["followers"],
            "following": plan.profile["following"],
            "profile_completeness": plan.profile["completeness"],
        }
    )
    return frame.select(
        account_ids(pl.col("acc"), id_width(plan.n)).alias("account_id"),
        pl.col("created_us").cast(TS).alias("created_at"),
        *[
            pl.col(c).cast(t)
            for c, t in ACCOUNTS.schema.items()
            if c not in ("account_id", "created_at")
        ],
        pl.col("following").cast(pl.Int64),
        pl.col("profile_completeness").cast(pl.Float64),
    )


def chunk_ranges(plan: Plan) -> list[tuple[int, int]]:
    """Contiguous account ranges generated together."""
    step = plan.config.chunk_accounts
    return [(lo, min(lo + step, plan.n)) for lo in range(0, plan.n, step)]


def names_of(plan: Plan) -> Names:
    """String names of the world's accounts, devices and instruments."""
    return Names.build(plan.n, plan.n_devices, plan.n_instruments)


def generate_chunk(plan: Plan, index: int, lo: int, hi: int, names: Names) -> Chunk:
    """Events and edges of accounts lo..hi-1, from a random stream of their own."""
    rng = np.random.default_rng(np.random.SeedSequence([plan.config.seed, 1, index]))
    rows = np.arange(lo, hi, dtype=np.int64)
    batch = pl.concat([generate(plan, rows, rng) for generate in GENERATORS])
    edges = materialise_edges(chunk_edges(plan, lo, hi, batch, rng), plan.config.start, names)
    return Chunk(index, materialise(batch, plan.config.start, names), edges)


def iter_chunks(plan: Plan) -> Iterator[Chunk]:
    """Chunks in account order; each depends only on the plan, so memory stays bounded."""
    names = names_of(plan)
    for index, (lo, hi) in enumerate(chunk_ranges(plan)):
        yield generate_chunk(plan, index, lo, hi, names)


def static_tables(plan: Plan) -> dict[str, pl.DataFrame]:
    """Accounts, labels and truth: the tables drawn from the plan alone."""
    rng = np.random.default_rng(np.random.SeedSequence([plan.config.seed, 2]))
    return {
        "accounts": accounts_frame(plan),
        "labels": build_labels(plan, rng),
        "truth": build_truth(plan),
    }


def simulate_world(config: WorldConfig) -> World:
    """Simulate a whole world in memory (for big worlds write it with `simulate_to` instead)."""
    plan = plan_world(config)
    chunks = list(iter_chunks(plan))
    return World(
        events=pl.concat([c.events for c in chunks]),
        edges=pl.concat([c.edges for c in chunks]),
        as_of=window_end(config),
        **static_tables(plan),
    )
