"""Follower farms delivering orders to their customers, and paraphrasing content farms.

A follower farm runs dozens of accounts from a few phones and carrier IPs and delivers each
order (a customer buying followers) over some hours: a share of its accounts follow, some also
like, the customer. Every `follower_customer` account places at least one order.
A paraphrasing farm posts its own rewrite of the same story within about twenty minutes of
each other (same topic, different template and wording) and shares the first version.
Sources: see archetypes.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from experiments.simulate.batch import OWN_POST, raw
from experiments.simulate.config import WorldConfig
from experiments.simulate.coordination import customers
from experiments.simulate.headlines import SLOTS, STYLE, pick_templates, render
from experiments.simulate.kinds import ACTION, KIND
from experiments.simulate.population import DAY, HOUR, MINUTE, Groups
from experiments.simulate.timing import cumcount

if TYPE_CHECKING:
    from experiments.simulate.plan import Plan

PARAPHRASE_CONTENT = 9 * 10**14  # content ids of a story's first version start here
STORY_SLOTS = 2  # leading template slots every version of a story keeps (topic, source)


@dataclass(frozen=True)
class Timeline:
    """Group-level items (orders or stories), sorted by group then time."""

    group: np.ndarray  # int64 group per item
    offsets: np.ndarray  # int64, len G+1: items of g are [offsets[g], offsets[g+1])
    time: np.ndarray  # float64 seconds
    target: np.ndarray  # int64: the customer of an order, the first author of a story
    spread: np.ndarray  # float64 seconds: how long an order's delivery or a story's rewrites take
    share: np.ndarray  # float64: share of the farm's members taking part
    u: np.ndarray  # (items, SLOTS) word uniforms of a story (orders: zeros)


def timeline(group, time, target, spread, share, u, count: int) -> Timeline:
    """Items sorted by (group, time) with offsets over `count` groups."""
    order = np.lexsort((time, group))
    offsets = np.concatenate([[0], np.cumsum(np.bincount(group, minlength=count))])
    return Timeline(
        group[order], offsets.astype(np.int64), time[order], target[order], spread[order],
        share[order], u[order],
    )  # fmt: skip


def plan_orders(kind, category, created, groups: Groups, config: WorldConfig, horizon, rng):
    """Follower orders: each customer buys at least once; farms also sell to others."""
    farms = np.flatnonzero(groups.kind == KIND["follower_farm"])
    buyers = np.flatnonzero(kind == KIND["follower_customer"])
    extra = rng.poisson(config.follower_orders_per_day * horizon / DAY * farms.size)
    if farms.size == 0:
        buyers, extra = buyers[:0], 0
    elif buyers.size:
        extra = max(extra - buyers.size, 0)
        buyers = np.concatenate([buyers, buyers[rng.integers(0, buyers.size, extra)]])
    else:
        buyers = customers(kind, category, created, rng, extra)
    farm = farms[rng.integers(0, max(farms.size, 1), buyers.size)] if farms.size else buyers
    time = rng.uniform(0, max(horizon - 6 * HOUR, HOUR), buyers.size)
    slow = (1.0, 1.5, 4.0)[config.camouflage_level]
    spread = rng.lognormal(np.log(6 * HOUR * slow), 0.8, buyers.size)
    share = rng.uniform(0.3, 0.9, buyers.size)
    u = np.zeros((buyers.size, SLOTS))
    return timeline(farm.astype(np.int64), time, buyers, spread, share, u, groups.count)


def plan_stories(groups: Groups, config: WorldConfig, horizon, rng) -> Timeline:
    """Stories of the paraphrasing farms: when, who posts first, the topic's word uniforms."""
    farms = np.flatnonzero(groups.kind == KIND["paraphrase_farm"])
    counts = rng.poisson(config.paraphrase_stories_per_day * horizon / DAY, farms.size)
    group = np.repeat(farms, counts).astype(np.int64)
    sizes = groups.sizes[group]
    author = groups.members[groups.offsets[group] + rng.integers(0, 1 << 30, group.size) % sizes]
    level = config.camouflage_level
    spread = np.full(group.size, 20 * MINUTE * (1.0, 1.5, 3.0)[level])
    share = np.full(group.size, config.paraphrase_participation * (1.0, 0.9, 0.8)[level])
    time = rng.uniform(0, horizon, group.size)
    return timeline(group, time, author, spread, share, rng.random((group.size, SLOTS)),
                    groups.count)  # fmt: skip


