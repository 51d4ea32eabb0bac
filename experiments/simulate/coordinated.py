"""Scheduled and coordinated activity: schedulers, lockstep episodes, ring follows, camouflage."""

from __future__ import annotations

import numpy as np
import polars as pl

from experiments.simulate.batch import OWN_POST, raw
from experiments.simulate.coordination import POOL
from experiments.simulate.headlines import SLOTS, STYLE, render, render_styles
from experiments.simulate.identity import pick
from experiments.simulate.kinds import ACTION, KIND, KINDS, SPECS
from experiments.simulate.plan import Plan, draw
from experiments.simulate.timing import cumcount, lockstep_delays, scheduled_times

#: Share of a group's members joining an episode (plain, camouflaged-heavy).
PARTICIPATION = {"clickbait_farm": (0.75, 0.55), "fake_farm": (0.6, 0.45), "newsroom": (0.35, 0.35)}
#: Median reaction delay in seconds and its log-sigma (plain, camouflaged-heavy).
DELAY = {
    "clickbait_farm": ((150.0, 0.8), (600.0, 1.0)),
    "fake_farm": ((300.0, 0.8), (900.0, 1.0)),
    "newsroom": ((600.0, 0.9), (600.0, 0.9)),
}
REUSE = {"fake_farm": 0.7, "clickbait_farm": 0.6}  # share of scheduled posts from the group pool
CAMOUFLAGE_COUNTS = {"follow": (0, 8, 30), "like": (0, 15, 60)}  # per 4 weeks, by level


def event_ids(plan: Plan, acc: np.ndarray, rng) -> dict[str, np.ndarray]:
    """Device and IP for each event of `acc`."""
    ident = plan.identity
    return {
        "dev": pick(ident.devices, ident.device_cw, acc, rng.random(acc.size)),
        "ip": pick(ident.ips, ident.ip_cw, acc, rng.random(acc.size)),
    }


def recycled_texts(plan: Plan, acc: np.ndarray, fresh_style: int, reuse: float, rng):
    """Headlines from the account's group pool (near-duplicates across members) or fresh ones."""
    from_pool = np.flatnonzero((plan.group[acc] >= 0) & (rng.random(acc.size) < reuse))
    text = render_styles(np.full(acc.size, fresh_style), rng)
    if from_pool.size == 0:
        return text
    g = plan.group[acc[from_pool]]
    slot = rng.integers(0, POOL, from_pool.size)
    u = plan.pool_u[g, slot].copy()
    mutate = rng.random(from_pool.size) < 0.3
    which = rng.integers(0, SLOTS, from_pool.size)
    u[mutate, which[mutate]] = rng.random(int(mutate.sum()))
    caps = (fresh_style == STYLE["clickbait"]) & (rng.random(from_pool.size) < 0.3)
    return text.scatter(from_pool, render(plan.pool_template[g, slot], u, caps))


def scheduled_events(plan: Plan, rows: np.ndarray, rng: np.random.Generator) -> pl.DataFrame:
    """Posts by schedulers: newsroom CMS on the clock, farm bots near-periodic, clickbait looser."""
    s = plan.schedule
    rows = rows[s.period[rows] > 0]
    where, sec = scheduled_times(
        s.period[rows],
        s.phase[rows],
        s.jitter[rows],
        s.first_hour[rows],
        s.last_hour[rows],
        s.skip[rows],
        plan.created[rows],
        plan.tz[rows],
        plan.horizon,
        rng,
    )
    acc = rows[where]
    kind = plan.kind[acc]
    text = pl.Series("text", [None] * acc.size, dtype=pl.String)
    for code in np.unique(kind):
        mine = np.flatnonzero(kind == code)
        name = KINDS[code]
        style, reuse = STYLE[SPECS[name].style], REUSE.get(name, 0.0)
        text = text.scatter(mine, recycled_texts(plan, acc[mine], style, reuse, rng))
    posts = raw(acc, sec, ACTION["post"], content=OWN_POST, text=text, **event_ids(plan, acc, rng))
    logins_mask = (kind == KIND["fake_farm"]) & (rng.random(acc.size) < 0.3)
    bots, bot_sec = acc[logins_mask], sec[logins_mask] - rng.uniform(2, 20, logins_mask.sum())
    bot_sec = np.maximum(bot_sec, plan.created[bots])
    logins = raw(bots, bot_sec, ACTION["login"], **event_ids(plan, bots, rng))
    return pl.concat([posts, logins]).filter((pl.col("sec") >= 0) & (pl.col("sec") < plan.horizon))


