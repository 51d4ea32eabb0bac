"""Group-level plans drawn once for the whole world: lockstep episodes, ring follows, report bursts.

Drawing them before events are generated lets account chunks be generated independently while
ring members in different chunks still act on the same targets at the same times.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from experiments.simulate.headlines import SLOTS, STYLE, pick_templates
from experiments.simulate.kinds import CATEGORY, KIND, N_BENIGN
from experiments.simulate.population import DAY, HOUR, Groups

EPISODE_CONTENT = 7 * 10**14  # content ids of lockstep episodes start here
EPISODES_PER_DAY = {"clickbait_farm": 1.5, "fake_farm": 0.4, "newsroom": 1.0}
FOLLOW_SHARE = {
    "fake_farm": 0.5,
    "clickbait_farm": 0.15,
    "porn": 0.3,
    "violence": 0.3,
    "newsroom": 0.3,
}
POOL = 4  # near-duplicate headlines a group recycles


@dataclass(frozen=True)
class Episodes:
    """Coordinated actions of a group: when, who starts it, on which target."""

    group: np.ndarray  # int64 group per episode, sorted
    offsets: np.ndarray  # int64, len G+1: episodes of g are [offsets[g], offsets[g+1])
    time: np.ndarray  # float64 seconds
    author: np.ndarray  # int64 member that posts the content
    target: np.ndarray  # int64 account the group follows/likes (-1 none)
    content: np.ndarray  # int64 content id shared
    template: np.ndarray  # int16 headline template of the content
    u: np.ndarray  # (E, SLOTS) uniforms of the headline words


@dataclass(frozen=True)
class Pairs:
    """Follows inside a group (bought followers, colleagues): src follows dst at ts."""

    src: np.ndarray
    dst: np.ndarray
    ts: np.ndarray


@dataclass(frozen=True)
class Bursts:
    """Report bursts: `size` reports against `acc` spread over `duration` seconds from `time`."""

    acc: np.ndarray
    time: np.ndarray
    size: np.ndarray
    duration: np.ndarray


def members_of(groups: Groups, g: int) -> np.ndarray:
    """Account indices of group g."""
    return groups.members[groups.offsets[g] : groups.offsets[g + 1]]


def customers(kind, category, created, rng, size: int) -> np.ndarray:
    """Accounts that buy followers: other bad accounts (60 %) and some brands and creators."""
    old = created < 0
    sellers = [KIND[k] for k in ("card_fraud", "clickbait_farm", "porn", "violence")]
    bad = np.flatnonzero(np.isin(kind, sellers) & old)
    benign = np.flatnonzero(
        (kind < N_BENIGN) & np.isin(category, [CATEGORY["brand"], CATEGORY["creator"]]) & old
    )
    pool_bad = bad if bad.size else benign
    pick_bad = rng.random(size) < 0.6
    out = benign[rng.integers(0, max(benign.size, 1), size) % max(benign.size, 1)]
    out[pick_bad] = pool_bad[rng.integers(0, pool_bad.size, pick_bad.sum())]
    return out


def plan_episodes(groups: Groups, created, kind, category, horizon: float, rng) -> Episodes:
    """Lockstep episodes for clickbait farms, fake farms (follower sales) and newsrooms."""
    per_group = []
    for g in range(groups.count):
        name = {KIND[k]: k for k in EPISODES_PER_DAY}.get(int(groups.kind[g]))
        members = members_of(groups, g)
        start = max(0.0, created[members].max() + HOUR)
        if name is None or start >= horizon - HOUR:
            per_group.append(np.zeros(0))
            continue
        count = rng.poisson(EPISODES_PER_DAY[name] * (horizon - start) / DAY)
        per_group.append(np.sort(rng.uniform(start, horizon, count)))
    counts = np.array([len(t) for t in per_group], dtype=np.int64)
    total = int(counts.sum())
    group = np.repeat(np.arange(groups.count), counts)
    sizes = groups.sizes[group]
    author = groups.members[groups.offsets[group] + rng.integers(0, 1 << 30, total) % sizes]
    target = np.full(total, -1, dtype=np.int64)
    farm = groups.kind[group] == KIND["fake_farm"]
    target[farm] = customers(kind, category, created, rng, int(farm.sum()))
    style = np.where(groups.kind[group] == KIND["newsroom"], STYLE["news"], STYLE["clickbait"])
    return Episodes(
        group=group,
        offsets=np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
        time=np.concatenate(per_group) if total else np.zeros(0),
        author=author,
        target=target,
        content=EPISODE_CONTENT + np.arange(total, dtype=np.int64),
        template=pick_templates(style, rng),
        u=rng.random((total, SLOTS)),
    )


def plan_pairs(groups: Groups, created: np.ndarray, horizon: float, rng) -> Pairs:
    """Follows among members of the same group, timed after both accounts exist."""
    src, dst = [], []
    for g in range(groups.count):
        share = FOLLOW_SHARE.get({v: k for k, v in KIND.items()}[int(groups.kind[g])], 0.0)
        members = members_of(groups, g)
        if share == 0.0 or members.size < 2:
            continue
        a, b = np.meshgrid(members, members, indexing="ij")
        keep = (a != b) & (rng.random(a.shape) < share)
        src.append(a[keep])
        dst.append(b[keep])
    if not src:
        empty = np.zeros(0, dtype=np.int64)
        return Pairs(empty, empty, np.zeros(0))
    src_all, dst_all = np.concatenate(src), np.concatenate(dst)
    ts = np.maximum(created[src_all], created[dst_all]) + rng.lognormal(
        np.log(3 * HOUR), 1.0, src_all.size
    )
    keep = ts < horizon
    return Pairs(src_all[keep], dst_all[keep], ts[keep])


def merge_pairs(first: Pairs, second: Pairs) -> Pairs:
    """Both sets of follows in one."""
    return Pairs(
        *(np.concatenate([getattr(first, f), getattr(second, f)]) for f in ("src", "dst", "ts"))
    )


def plan_bursts(kind, category, created, horizon: float, weeks: int, rng) -> Bursts:
    """Report bursts: heavy for porn and violence, light for clickbait, rare for benign media."""
    n = len(kind)
    scale = weeks / 4
    content = np.isin(kind, [KIND["porn"], KIND["violence"]])
    counts = np.zeros(n, dtype=np.int64)
    counts[content] = 1 + rng.poisson(1.2 * scale, content.sum())
    clickbait = np.isin(kind, [KIND["clickbait_farm"], KIND["paraphrase_farm"]])
    counts[clickbait] = rng.poisson(0.5 * scale, clickbait.sum())
    loud = (kind < N_BENIGN) & np.isin(category, [CATEGORY["media"], CATEGORY["creator"]])
    counts[loud] = (rng.random(loud.sum()) < 0.04 * scale).astype(np.int64)
    acc = np.repeat(np.arange(n), counts)
    start = np.maximum(created[acc], 0.0)
    time = start + rng.random(acc.size) * np.maximum(horizon - start, 0.0)
    big = np.isin(kind[acc], [KIND["porn"], KIND["violence"]])
    size = 3 + np.round(rng.lognormal(np.where(big, np.log(10), np.log(4)), 0.6)).astype(np.int64)
    duration = rng.lognormal(np.log(np.where(big, 3 * HOUR, 6 * HOUR)), 0.7)
    singles_rate = np.where(np.isin(category, [CATEGORY["individual"]]), 0.03, 0.2) * weeks
    singles_rate = np.where((kind < N_BENIGN) | (kind == KIND["fake_farm"]), singles_rate, 0.0)
    singles = rng.poisson(singles_rate)
    s_acc = np.repeat(np.arange(n), singles)
    s_start = np.maximum(created[s_acc], 0.0)
    s_time = s_start + rng.random(s_acc.size) * np.maximum(horizon - s_start, 0.0)
    order = np.lexsort((np.concatenate([time, s_time]), np.concatenate([acc, s_acc])))
    return Bursts(
        acc=np.concatenate([acc, s_acc])[order],
        time=np.concatenate([time, s_time])[order],
        size=np.concatenate([size, np.ones(s_acc.size, dtype=np.int64)])[order],
        duration=np.concatenate([duration, np.zeros(s_acc.size)])[order],
    )


def headline_pools(groups: Groups, rng) -> tuple[np.ndarray, np.ndarray]:
    """Each group's few recycled headlines: templates (G, POOL) and word uniforms."""
    style = np.where(groups.kind == KIND["clickbait_farm"], STYLE["clickbait"], STYLE["farm"])
    template = pick_templates(np.repeat(style, POOL), rng).reshape(-1, POOL)
    return template, rng.random((groups.count, POOL, SLOTS))
