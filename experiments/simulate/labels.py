"""What moderators have seen (labels, with realistic timing and noise) and the hidden truth."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import polars as pl

from experiments.simulate.batch import account_ids, id_width
from experiments.simulate.kinds import KIND, KINDS, N_BENIGN, REASON
from experiments.simulate.plan import Plan
from experiments.simulate.population import DAY
from features.io.contract import LABELS, TS

RING_FOUND_BOOST = 1.5  # members of a ring moderators found are this much likelier labelled
CLEARED_WEIGHT = {"newsroom": 5.0, "nat_user": 3.0}  # confounders are reviewed more often
REPORTED_WEIGHT = 4.0  # benign accounts with reports are reviewed more often


def abuse_start(plan: Plan, rng: np.random.Generator) -> np.ndarray:
    """When each account's abuse began: soon after creation, or some time before the window."""
    created = plan.created
    start = np.where(
        created > -30 * DAY,
        created + rng.uniform(0, 2 * DAY, plan.n),
        -rng.uniform(0, 30 * DAY, plan.n),
    )
    b = plan.bursts
    big = np.isin(plan.kind[b.acc], [KIND["porn"], KIND["violence"]])
    first = np.full(plan.n, np.inf)
    np.minimum.at(first, b.acc[big], b.time[big])
    start = np.where(np.isfinite(first), np.minimum(first, np.maximum(start, created)), start)
    taken = np.isfinite(plan.takeover.time)  # a hijacked account's abuse starts at its takeover
    return np.where(taken, plan.takeover.time, start)


def labelled_bad(plan: Plan, rng: np.random.Generator) -> np.ndarray:
    """Which bad accounts moderators have closed: whole rings tend to be found together."""
    share = plan.config.labelled_share
    high, low = min(1.0, share * RING_FOUND_BOOST), share * 0.2
    found_share = (share - low) / (high - low) if high > low else 1.0
    found = rng.random(max(plan.groups.count, 1)) < found_share
    p = np.full(plan.n, share)
    ringed = plan.group >= 0
    p[ringed] = np.where(found[plan.group[ringed]], high, low)
    return (plan.kind >= N_BENIGN) & (rng.random(plan.n) < p)


def present_reasons(kind: np.ndarray) -> tuple[str, ...]:
    """Closing reasons of the bad kinds this world holds (wrongly closed accounts get one)."""
    present = set(np.unique(kind[kind >= N_BENIGN]).tolist())
    reasons = [REASON[k] for code, k in enumerate(KINDS) if code in present]
    return tuple(dict.fromkeys(reasons)) or tuple(REASON.values())[:1]


