"""Account-takeover crews: old benign accounts hijacked in the window's last days.

Until its takeover an account lives its owner's life (human sessions, personal devices and
IPs). From then on the crew holds it: a login from the crew's kit (devices and IPs no member
used before, shared across the crew), profile edits, spam sessions, payments with the crew's
stolen cards and, days later, a few chargebacks (Onaolapo et al., IMC 2014; Thomas et al.,
CCS 2017). Camouflaged crews keep the owner's device in half of their sessions (a stolen
session cookie) and edit the profile less.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from experiments.simulate.batch import raw
from experiments.simulate.config import WorldConfig
from experiments.simulate.headlines import STYLE, render_styles
from experiments.simulate.identity import Identity, pick, public_ips
from experiments.simulate.kinds import ACTION, KIND
from experiments.simulate.population import DAY, HOUR, MINUTE, Groups
from experiments.simulate.timing import cumcount

if TYPE_CHECKING:
    from experiments.simulate.plan import Plan

KIT = 8  # widest crew kit (devices, IPs, cards)
SESSIONS_PER_DAY = 3.0  # crew sessions a day on one held account
#: Actions of a crew session after its login: post, like, follow, share, comment.
CREW_ACTIONS = np.array(
    [ACTION[a] for a in ("post", "like", "follow", "share", "comment")], dtype=np.int8
)
CREW_MIX = np.cumsum([0.3, 0.2, 0.2, 0.2, 0.1])


@dataclass(frozen=True)
class Takeover:
    """When each account was taken over and the kit of the crew that holds it."""

    time: np.ndarray  # float64 seconds per account from which a crew holds it; inf = never
    crew: np.ndarray  # int64 crew per account (-1 none); crew G holds lone hijacked accounts
    devices: np.ndarray  # (G + 1, KIT) int64 fresh device numbers
    ips: np.ndarray  # (G + 1, KIT) int64 addresses
    instruments: np.ndarray  # (G + 1, KIT) int64 fresh card numbers
    kit: np.ndarray  # int64 (G + 1,) how many of each the crew uses

    @property
    def max_device(self) -> int:
        return int(self.devices.max())

    @property
    def max_instrument(self) -> int:
        return int(self.instruments.max())


def plan_takeover(
    kind, group, groups: Groups, identity: Identity, config: WorldConfig, horizon: float, rng
) -> Takeover:
    """Takeover times (within the last `takeover_days`) and every crew's kit."""
    n, g = len(kind), groups.count
    taken = np.flatnonzero(kind == KIND["account_takeover"])
    crew = np.full(n, -1, dtype=np.int64)
    crew[taken] = np.where(group[taken] >= 0, group[taken], g)
    days = float(np.clip(config.takeover_days, 0.5, horizon / DAY - 0.5))
    crew_start = horizon - rng.uniform(0.25, days, g + 1) * DAY
    spread = rng.uniform(0.0, 2 * DAY, taken.size)  # a crew works through its accounts in days
    time = np.full(n, np.inf)
    time[taken] = np.minimum(crew_start[crew[taken]] + spread, horizon - 2 * HOUR)
    kit = rng.integers(2, 5, g + 1) * (1, 1, 2)[config.camouflage_level]
    fresh = np.arange((g + 1) * KIT, dtype=np.int64).reshape(g + 1, KIT)
    return Takeover(
        time=time,
        crew=crew,
        devices=int(identity.devices.max()) + 1 + fresh,
        ips=public_ips(rng, (g + 1) * KIT).reshape(g + 1, KIT),
        instruments=int(identity.instruments.max()) + 1 + fresh,
        kit=kit,
    )


def kit_pick(values: np.ndarray, crew: np.ndarray, kit: np.ndarray, rng) -> np.ndarray:
    """One item of each crew's kit per row."""
    return values[crew, rng.integers(0, 1 << 30, crew.size) % kit[crew]]


def crew_ids(plan: Plan, acc: np.ndarray, rng) -> dict[str, np.ndarray]:
    """Device and IP of crew events: the crew's kit (the owner's device for cautious crews)."""
    t = plan.takeover
    crew = t.crew[acc]
    dev = kit_pick(t.devices, crew, t.kit, rng)
    owner = plan.camo[acc] & (rng.random(acc.size) < 0.5)
    ident = plan.identity
    dev[owner] = pick(ident.devices, ident.device_cw, acc[owner], rng.random(int(owner.sum())))
    return {"dev": dev, "ip": kit_pick(t.ips, crew, t.kit, rng)}


