"""The detail views of the review app: one page per ring and one per account."""

from __future__ import annotations

from urllib.parse import quote

import numpy as np
import polars as pl

from detection import pictures
from detection.distribution import percentile
from detection.reasons import show_value
from detection.review.html import badge, decided, decision_form, h, number, page, table, url, when
from detection.review.listing import ReviewList
from detection.review.queue import with_decisions
from detection.ringlist import IDENTIFIER_KINDS, LINKS_SCHEMA, ring_links

HEADS_NOTE = (
    "Per-reason scores come from separate models, each trained on one abuse kind against "
    "everything else and calibrated on its own: they say which kind of abuse the account most "
    "resembles, not how likely it is bad. The list is ranked and cut by P(bad) only."
)
TIMELINE_ROWS = 300
EVENT_ROWS = 60


def links_of(data: ReviewList, ring: dict) -> pl.DataFrame:
    """Who used which of the ring's identifiers and lockstep targets, and explicit relations."""
    members = list(ring["members"])
    if data.events is None:
        return pl.DataFrame(schema=LINKS_SCHEMA)
    events = data.events_of(members)
    for column in ("target_id", *IDENTIFIER_KINDS):
        if column not in events.columns:
            events = events.with_columns(pl.lit(None, dtype=pl.String).alias(column))
    edges = (
        data.edges
        if data.edges is not None
        else pl.DataFrame(schema={"src": pl.String, "dst": pl.String, "relation": pl.String})
    )
    return ring_links(
        events, edges, members, list(ring.get("identifiers") or []),
        list(ring.get("lockstep_targets") or []),
    )  # fmt: skip


def evidence_table(links: pl.DataFrame, members: list[str]) -> str:
    """Per relation: each shared identifier or target and how many members used it."""
    inside = pl.Series(members, dtype=pl.String).implode()
    shared = (
        links.filter(~pl.col("other").is_in(inside))
        .group_by("kind", "other")
        .agg(users=pl.col("account_id").n_unique(), who=pl.col("account_id").sort().head(6))
        .sort(["kind", "users", "other"], descending=[False, True, False])
    )
    rows = [
        f"<tr><td>{h('lockstep target' if r['kind'] == 'lockstep' else 'shared ' + r['kind'])}"
        f'</td><td class="mono">{h(r["other"])}</td><td class="num">{h(r["users"])}</td>'
        f'<td class="mono">{h(", ".join(r["who"]))}{" …" if r["users"] > 6 else ""}</td></tr>'
        for r in shared.iter_rows(named=True)
    ]
    relations = links.filter(pl.col("other").is_in(inside)).group_by("kind").agg(pairs=pl.len())
    rows += [
        f'<tr><td>relation {h(r["kind"])}</td><td class="muted">between members</td>'
        f'<td class="num">{h(r["pairs"])} links</td><td></td></tr>'
        for r in relations.sort("kind").iter_rows(named=True)
    ]
    return table(["relation", "identifier / target", "members", "who (first 6)"], rows, "evidence")


def timeline(data: ReviewList, ring: dict, links: pl.DataFrame) -> str:
    """The binding events: members' events on the ring's identifiers and targets, in time."""
    events = data.events_of(list(ring["members"]))
    if events.height == 0:
        return f'<p class="muted">{h(data.data_note or "no events")}</p>'
    binds = []
    for kind in IDENTIFIER_KINDS:
        values = links.filter(pl.col("kind") == kind)["other"].unique().implode()
        if kind in events.columns:
            binds.append(pl.when(pl.col(kind).is_in(values)).then(pl.format(f"{kind} {{}}", kind)))
    targets = links.filter(pl.col("kind") == "lockstep")["other"].unique().implode()
    if "target_id" in events.columns:
        binds.append(
            pl.when(pl.col("target_id").is_in(targets)).then(pl.format("target {}", "target_id"))
        )
    if not binds:
        return '<p class="muted">no binding events</p>'
    bound = events.with_columns(bound=pl.coalesce(binds)).filter(pl.col("bound").is_not_null())
    bound = bound.sort(["ts", "account_id"])
    rows = [
        f"<tr><td>{h(when(r['ts']))}</td><td class=mono>{h(r['account_id'])}</td>"
        f"<td>{h(r['action'])}</td><td class=mono>{h(r['bound'])}</td></tr>"
        for r in bound.head(TIMELINE_ROWS).iter_rows(named=True)
    ]
    more = (
        f'<p class="muted">first {TIMELINE_ROWS} of {bound.height:,} binding events</p>'
        if bound.height > TIMELINE_ROWS
        else f'<p class="muted">{bound.height:,} binding events</p>'
    )
    return more + table(["time (UTC)", "account", "action", "bound by"], rows, "timeline")


