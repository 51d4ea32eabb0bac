"""A slow, plain-Python twin of the whole behavioural feature table, the oracle of the builder.

Loops over event dicts account by account; shares no polars or numba code with the builder
(only the kernel twins of `features.behaviour.reference` and the clickbait pattern). Meant for
tiny inputs in tests.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from datetime import datetime

import polars as pl

from features.behaviour import reference as ref
from features.behaviour.content import CLICKBAIT_PHRASES
from features.behaviour.kernels import TIMING_COLUMNS
from features.behaviour.seam import ACTIONS, as_of_us
from features.behaviour.specs import integer_columns, rows
from features.config import BehaviourConfig

HOUR = 3_600_000_000
DAY = 24 * HOUR
ENGAGE = {"like", "comment", "share"}
IDENTITY = (("device", "device"), ("ip", "ip"), ("instrument", "instrument"))
PHRASES = [ref.word_tokens(p) for p in CLICKBAIT_PHRASES]


def micros(value: datetime | None) -> int | None:
    """A datetime (naive = UTC) as microseconds since the epoch."""
    if value is None:
        return None
    return as_of_us(value)


def share(part: float, whole: float) -> float | None:
    """part / whole, None when whole is 0."""
    return part / whole if whole else None


def herfindahl(counts: list[int]) -> float:
    """Sum of squared shares."""
    total = sum(counts)
    return sum((c / total) ** 2 for c in counts)


def activity(evs: list[dict], as_of: int, windows: tuple[int, ...]) -> dict:
    """Counts per action and window, first/last times."""
    f: dict = {}
    spans = [("", None)] + [(f"_{w}d", as_of - w * DAY) for w in windows]
    for suffix, since in spans:
        chosen = [e for e in evs if since is None or e["ts"] > since]
        f[f"events{suffix or '_total'}"] = len(chosen)
        for action in ACTIONS:
            f[f"n_{action}{suffix}"] = sum(e["action"] == action for e in chosen)
    f["n_other_actions"] = sum(e["action"] not in ACTIONS for e in evs)
    times = [e["ts"] for e in evs]
    posts = [e["ts"] for e in evs if e["action"] == "post"]
    f["first"], f["last"] = (min(times), max(times)) if times else (None, None)
    f["first_post"] = min(posts) if posts else None
    return f


def identity(evs: list[dict], column: str, prefix: str, users: dict) -> dict:
    """Spread and crowding of one identifier column."""
    used = Counter(e[column] for e in evs if e[column] is not None)
    others = [len(users[column][k]) - 1 for k in used]
    return {
        f"n_{prefix}s": len(used),
        f"top_{prefix}_share": share(max(used.values(), default=0), sum(used.values())),
        f"events_per_{prefix}": share(sum(used.values()), len(used)),
        f"{prefix}_crowding_max": max(others, default=0),
        f"{prefix}_crowding_mean": statistics.fmean(others) if others else 0.0,
    }


def content(evs: list[dict], sig_users: dict) -> dict:
    """Headline features of one account."""
    texts = [e["text"] or "" for e in evs if e["action"] == "post"]
    rows = [ref.headline_stats(t, PHRASES) for t in texts]
    heads = [r for r in rows if r[0]]
    sigs = [r[7] for r in rows if r[7] is not None]
    chars = sum(h[1] for h in heads)

    def mean(i: int) -> float | None:
        return statistics.fmean(h[i] for h in heads) if heads else None

    return {
        "headlines": len(heads),
        "headline_empty_share": 1 - len(heads) / len(rows) if rows else None,
        "headline_len_mean": mean(1),
        "headline_caps_share": share(sum(h[2] for h in heads), chars),
        "headline_digit_share": share(sum(h[3] for h in heads), chars),
        "headline_exclaim_mean": mean(4),
        "headline_question_mean": mean(5),
        "clickbait_hits_mean": mean(6),
        "clickbait_share": statistics.fmean(h[6] > 0 for h in heads) if heads else None,
        "headline_unique_ratio": share(len(set(sigs)), len(sigs)),
        "headline_dup_other_share": share(sum(len(sig_users[s]) > 1 for s in sigs), len(sigs)),
    }


def novelty(evs: list[dict], as_of: int, days: int) -> dict:
    """Change and novelty against the account's own events before the recent window."""
    start = as_of - days * DAY
    before = [e for e in evs if e["ts"] <= start]
    recent = [e for e in evs if e["ts"] > start]
    for e in evs:  # actions outside the contract's core count as one kind ("other")
        e["kind"] = e["action"] if e["action"] in ACTIONS else "other"
    f: dict = {}
    for column, prefix in (*IDENTITY, ("kind", "action")):
        seen = {e[column] for e in before}
        tagged = [e[column] for e in recent if e[column] is not None]
        new = sum(value not in seen for value in tagged)
        f[f"new_{prefix}_share"] = share(new, len(tagged)) if before else None
    if before:
        history_days = max((start - min(e["ts"] for e in before)) / DAY, 1.0)
        f["activity_change_ratio"] = (len(recent) / days) / (len(before) / history_days)
    else:
        f["activity_change_ratio"] = None
    pays = sorted(e["ts"] for e in evs if e["action"] == "payment")
    edits = [e["ts"] for e in evs if e["action"] == "profile_edit"]
    first = min((e["ts"] for e in evs), default=None)
    f["days_since_first_payment"] = (as_of - pays[0]) / DAY if pays else None
    f["history_days_before_payment"] = (pays[0] - first) / DAY if pays else None
    gaps = [p - max(t for t in edits if t <= p) for p in pays if any(t <= p for t in edits)]
    f["edit_to_payment_hours"] = min(gaps) / HOUR if gaps else None
    return f


