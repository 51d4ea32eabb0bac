"""Groups reacting to one leader's posts within minutes: amplification rings and fan communities.

An aged-account amplification ring (bad) has a leader among its members; the others, old
bought accounts with human timing, share and like nearly every leader post within minutes.
A fan community (benign) reacts to a celebrity's posts the same way, but each fan only now and
then (a beta-distributed chance per fan), so two fans rarely meet on many posts, while two
ring members meet on most. Both kinds follow their leader. Sources: see archetypes.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from experiments.simulate.batch import raw
from experiments.simulate.config import WorldConfig
from experiments.simulate.coordination import Pairs
from experiments.simulate.headlines import STYLE, render_styles
from experiments.simulate.kinds import ACTION, CATEGORY, KIND, N_BENIGN
from experiments.simulate.population import DAY, MINUTE, Groups
from experiments.simulate.timing import cumcount

if TYPE_CHECKING:
    from experiments.simulate.plan import Plan

LEADER_CONTENT = 8 * 10**14  # content ids of leader posts start here
#: How members react to a leader post (cumulative shares of share, like, comment).
REACTIONS = {
    "aged_amplifier": np.cumsum([0.55, 0.35, 0.10]),
    "fan": np.cumsum([0.20, 0.65, 0.15]),
}
REACTION_ACTIONS = np.array([ACTION["share"], ACTION["like"], ACTION["comment"]], dtype=np.int8)


@dataclass(frozen=True)
class LeaderPosts:
    """Posts of each group's leader, and how each member reacts to them."""

    leader: np.ndarray  # int64 leader account per group (-1: the group has none)
    group: np.ndarray  # int64 group per post, sorted
    offsets: np.ndarray  # int64, len G+1: posts of g are [offsets[g], offsets[g+1])
    time: np.ndarray  # float64 seconds
    content: np.ndarray  # int64 content id of the post
    react: np.ndarray  # float64 per account: chance to react to one post of its leader
    delay: np.ndarray  # float64 per account: median reaction delay, seconds


def celebrities(kind, category, created, followers, count: int, rng) -> np.ndarray:
    """`count` distinct popular, established creators or media accounts (fans' idols)."""
    idol = (kind < N_BENIGN) & (kind != KIND["fan"]) & (created < 0)
    idol &= np.isin(category, [CATEGORY["creator"], CATEGORY["media"]])
    pool = np.flatnonzero(idol)
    if pool.size == 0 or count == 0:
        return np.full(count, -1, dtype=np.int64)
    weight = followers[pool].astype(np.float64) + 1.0
    replace = count > pool.size
    return rng.choice(pool, count, replace=replace, p=weight / weight.sum()).astype(np.int64)


def leaders(kind, category, created, followers, groups: Groups, rng) -> np.ndarray:
    """The leader of every group: a ring's first member, a fan community's celebrity."""
    leader = np.full(groups.count, -1, dtype=np.int64)
    amp = np.flatnonzero(groups.kind == KIND["aged_amplifier"])
    leader[amp] = groups.members[groups.offsets[amp]]
    fans = np.flatnonzero(groups.kind == KIND["fan"])
    leader[fans] = celebrities(kind, category, created, followers, fans.size, rng)
    return leader


def reaction_habits(kind, group, camo, config: WorldConfig, rng) -> tuple[np.ndarray, np.ndarray]:
    """Per account: chance to react to one leader post, and median delay in seconds."""
    n = len(kind)
    react, delay = np.zeros(n), np.zeros(n)
    level = config.camouflage_level
    amp = (kind == KIND["aged_amplifier"]) & (group >= 0)
    careful = np.where(camo[amp], (1.0, 0.9, 0.75)[level], 1.0)
    react[amp] = config.amplifier_participation * careful
    slow = np.where(camo[amp], (1.0, 1.5, 2.5)[level], 1.0)
    delay[amp] = config.amplifier_delay_minutes * MINUTE * slow * rng.lognormal(0, 0.3, amp.sum())
    fan = (kind == KIND["fan"]) & (group >= 0)
    mean = min(max(config.fan_reaction_share, 1e-6), 0.99)
    react[fan] = rng.beta(1.0, (1.0 - mean) / mean, fan.sum())
    delay[fan] = config.fan_delay_minutes * MINUTE * rng.lognormal(0, 0.3, fan.sum())
    return react, delay