def ring_facts(ring: dict) -> str:
    """The ring's numbers and evidence summary."""
    facts = [
        ("members", f"{ring['size']:,} ({ring.get('listed', 0):,} on the list)"),
        ("best P(bad)", number(ring.get("max_score"))),
        ("mean P(bad)", number(ring.get("mean_score"))),
        ("density score", number(ring.get("ring_score"), 2)),
        ("bound by", ", ".join(ring.get("evidence_kinds") or []) or "—"),
        ("lockstep windows", ring.get("lockstep_windows")),
        ("first seen", when(ring.get("first_seen"))),
        ("created", f"{when(ring.get('created_from'))} → {when(ring.get('created_to'))}"),
    ]
    return (
        '<dl class="kv">' + "".join(f"<dt>{h(k)}</dt><dd>{h(v)}</dd>" for k, v in facts) + "</dl>"
    )


def ring_page(data: ReviewList, ring: dict, latest: pl.DataFrame, csrf: str, who: str) -> str:
    """One ring: facts, decision form, members, evidence per relation, drawing, timeline."""
    rid, members = ring["ring_id"], list(ring["members"])
    listed = data.candidates.filter(pl.col("account_id").is_in(pl.Series(members).implode()))
    listed = with_decisions(listed, latest, "account_id").sort("rank")
    actions = dict(zip(listed["account_id"], listed["action"], strict=True))
    links = links_of(data, ring)
    ordered = listed["account_id"].to_list() + sorted(set(members) - set(actions))
    drawing = pictures.ring_drawing(ordered, actions, links, 20)
    rows = [
        f'<tr data-account="{h(r["account_id"])}"><td class="num">{h(r["rank"])}</td>'
        f'<td><a class="mono" href="{url("account", r["account_id"])}">{h(r["account_id"])}</a>'
        f'</td><td class="num">{number(r["score"])}</td>'
        f'<td class="num">{number(r.get("raw_score"), 2)}</td><td>{badge(r["action"])}</td>'
        f'<td class="decision">{decided(r if r.get("decision") else None)}</td></tr>'
        for r in listed.iter_rows(named=True)
    ]
    unlisted = sorted(set(members) - set(listed["account_id"].to_list()))
    extra = f'<p class="muted">not on the list: {h(", ".join(unlisted))}</p>' if unlisted else ""
    body = (
        f'<div class="grid"><div class="panel">{ring_facts(ring)}'
        f"{decision_form('ring', rid, csrf, '/ring/' + quote(rid, safe=''), who)}</div>"
        f'<div class="panel"><img class="drawing" alt="drawing of ring {h(rid)}" '
        f'src="{h(drawing)}"></div></div><h2>Members</h2>'
        + table(["#", "account", "P(bad)", "model score", "suggested", "decision"], rows, "members")
        + extra
        + f"<h2>Evidence per relation</h2>{evidence_table(links, members)}"
        + f"<h2>Timeline of binding events</h2>{timeline(data, ring, links)}"
    )
    return page(f"Ring {rid}", body, f"list of {data.as_of[:10]} · {data.folder}")


def heads(row: dict) -> str:
    """Per-reason head scores, strongest first, with what they mean."""
    cells = sorted(
        ((k.removeprefix("score_"), v) for k, v in row.items() if k.startswith("score_")),
        key=lambda kv: -(kv[1] or 0.0),
    )
    items = "".join(f"<li>{h(k)}: {number(v, 2)}</li>" for k, v in cells)
    return f'<ul class="reasons">{items}</ul><p class="muted">{h(HEADS_NOTE)}</p>' if items else ""