def new_identifiers(evs: list[dict], as_of: int, days: int) -> dict[str, set]:
    """Per identifier column: the values an account with earlier events first used inside the
    recent window (empty for accounts without earlier events)."""
    start = as_of - days * DAY
    if not any(e["ts"] <= start for e in evs):
        return {column: set() for column, _ in IDENTITY}
    out = {}
    for column, _ in IDENTITY:
        before = {e[column] for e in evs if e["ts"] <= start}
        out[column] = {e[column] for e in evs if e["ts"] > start} - before - {None}
    return out


def sharers(new: dict[str, set], new_users: dict[str, dict]) -> dict:
    """Most other established accounts that newly took up one of its new identifiers."""
    return {
        f"new_{prefix}_sharers": max(
            (len(new_users[column][v]) - 1 for v in new[column]), default=0
        )
        for column, prefix in IDENTITY
    }


def reference_features(
    accounts: pl.DataFrame,
    events: pl.DataFrame,
    as_of: datetime,
    config: BehaviourConfig = BehaviourConfig(),
) -> pl.DataFrame:
    """The behavioural feature table computed the slow, obvious way."""
    cut = as_of_us(as_of)
    accts = sorted(accounts.to_dicts(), key=lambda a: a["account_id"])
    known = {a["account_id"] for a in accts}
    evs = []
    for e in events.to_dicts():
        ts = micros(e["ts"])
        if ts is not None and ts <= cut and e["account_id"] in known:
            evs.append({**e, "ts": ts})
    by_account: dict[str, list[dict]] = defaultdict(list)
    users: dict[str, dict] = {c: defaultdict(set) for c, _ in IDENTITY}
    sig_users: dict[int, set] = defaultdict(set)
    follows = set()
    for e in evs:
        by_account[e["account_id"]].append(e)
        for column, _ in IDENTITY:
            if e[column] is not None:
                users[column][e[column]].add(e["account_id"])
        if e["action"] == "post":
            sig = ref.headline_stats(e["text"] or "", PHRASES)[7]
            if sig is not None:
                sig_users[sig].add(e["account_id"])
        target = e["target_id"]
        if e["action"] == "follow" and target in known and target != e["account_id"]:
            follows.add((e["account_id"], target))
    new = {
        a["account_id"]: new_identifiers(by_account[a["account_id"]], cut, config.novelty_days)
        for a in accts
    }
    new_users: dict[str, dict] = {c: defaultdict(set) for c, _ in IDENTITY}
    for account, values in new.items():
        for column, _ in IDENTITY:
            for v in values[column]:
                new_users[column][v].add(account)
    table = []
    for a in accts:
        own = by_account[a["account_id"]]
        f = activity(own, cut, config.windows_days)
        times = [e["ts"] for e in own]
        stats = ref.timing_stats(
            times, config.burst_window_s * 1_000_000, config.burst_min_events, config.night_hours
        )
        f.update(zip(TIMING_COLUMNS, stats, strict=True))
        f["active_days"] = f["active_days"] if times else 0
        f["max_events_in_burst_window"] = f["max_events_in_burst_window"] if times else 0
        posts = [e["ts"] for e in own if e["action"] == "post"]
        f["post_period_s"], f["post_periodicity"] = ref.periodicity(posts, config.period_tolerance)
        for column, prefix in IDENTITY:
            f.update(identity(own, column, prefix, users))
        given = {d for s, d in follows if s == a["account_id"]}
        f["follows_given"] = len(given)
        f["follows_received"] = sum(d == a["account_id"] for _, d in follows)
        f["follow_back_ratio"] = share(
            sum((d, a["account_id"]) in follows for d in given), len(given)
        )
        targets = Counter(
            e["target_id"] for e in own if e["action"] in ENGAGE and e["target_id"] is not None
        )
        f["engage_distinct_targets"] = len(targets)
        f["engage_top_target_share"] = share(max(targets.values(), default=0), targets.total())
        f["engage_target_hhi"] = herfindahl(list(targets.values())) if targets else None
        amounts = [e["amount"] for e in own if e["action"] == "payment"]
        amounts = [a for a in amounts if a is not None]
        f["payment_total"] = float(sum(amounts))
        f["payment_mean"] = statistics.fmean(amounts) if amounts else None
        f["payment_max"] = max(amounts, default=None)
        f["payment_std"] = statistics.pstdev(amounts) if amounts else None
        f["chargeback_rate"] = share(f["n_chargeback"], f["n_payment"])
        f["report_days"] = len({e["ts"] // DAY for e in own if e["action"] == "report_received"})
        f["reports_per_post"] = share(f["n_report_received"], f["n_post"])
        f.update(content(own, sig_users))
        f.update(novelty(own, cut, config.novelty_days))
        f.update(sharers(new[a["account_id"]], new_users))
        created = micros(a.get("created_at"))
        age = (cut - created) / DAY if created is not None else None
        first, last, first_post = f["first"], f["last"], f["first_post"]
        f["events_per_active_day"] = share(f["events_total"], f["active_days"])
        f["days_since_first_event"] = (cut - first) / DAY if first is not None else None
        f["days_since_last_event"] = (cut - last) / DAY if last is not None else None
        f["account_age_days"] = age
        f["first_post_age_days"] = (
            (first_post - created) / DAY if first_post is not None and created is not None else None
        )
        followers = a.get("followers")
        f["followers_per_day"] = (
            followers / max(age, 1.0) if followers is not None and age is not None else None
        )
        table.append({"account_id": a["account_id"], **f})
    integers = integer_columns(config.windows_days)
    names = [name for name, *_ in rows(config.windows_days)]
    schema = {"account_id": pl.String} | {
        n: pl.Int64 if n in integers else pl.Float64 for n in names
    }
    clean = [
        {k: (None if isinstance(v, float) and v != v else v) for k, v in r.items() if k in schema}
        for r in table
    ]
    return pl.DataFrame(clean, schema=schema)
