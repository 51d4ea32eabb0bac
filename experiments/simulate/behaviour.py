"""Human-like activity: diurnal, bursty sessions of posts, likes, comments, shares and follows."""

from __future__ import annotations

import numpy as np
import polars as pl

from experiments.simulate.batch import OWN_POST, raw
from experiments.simulate.headlines import STYLE, render_styles
from experiments.simulate.identity import pick
from experiments.simulate.kinds import (
    ACTION,
    KINDS,
    N_BENIGN,
    SESSION_ACTIONS,
    SPECS,
    matrix,
)
from experiments.simulate.plan import Plan, draw
from experiments.simulate.population import DAY, HOUR
from experiments.simulate.rhythms import PROFILES
from experiments.simulate.timing import cumcount, segment_cumsum, session_starts

SHARED_CONTENT = 5 * 10**14  # content ids of the day's popular items: + day * 10**6 + rank
SESSION_CELLS = 4_000_000  # accounts x days handled at once when drawing session days

_PROFILE = np.array([PROFILES.index(SPECS[k].profile) for k in KINDS], dtype=np.int64)
_STYLE = np.array([STYLE[SPECS[k].style] for k in KINDS], dtype=np.int64)
_SESSION_LEN = np.array([SPECS[k].session_len for k in KINDS])
_MIX = matrix("mix")
_MIX_CUM = np.cumsum(_MIX / _MIX.sum(axis=1, keepdims=True), axis=1)


def popular_targets(plan: Plan, size: int, rng: np.random.Generator) -> np.ndarray:
    """Accounts drawn in proportion to their popularity (established accounts only)."""
    return draw(plan.popular, size, rng)


def shared_content(sec: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Content ids of the day's popular items (Zipf-distributed popularity)."""
    rank = np.minimum(rng.zipf(1.4, sec.size) - 1, 999_999)
    return SHARED_CONTENT + (sec // DAY).astype(np.int64) * 10**6 + rank


def session_targets(plan: Plan, action: np.ndarray, sec: np.ndarray, rng) -> tuple:
    """Target account and content of session events: popular accounts to follow, like and
    comment on, the day's popular items to share, a new content id for each post."""
    t_acc = np.full(action.size, -1, dtype=np.int64)
    to_account = np.isin(action, [ACTION["follow"], ACTION["like"], ACTION["comment"]])
    t_acc[to_account] = popular_targets(plan, int(to_account.sum()), rng)
    content = np.full(action.size, -1, dtype=np.int64)
    share = action == ACTION["share"]
    content[share] = shared_content(sec[share], rng)
    content[action == ACTION["post"]] = OWN_POST
    return t_acc, content


def post_styles(plan: Plan, acc: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Headline style of each post: the kind's style, benign-looking for camouflaged accounts."""
    style = _STYLE[plan.kind[acc]]
    disguise = (0.0, 0.3, 0.7)[plan.config.camouflage_level]
    benign_look = plan.camo[acc] & (rng.random(acc.size) < disguise)
    return np.where(benign_look, STYLE["personal"], style)


def _sessions(plan: Plan, rows: np.ndarray, rng) -> tuple[np.ndarray, np.ndarray]:
    """Session (account, start) pairs, drawn in slices so memory stays bounded."""
    n_days = max(1, round(plan.horizon / DAY))
    step = max(1_000, SESSION_CELLS // n_days)
    weekday0 = plan.config.start.weekday()
    accs, starts = [], []
    for lo in range(0, rows.size, step):
        part = rows[lo : lo + step]
        where, start = session_starts(
            plan.sessions[part],
            _PROFILE[plan.kind[part]],
            plan.created[part],
            plan.tz[part],
            plan.horizon,
            weekday0,
            rng,
        )
        accs.append(part[where])
        starts.append(start)
    return np.concatenate(accs), np.concatenate(starts)


def human_events(plan: Plan, rows: np.ndarray, rng: np.random.Generator) -> pl.DataFrame:
    """Events of human sessions for the accounts `rows` (those with a session rate)."""
    rows = rows[plan.sessions[rows] > 0]
    s_acc, s_start = _sessions(plan, rows, rng)
    login = rng.random(s_acc.size) < 0.5
    n_ev = rng.geometric(1.0 / _SESSION_LEN[plan.kind[s_acc]]) + login
    acc = np.repeat(s_acc, n_ev)
    k = cumcount(n_ev)
    gaps = rng.lognormal(np.log(40.0), 1.1, acc.size)
    gaps[k == 0] = 0.0
    sec = np.repeat(s_start, n_ev) + segment_cumsum(gaps, n_ev)
    pick_mix = (rng.random(acc.size)[:, None] > _MIX_CUM[plan.kind[acc]]).sum(axis=1)
    action = SESSION_ACTIONS[np.minimum(pick_mix, len(SESSION_ACTIONS) - 1)]
    scheduled = (plan.schedule.period[acc] > 0) & (plan.kind[acc] < N_BENIGN)
    action[scheduled & (action == ACTION["post"])] = ACTION["share"]
    action[(k == 0) & np.repeat(login, n_ev)] = ACTION["login"]
    ident = plan.identity
    dev = np.repeat(pick(ident.devices, ident.device_cw, s_acc, rng.random(s_acc.size)), n_ev)
    ip = np.repeat(pick(ident.ips, ident.ip_cw, s_acc, rng.random(s_acc.size)), n_ev)
    t_acc, content = session_targets(plan, action, sec, rng)
    post = action == ACTION["post"]
    keep = (sec < np.minimum(plan.horizon, plan.takeover.time[acc])) & (t_acc != acc)
    text = pl.Series("text", [None] * acc.size, dtype=pl.String)
    posts = np.flatnonzero(post)
    text = text.scatter(posts, render_styles(post_styles(plan, acc[posts], rng), rng))
    frame = raw(acc, sec, action, t_acc=t_acc, content=content, ip=ip, dev=dev, text=text)
    return frame.filter(pl.Series(keep))


def new_account_events(plan: Plan, rows: np.ndarray, rng: np.random.Generator) -> pl.DataFrame:
    """A login and one to three profile edits right after an account is created in the window."""
    rows = rows[(plan.created[rows] >= 0) & (plan.created[rows] < plan.horizon)]
    edits = rng.integers(1, 4, rows.size) + 1
    acc = np.repeat(rows, edits)
    k = cumcount(edits)
    sec = plan.created[acc] + k * rng.exponential(0.1 * HOUR, acc.size)
    action = np.where(k == 0, ACTION["login"], ACTION["profile_edit"]).astype(np.int8)
    ident = plan.identity
    dev = pick(ident.devices, ident.device_cw, acc, rng.random(acc.size))
    ip = pick(ident.ips, ident.ip_cw, acc, rng.random(acc.size))
    keep = pl.Series(sec < plan.horizon)
    return raw(acc, sec, action, ip=ip, dev=dev).filter(keep)