def weighted_choice(weights: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """`count` distinct indices drawn with probability proportional to `weights`."""
    candidates = np.flatnonzero(weights > 0)
    count = min(count, candidates.size)
    if count == 0:
        return np.zeros(0, dtype=np.int64)
    keys = rng.random(candidates.size) ** (1.0 / weights[candidates])
    return np.sort(candidates[np.argsort(-keys, kind="stable")[:count]])


def build_labels(plan: Plan, rng: np.random.Generator) -> pl.DataFrame:
    """Label 1 for closed bad accounts, 0 for reviewed benign ones, plus a little noise."""
    kind, n = plan.kind, plan.n
    bad = kind >= N_BENIGN
    positive = labelled_bad(plan, rng)
    lag = rng.lognormal(np.log(plan.config.label_lag_days * DAY), 0.9, n)
    reported = np.zeros(n, dtype=bool)
    reported[plan.bursts.acc[plan.bursts.size > 1]] = True
    reported[np.isfinite(plan.takeover.time)] = True  # owners report their hijacked accounts
    burst_lag = rng.lognormal(np.log(1.5 * DAY), 0.6, n)
    seen_from = np.maximum(abuse_start(plan, rng), 0.0)  # moderators watch the window
    when_bad = seen_from + np.where(reported & bad, burst_lag, lag)
    weight = np.where(bad, 0.0, 1.0)
    for name, w in CLEARED_WEIGHT.items():
        weight[kind == KIND[name]] *= w
    weight[reported & ~bad] *= REPORTED_WEIGHT
    cleared = weighted_choice(weight, round(plan.config.cleared_share * (~bad).sum()), rng)
    noise = plan.config.label_noise
    weight[cleared] = 0.0
    wrong_close = weighted_choice(weight, round(noise * positive.sum() / (1 - noise)), rng)
    missed = weighted_choice(
        (bad & ~positive).astype(float), round(noise * cleared.size / (1 - noise)), rng
    )
    start = np.maximum(plan.created, 0.0)
    when_benign = start + rng.random(n) * np.maximum(plan.horizon - start, 0.0)
    bad_reason = np.array([REASON.get(k, "") for k in KINDS], dtype=object)[kind]
    reasons = present_reasons(kind)
    guess = np.asarray(reasons, dtype=object)[rng.integers(0, len(reasons), n)]
    rows = {
        "acc": np.concatenate([np.flatnonzero(positive), wrong_close, cleared, missed]),
        "label": np.concatenate(
            [
                np.ones(positive.sum() + wrong_close.size, np.int8),
                np.zeros(cleared.size + missed.size, np.int8),
            ]
        ),
    }
    pos = np.flatnonzero(positive)
    rows["sec"] = np.concatenate(
        [when_bad[pos], when_benign[wrong_close], when_benign[cleared], when_bad[missed]]
    )
    rows["reason"] = np.concatenate(
        [
            bad_reason[pos],
            guess[wrong_close],
            np.full(cleared.size + missed.size, "cleared", object),
        ]
    )
    return labels_frame(rows, plan.config.start, id_width(n))


def labels_frame(rows: dict, start: datetime, width: int) -> pl.DataFrame:
    """The labels table in the contract's types, sorted by account."""
    start_us = int(start.timestamp() * 1_000_000)
    frame = pl.DataFrame(
        {
            "acc": rows["acc"].astype(np.int64),
            "label": rows["label"],
            "sec": rows["sec"],
            "reason": pl.Series(list(rows["reason"]), dtype=pl.String),
        }
    ).sort("acc")
    return frame.select(
        account_ids(pl.col("acc"), width).alias("account_id"),
        pl.col("label").cast(pl.Int8),
        (pl.lit(start_us) + (pl.col("sec") * 1e6).floor().cast(pl.Int64))
        .cast(TS)
        .alias("labelled_at"),
        pl.col("reason"),
    ).select([pl.col(c).cast(t) for c, t in LABELS.schema.items()])


def build_truth(plan: Plan) -> pl.DataFrame:
    """The hidden truth (evaluation only): kind, ring and camouflage of every account."""
    width = id_width(plan.n)
    bad_group = np.zeros(max(plan.groups.count, 1), dtype=bool)
    bad_group[: plan.groups.count] = plan.groups.kind >= N_BENIGN
    ring_number = np.cumsum(bad_group) - 1
    in_ring = (plan.group >= 0) & bad_group[np.maximum(plan.group, 0)]
    ring = np.where(in_ring, ring_number[np.maximum(plan.group, 0)], -1)
    frame = pl.DataFrame(
        {
            "acc": np.arange(plan.n, dtype=np.int64),
            "kind": pl.Series(KINDS, dtype=pl.String).gather(plan.kind.astype(np.int64)),
            "ring": ring,
            "is_bad": plan.kind >= N_BENIGN,
            "camouflage": plan.camo,
        }
    )
    return frame.select(
        account_ids(pl.col("acc"), width).alias("account_id"),
        pl.col("is_bad"),
        pl.col("kind"),
        pl.when(pl.col("ring") >= 0)
        .then(pl.format("r{}", pl.col("ring").cast(pl.String).str.zfill(5)))
        .alias("ring_id"),
        pl.col("camouflage"),
    )