def farm_items(plan: Plan, rows: np.ndarray, items: Timeline, rng):
    """(member, item) pairs of the members in `rows` taking part in their group's items."""
    member = rows[plan.group[rows] >= 0]
    g = plan.group[member]
    counts = items.offsets[g + 1] - items.offsets[g]
    acc = np.repeat(member, counts)
    item = np.repeat(items.offsets[g], counts) + cumcount(counts)
    joins = (rng.random(acc.size) < items.share[item]) | (items.target[item] == acc)
    return acc[joins], item[joins]


def order_events(plan: Plan, rows: np.ndarray, rng: np.random.Generator) -> pl.DataFrame:
    """Farm accounts follow (and some like) each order's customer during its delivery."""
    from experiments.simulate.coordinated import event_ids

    orders = plan.orders
    rows = rows[plan.kind[rows] == KIND["follower_farm"]]
    acc, item = farm_items(plan, rows, orders, rng)
    sec = orders.time[item] + rng.random(acc.size) * orders.spread[item]
    keep = (sec >= plan.created[acc]) & (orders.target[item] != acc)
    acc, item, sec = acc[keep], item[keep], sec[keep]
    ids = event_ids(plan, acc, rng)
    follow = raw(acc, sec, ACTION["follow"], t_acc=orders.target[item], **ids)
    likes = rng.random(acc.size) < 0.4
    like = raw(
        acc[likes],
        sec[likes] + rng.exponential(10 * MINUTE, int(likes.sum())),
        ACTION["like"],
        t_acc=orders.target[item][likes],
        dev=ids["dev"][likes],
        ip=ids["ip"][likes],
    )
    return pl.concat([follow, like]).filter(pl.col("sec") < plan.horizon)


def paraphrases(u: np.ndarray, rng) -> pl.Series:
    """One rewrite per row of story uniforms: a fresh template and fresh words but the topic."""
    template = pick_templates(np.full(u.shape[0], STYLE["paraphrase"]), rng)
    mine = rng.random(u.shape)
    mine[:, :STORY_SLOTS] = u[:, :STORY_SLOTS]
    return render(template, mine, rng.random(u.shape[0]) < 0.2)


def story_events(plan: Plan, rows: np.ndarray, rng: np.random.Generator) -> pl.DataFrame:
    """Each member's version of its farm's stories; others share the first version."""
    from experiments.simulate.coordinated import event_ids

    stories = plan.stories
    rows = rows[plan.kind[rows] == KIND["paraphrase_farm"]]
    acc, item = farm_items(plan, rows, stories, rng)
    first = acc == stories.target[item]
    delay = np.where(first, 0.0, rng.lognormal(np.log(stories.spread[item]), 0.8))
    sec = stories.time[item] + delay
    content = np.where(first, PARAPHRASE_CONTENT + item, OWN_POST)
    text = paraphrases(stories.u[item], rng)
    frames = [
        raw(acc, sec, ACTION["post"], content=content, text=text, **event_ids(plan, acc, rng))
    ]
    level = plan.config.camouflage_level
    shares = ~first & (rng.random(acc.size) < (0.3, 0.3, 0.15)[level])
    s_acc, s_item = acc[shares], item[shares]
    s_sec = sec[shares] + rng.lognormal(np.log(15 * MINUTE), 0.8, s_acc.size)
    frames.append(
        raw(s_acc, s_sec, ACTION["share"], content=PARAPHRASE_CONTENT + s_item,
            **event_ids(plan, s_acc, rng))
    )  # fmt: skip
    return pl.concat(frames).filter(pl.col("sec") < plan.horizon)
