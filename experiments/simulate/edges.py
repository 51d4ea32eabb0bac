"""The explicit relation table: who follows whom (before and during the window), who interacts."""

from __future__ import annotations

import numpy as np
import polars as pl

from experiments.simulate.batch import EDGE_RAW
from experiments.simulate.kinds import ACTION
from experiments.simulate.plan import Plan, draw

IN_WORLD_FOLLOWS = 0.04  # share of an account's followings that point inside the world
MAX_FOLLOWING = 3_000
RELATIONS = ("follows", "interacts")  # in sort order


def prior_follows(plan: Plan, lo: int, hi: int, rng: np.random.Generator):
    """Follows made before the window by accounts lo..hi-1, towards popular accounts."""
    rows = np.arange(lo, hi)
    rows = rows[plan.created[rows] < 0]
    following = np.minimum(plan.profile["following"][rows], MAX_FOLLOWING)
    src = np.repeat(rows, rng.poisson(following * IN_WORLD_FOLLOWS))
    dst = draw(plan.popular, src.size, rng)
    since = np.maximum(plan.created[src], plan.created[dst])
    sec = since - rng.random(src.size) * since
    p = plan.pairs
    inside = (p.src >= lo) & (p.src < hi) & (p.ts < 0)
    return (
        np.concatenate([src, p.src[inside]]),
        np.concatenate([dst, p.dst[inside]]),
        np.concatenate([sec, p.ts[inside]]),
    )


def first_of_pairs(src, dst, sec, n: int):
    """One row per distinct (src, dst): the earliest time and how many rows there were."""
    keep = src != dst
    src, dst, sec = src[keep], dst[keep], sec[keep]
    key = src * n + dst
    order = np.argsort(key, kind="stable")
    key, sec = key[order], sec[order]
    first = np.ones(key.size, dtype=bool)
    first[1:] = key[1:] != key[:-1]
    starts = np.flatnonzero(first)
    counts = np.diff(np.append(starts, key.size))
    earliest = np.minimum.reduceat(sec, starts) if starts.size else sec[:0]
    return key[starts] // n, key[starts] % n, earliest, counts


def chunk_edges(plan: Plan, lo: int, hi: int, events: pl.DataFrame, rng) -> pl.DataFrame:
    """Follows (prior and in-window, earliest kept) and interaction counts of accounts lo..hi-1."""
    acc, t_acc = events["acc"].to_numpy(), events["t_acc"].to_numpy()
    action, sec = events["action"].to_numpy(), events["sec"].to_numpy()
    now = (action == ACTION["follow"]) & (t_acc >= 0)
    p_src, p_dst, p_sec = prior_follows(plan, lo, hi, rng)
    f_src, f_dst, f_sec, _ = first_of_pairs(
        np.concatenate([p_src, acc[now]]),
        np.concatenate([p_dst, t_acc[now]]),
        np.concatenate([p_sec, sec[now]]),
        plan.n,
    )
    touch = np.isin(action, [ACTION["like"], ACTION["comment"]]) & (t_acc >= 0)
    i_src, i_dst, i_sec, i_count = first_of_pairs(acc[touch], t_acc[touch], sec[touch], plan.n)
    src = np.concatenate([f_src, i_src])
    dst = np.concatenate([f_dst, i_dst])
    relation = np.concatenate([np.zeros(f_src.size, np.int64), np.ones(i_src.size, np.int64)])
    order = np.argsort((src * 2 + relation) * plan.n + dst, kind="stable")
    frame = pl.DataFrame(
        {
            "src": src[order],
            "dst": dst[order],
            "relation": pl.Series(RELATIONS, dtype=pl.String).gather(relation[order]),
            "weight": np.concatenate([np.ones(f_src.size), i_count.astype(np.float64)])[order],
            "sec": np.concatenate([f_sec, i_sec])[order],
        }
    )
    return frame.cast(EDGE_RAW)