def feature_rows(data: ReviewList, row: dict) -> list[str]:
    """Feature values as scored, each against the base's distribution; reasons first."""
    values = row.get("feature_values") or {}
    reasons = [r["feature"] for r in row.get("reasons") or []]
    out = []
    for name, value in values.items():
        q = data.quantiles.get(name, np.empty(0))
        number_value = float(value) if isinstance(value, (int, float)) else None
        pct = percentile(q, number_value)
        extreme = -1 if name in reasons else (abs(pct - 50) if pct is not None else 0)
        out.append((name in reasons, extreme, name, value, pct, q))
    out.sort(key=lambda t: (not t[0], -t[1], t[2]))
    rows = []
    for is_reason, _, name, value, pct, q in out:
        where = "—" if pct is None else f"percentile {pct:.0f} of the base"
        median = number(float(q[50]), 3) if q.size == 101 else "—"
        p95 = number(float(q[95]), 3) if q.size == 101 else "—"
        meter = "" if pct is None else f'<meter min="0" max="100" value="{pct:.0f}"></meter> '
        mark = " ★" if is_reason else ""
        rows.append(
            f'<tr><td class="mono">{h(name)}{mark}</td><td class="num">{h(show_value(value))}</td>'
            f"<td>{meter}{h(where)}</td><td class=num>{median}</td><td class=num>{p95}</td></tr>"
        )
    return rows


def account_facts(row: dict, last: dict | None) -> str:
    """Rank, scores, suggestion, ring and the latest decision of an account."""
    ring = (
        f'<a class="mono" href="{url("ring", row["ring_id"])}">{h(row["ring_id"])}</a> '
        f"({h(row.get('ring_size'))} members)"
        if row.get("ring_id")
        else "—"
    )
    facts = [
        ("rank on the list", h(row["rank"])),
        ("P(bad) (calibrated)", number(row["score"])),
        ("model score (log-odds)", number(row.get("raw_score"), 2)),
        ("rank in the base", h(row.get("base_rank"))),
        ("suggested", badge(row["action"])),
        ("entered", "on its own score" if row.get("included_by") == "score" else "with its ring"),
        ("ring", ring),
        ("decision", decided(last)),
    ]
    return '<dl class="kv">' + "".join(f"<dt>{h(k)}</dt><dd>{v}</dd>" for k, v in facts) + "</dl>"


def reasons_table(row: dict) -> str:
    """The reason codes: description, value, contribution, feature."""
    rows = [
        f"<tr><td>{h(r['description'])}</td><td class=num>{h(r['shown'])}</td>"
        f"<td class=num>+{number(r['contribution'], 2)}</td><td class=mono>{h(r['feature'])}"
        "</td></tr>"
        for r in row.get("reasons") or []
    ]
    return table(["reason", "value", "contribution (log-odds)", "feature"], rows, "reasons")


def history_table(history: pl.DataFrame) -> str:
    """Every decision on the account, newest first."""
    rows = [
        f"<tr><td>{h(when(d['decided_at']))}</td><td>{h(d['reviewer'])}</td>"
        f"<td>{badge(d['decision'])}</td><td>{h(d['scope'])}</td><td>{h(d['note'])}</td></tr>"
        for d in history.sort("id", descending=True).iter_rows(named=True)
    ]
    return table(["time (UTC)", "reviewer", "decision", "scope", "note"], rows, "history")


def events_table(data: ReviewList, account_id: str) -> str:
    """The account's latest events."""
    events = data.events_of([account_id]).head(EVENT_ROWS)
    shown = ("ts", "action", "target_id", "ip", "device", "instrument", "text")
    rows = [
        "<tr>"
        + "".join(
            f"<td class=mono>{h(when(r.get(c)) if c == 'ts' else r.get(c))}</td>" for c in shown
        )
        + "</tr>"
        for r in events.iter_rows(named=True)
    ]
    note = f'<p class="muted">latest {EVENT_ROWS}. {h(data.data_note)}</p>'
    return note + table(list(shown), rows, "events")


def account_page(data: ReviewList, row: dict, history: pl.DataFrame, csrf: str, who: str) -> str:
    """One account: scores, reasons, features against the base, decisions, recent events."""
    aid = row["account_id"]
    last = history.tail(1).row(0, named=True) if history.height else None
    form = decision_form("account", aid, csrf, "/account/" + quote(aid, safe=""), who)
    features = table(
        ["feature", "value", "in the base", "base median", "base p95"],
        feature_rows(data, row),
        "features",
    )
    body = (
        f'<div class="grid"><div class="panel">{account_facts(row, last)}{form}</div>'
        f'<div class="panel"><h2>Scores per reason</h2>{heads(row)}</div></div>'
        f"<h2>Why it is listed</h2>{reasons_table(row)}"
        "<h2>Feature values against the base</h2><p class=muted>★ a reason above; percentile "
        f"among the accounts scored with this list.</p>{features}"
        f"<h2>Decisions</h2>{history_table(history)}"
        f"<h2>Recent events</h2>{events_table(data, aid)}"
    )
    return page(f"Account {aid}", body, f"list of {data.as_of[:10]} · {data.folder}")