def episode_events(plan: Plan, rows: np.ndarray, rng: np.random.Generator) -> pl.DataFrame:
    """Lockstep: members share, like or follow the same target within minutes, again and again."""
    ep = plan.episodes
    member = rows[plan.group[rows] >= 0]
    g = plan.group[member]
    counts = ep.offsets[g + 1] - ep.offsets[g]
    acc = np.repeat(member, counts)
    e = np.repeat(ep.offsets[g], counts) + cumcount(counts)
    frames = []
    author = (acc == ep.author[e]) & (plan.kind[acc] != KIND["fake_farm"])
    a_acc, a_e = acc[author], e[author]
    text = render(ep.template[a_e], ep.u[a_e])
    frames.append(
        raw(
            a_acc,
            ep.time[a_e],
            ACTION["post"],
            content=ep.content[a_e],
            text=text,
            **event_ids(plan, a_acc, rng),
        )
    )
    for name in PARTICIPATION:
        mine = ~author & (plan.kind[acc] == KIND[name])
        heavy = plan.camo[acc] & (plan.config.camouflage_level == 2)
        share = np.where(heavy, PARTICIPATION[name][1], PARTICIPATION[name][0])
        mine &= rng.random(acc.size) < share
        m_acc, m_e, m_heavy = acc[mine], e[mine], heavy[mine]
        (med0, sig0), (med1, sig1) = DELAY[name]
        delay = np.where(
            m_heavy,
            lockstep_delays(med1, sig1, m_acc.size, rng),
            lockstep_delays(med0, sig0, m_acc.size, rng),
        )
        sec = ep.time[m_e] + delay
        ids = event_ids(plan, m_acc, rng)
        if name == "fake_farm":
            frames.append(raw(m_acc, sec, ACTION["follow"], t_acc=ep.target[m_e], **ids))
            likes = rng.random(m_acc.size) < 0.5
            frames.append(
                raw(
                    m_acc[likes],
                    sec[likes] + rng.exponential(60.0, likes.sum()),
                    ACTION["like"],
                    t_acc=ep.target[m_e][likes],
                    dev=ids["dev"][likes],
                    ip=ids["ip"][likes],
                )
            )
            continue
        frames.append(raw(m_acc, sec, ACTION["share"], content=ep.content[m_e], **ids))
        if name == "clickbait_farm":
            frames.extend(clickbait_echoes(plan, m_acc, m_e, sec, ids, rng))
    return pl.concat(frames).filter(pl.col("sec") < plan.horizon)


def clickbait_echoes(plan: Plan, acc, e, sec, ids, rng) -> list[pl.DataFrame]:
    """Clickbait members like the author and repost a near-duplicate of the episode headline."""
    ep = plan.episodes
    likes = rng.random(acc.size) < 0.5
    like = raw(
        acc[likes],
        sec[likes] + rng.exponential(30.0, likes.sum()),
        ACTION["like"],
        t_acc=ep.author[e][likes],
        dev=ids["dev"][likes],
        ip=ids["ip"][likes],
    )
    copy = rng.random(acc.size) < 0.25
    u = ep.u[e[copy]].copy()
    slot = rng.integers(0, SLOTS, u.shape[0])
    redraw = rng.random(u.shape[0]) < 0.5
    u[redraw, slot[redraw]] = rng.random(int(redraw.sum()))
    caps = rng.random(u.shape[0]) < 0.3
    text = render(ep.template[e[copy]], u, caps)
    repost = raw(
        acc[copy],
        sec[copy] + rng.exponential(120.0, copy.sum()),
        ACTION["post"],
        content=OWN_POST,
        text=text,
        dev=ids["dev"][copy],
        ip=ids["ip"][copy],
    )
    return [like, repost]


def ring_follow_events(plan: Plan, rows: np.ndarray, rng: np.random.Generator) -> pl.DataFrame:
    """In-window follows among group members (bought followers, colleagues)."""
    p = plan.pairs
    mine = (p.src >= rows[0]) & (p.src <= rows[-1]) & (p.ts >= 0) if rows.size else p.src < 0
    acc = p.src[mine]
    return raw(acc, p.ts[mine], ACTION["follow"], t_acc=p.dst[mine], **event_ids(plan, acc, rng))


def camouflage_events(plan: Plan, rows: np.ndarray, rng: np.random.Generator) -> pl.DataFrame:
    """Camouflaged bad accounts follow and like popular benign accounts."""
    level = plan.config.camouflage_level
    camo = rows[plan.camo[rows]]
    scale = plan.config.weeks / 4 * plan.config.activity
    frames = []
    for action, counts in CAMOUFLAGE_COUNTS.items():
        n = rng.poisson(counts[level] * scale, camo.size)
        acc = np.repeat(camo, n)
        start = np.maximum(plan.created[acc], 0.0)
        sec = start + rng.random(acc.size) * (plan.horizon - start)
        target = draw(plan.celebrities, acc.size, rng)
        frames.append(raw(acc, sec, ACTION[action], t_acc=target, **event_ids(plan, acc, rng)))
    return pl.concat(frames)