def plan_leader_posts(
    kind, category, group, groups: Groups, created, followers, camo, config, horizon, rng
) -> LeaderPosts:
    """Leaders, their posts in the window and every member's reaction habits."""
    leader = leaders(kind, category, created, followers, groups, rng)
    rate = np.zeros(groups.count)
    rate[groups.kind == KIND["aged_amplifier"]] = config.amplifier_posts_per_day
    rate[groups.kind == KIND["fan"]] = config.fan_posts_per_day
    rate[leader < 0] = 0.0
    start = np.maximum(np.where(leader >= 0, created[np.maximum(leader, 0)], 0.0), 0.0)
    counts = rng.poisson(rate * np.maximum(horizon - start, 0.0) / DAY)
    post_group = np.repeat(np.arange(groups.count), counts)
    time = np.repeat(start, counts) + rng.random(post_group.size) * np.repeat(
        horizon - start, counts
    )
    order = np.lexsort((time, post_group))
    react, delay = reaction_habits(kind, group, camo, config, rng)
    return LeaderPosts(
        leader=leader,
        group=post_group[order],
        offsets=np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
        time=time[order],
        content=LEADER_CONTENT + np.arange(post_group.size, dtype=np.int64),
        react=react,
        delay=delay,
    )


def leader_follows(group, groups: Groups, posts: LeaderPosts, created, horizon, rng) -> Pairs:
    """Members follow their leader (long before the window for old accounts)."""
    member = np.flatnonzero(group >= 0)
    member = member[posts.leader[group[member]] >= 0]
    target = posts.leader[group[member]]
    keep = (target != member) & (rng.random(member.size) < 0.9)
    src, dst = member[keep], target[keep]
    ts = np.maximum(created[src], created[dst]) + rng.lognormal(np.log(30 * DAY), 1.0, src.size)
    inside = ts < horizon
    return Pairs(src[inside], dst[inside], ts[inside])


def leader_post_events(plan: Plan, rows: np.ndarray, rng: np.random.Generator) -> pl.DataFrame:
    """The leaders' posts, for the leaders among `rows`."""
    from experiments.simulate.coordinated import event_ids

    lp = plan.leader_posts
    author = lp.leader[lp.group] if lp.group.size else np.zeros(0, dtype=np.int64)
    mine = (author >= rows[0]) & (author <= rows[-1]) if rows.size else author < -1
    acc, index = author[mine], np.flatnonzero(mine)
    style = np.where(plan.kind[acc] == KIND["aged_amplifier"], STYLE["news"], STYLE["personal"])
    text = render_styles(style, rng)
    ids = event_ids(plan, acc, rng)
    return raw(acc, lp.time[index], ACTION["post"], content=lp.content[index], text=text, **ids)


def reaction_events(plan: Plan, rows: np.ndarray, rng: np.random.Generator) -> pl.DataFrame:
    """Members' shares, likes and comments on their leader's posts, minutes after each."""
    from experiments.simulate.coordinated import event_ids

    lp = plan.leader_posts
    member = rows[(plan.group[rows] >= 0) & (lp.react[rows] > 0)]
    g = plan.group[member]
    counts = lp.offsets[g + 1] - lp.offsets[g]
    acc = np.repeat(member, counts)
    post = np.repeat(lp.offsets[g], counts) + cumcount(counts)
    joins = (rng.random(acc.size) < lp.react[acc]) & (acc != lp.leader[lp.group[post]])
    acc, post = acc[joins], post[joins]
    sec = lp.time[post] + rng.lognormal(np.log(np.maximum(lp.delay[acc], 1.0)), 1.0)
    alive = (sec >= plan.created[acc]) & (sec < plan.horizon)
    acc, post, sec = acc[alive], post[alive], sec[alive]
    action = np.empty(acc.size, dtype=np.int8)
    for name, cum in REACTIONS.items():
        mine = plan.kind[acc] == KIND[name]
        pick = np.searchsorted(cum, rng.random(int(mine.sum())) * cum[-1])
        action[mine] = REACTION_ACTIONS[pick]
    comment = action == ACTION["comment"]
    t_acc = np.where(comment, lp.leader[lp.group[post]], -1)
    content = np.where(comment, -1, lp.content[post])
    ids = event_ids(plan, acc, rng)
    return raw(acc, sec, action, t_acc=t_acc, content=content, **ids)