def takeover_moments(plan: Plan, acc: np.ndarray, rng) -> pl.DataFrame:
    """The takeover itself: a login from the crew's kit, then profile edits within the hour."""
    edits = np.where(plan.camo[acc], 1, rng.integers(1, 4, acc.size)) + 1
    rows = np.repeat(acc, edits)
    k = cumcount(edits)
    sec = plan.takeover.time[rows] + np.where(k == 0, 0.0, rng.uniform(1, 60, rows.size) * MINUTE)
    action = np.where(k == 0, ACTION["login"], ACTION["profile_edit"]).astype(np.int8)
    return raw(rows, sec, action, **crew_ids(plan, rows, rng))


def crew_sessions(plan: Plan, acc: np.ndarray, rng) -> pl.DataFrame:
    """Spam sessions of the crew on its accounts, from takeover to the window's end."""
    from experiments.simulate.behaviour import session_targets

    start = plan.takeover.time[acc]
    left = np.maximum(plan.horizon - start, 0.0)
    sessions = rng.poisson(SESSIONS_PER_DAY * plan.config.activity * left / DAY)
    s_acc = np.repeat(acc, sessions)
    s_sec = np.repeat(start, sessions) + rng.random(s_acc.size) * np.repeat(left, sessions)
    length = 1 + rng.geometric(0.3, s_acc.size)
    rows = np.repeat(s_acc, length)
    k = cumcount(length)
    sec = np.repeat(s_sec, length) + k * rng.lognormal(np.log(40.0), 1.0, rows.size)
    action = CREW_ACTIONS[np.searchsorted(CREW_MIX, rng.random(rows.size) * CREW_MIX[-1])]
    action[k == 0] = ACTION["login"]
    ids = crew_ids(plan, s_acc, rng)
    t_acc, content = session_targets(plan, action, sec, rng)
    post = action == ACTION["post"]
    style = np.where(rng.random(int(post.sum())) < 0.5, STYLE["shop"], STYLE["clickbait"])
    text = pl.Series("text", [None] * rows.size, dtype=pl.String)
    text = text.scatter(np.flatnonzero(post), render_styles(style, rng))
    dev, ip = np.repeat(ids["dev"], length), np.repeat(ids["ip"], length)
    frame = raw(rows, sec, action, t_acc=t_acc, content=content, dev=dev, ip=ip, text=text)
    return frame.filter(pl.Series(t_acc != rows))


def crew_payments(plan: Plan, acc: np.ndarray, rng) -> pl.DataFrame:
    """Payments with the crew's stolen cards, and the chargebacks that follow days later."""
    from experiments.simulate.payments import chargebacks  # (payments needs the plan module)

    t, config = plan.takeover, plan.config
    count = rng.poisson(config.takeover_payments, acc.size)
    rows = np.repeat(acc, count)
    start = t.time[rows]
    sec = start + rng.random(rows.size) * np.maximum(plan.horizon - start, 0.0)
    amount = np.round(rng.lognormal(np.log(200.0), 0.7, rows.size), 2)
    inst = kit_pick(t.instruments, t.crew[rows], t.kit, rng)
    pay = raw(rows, sec, ACTION["payment"], inst=inst, amount=amount, **crew_ids(plan, rows, rng))
    back = rng.random(rows.size) < config.takeover_chargeback_share
    delay = rng.lognormal(np.log(2 * DAY), 0.5, rows.size)
    return pl.concat([pay, chargebacks(rows, sec + delay, inst, amount, back)])


def takeover_events(plan: Plan, rows: np.ndarray, rng: np.random.Generator) -> pl.DataFrame:
    """Everything the crews do with the accounts in `rows` they hold."""
    acc = rows[np.isfinite(plan.takeover.time[rows])]
    frames = [takeover_moments(plan, acc, rng), crew_sessions(plan, acc, rng)]
    frames.append(crew_payments(plan, acc, rng))
    return pl.concat(frames).filter(pl.col("sec") < plan.horizon)
