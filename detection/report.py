"""report.html: one self-contained page reviewers work from (no network needed to open it).

Summary, changes since the previous list, score pictures, the ranked table with reason codes,
and a section per large ring with a drawing of its subgraph. Every value is HTML-escaped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from html import escape

import numpy as np
import polars as pl

from detection import pictures
from detection.candidates import Selection
from detection.config import ACTIONS, ScoreConfig
from detection.diff import change_counts
from detection.report_template import CSS, PAGE, SCRIPT

LIKELY = 0.5  # a reason head's score from which the table names it as the likely reason
CHANGE_ROWS = 100  # rows shown per kind of change (all are in changes.csv)


@dataclass(frozen=True)
class ReportInputs:
    """Everything the page shows, already computed."""

    as_of: datetime
    model: str
    accounts_scored: int
    selection: Selection
    config: ScoreConfig
    candidates: pl.DataFrame  # selection.candidates + reasons (list of REASON structs)
    rings: pl.DataFrame  # detection.ringlist.rings_among output
    changes: pl.DataFrame  # detection.diff.diff_lists output
    previous: str | None  # name of the previous list's folder, if any
    scores: np.ndarray  # every account's calibrated score (histogram)
    curve: np.ndarray  # expected precision of the top k (precision picture)
    ring_links: dict[str, pl.DataFrame] = field(default_factory=dict)  # drawn rings' links
    created_at: str = ""


def h(value: object) -> str:
    """HTML-escaped text of a value (empty for None)."""
    return "" if value is None else escape(str(value), quote=True)


def show(value: object) -> str:
    """A ring fact as text: lists joined, times to the minute in UTC."""
    if isinstance(value, list):
        return ", ".join(map(str, value)) or "—"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M UTC")
    return str(value)


def card(number: object, label: str, css: str = "") -> str:
    """One summary card."""
    body = f'<div class="n">{h(number)}</div><div class="l">{h(label)}</div>'
    return f'<div class="card {css}">{body}</div>'


def percent(value: float | None) -> str:
    """0.934 -> '93.4 %'; missing -> '—'."""
    return "—" if value is None or np.isnan(value) else f"{100 * value:.1f} %"


def summary(data: ReportInputs) -> str:
    """Cards: accounts scored, candidates per action, rings, expected precision; the cut rule."""
    c = data.candidates
    counts = {a: int((c["action"] == a).sum()) for a in ACTIONS}
    cards = [
        card(f"{data.accounts_scored:,}", "accounts scored"),
        card(f"{c.height:,}", "candidates"),
    ]
    cards += [card(f"{counts[a]:,}", f"suggest {a}", a) for a in ACTIONS]
    cards += [
        card(f"{data.rings.height:,}", "rings on the list"),
        card(percent(data.selection.expected_precision), "expected precision"),
    ]
    s, cfg = data.selection, data.config
    if s.mode == "capacity":
        rule = f"the top {cfg.capacity:,} accounts by calibrated score (review capacity)"
    else:
        rule = f"the longest list with expected precision ≥ {percent(cfg.min_precision)}"
    note = (
        f"Cut: {rule}; an account enters on its own only with a score ≥ "
        f"{cfg.watch_threshold:g}. {s.by_score:,} accounts entered on their own score and "
        f"{s.by_ring:,} ring mates were added so that no ring is split. Suggested action by "
        f"calibrated score: close ≥ {cfg.close_threshold:g}, review ≥ {cfg.review_threshold:g}, "
        "otherwise watch. Expected precision is the mean calibrated score of the listed "
        "accounts: the share of them the model expects to be bad."
    )
    if data.previous is not None:
        counts = change_counts(data.changes)
        note += (
            f" Since the list of {data.previous}: {counts['new']:,} new, "
            f"{counts['escalated']:,} escalated, {counts['dropped']:,} dropped (see Changes)."
        )
    return f'<div class="cards">{"".join(cards)}</div><p class="note">{h(note)}</p>'


def change_rows(rows: pl.DataFrame) -> str:
    """A compact table of changed accounts."""
    body = []
    for r in rows.iter_rows(named=True):
        before = (
            f"{h(r['previous_action'])} ({r['previous_score']:.3f})"
            if r["previous_action"]
            else "—"
        )
        after = f"{h(r['action'])} ({r['score']:.3f})" if r["action"] else "—"
        body.append(
            f'<tr><td class="mono">{h(r["account_id"])}</td><td>{before}</td><td>{after}</td>'
            f'<td class="mono">{h(r["ring_id"])}</td></tr>'
        )
    return (
        '<table class="compact"><thead><tr><th>account</th><th>before</th><th>now</th>'
        f"<th>ring</th></tr></thead><tbody>{''.join(body)}</tbody></table>"
    )


def changes(data: ReportInputs) -> str:
    """New, escalated and dropped accounts, one collapsible list each (first rows only)."""
    if data.previous is None:
        return '<p class="note">No earlier list in this output folder: everything is new.</p>'
    counts = change_counts(data.changes)
    parts = [
        f'<p class="note">Compared with the list of {h(data.previous)}; every change is '
        "in changes.csv.</p>"
    ]
    for kind, count in counts.items():
        rows = data.changes.filter(pl.col("change") == kind)
        shown = rows.head(CHANGE_ROWS)
        more = f" (first {CHANGE_ROWS})" if count > CHANGE_ROWS else ""
        inner = change_rows(shown) if count else '<p class="note">none</p>'
        parts.append(
            f'<details class="changes"><summary><span class="badge {kind}">{kind}</span> '
            f"{count:,} accounts{more}</summary>{inner}</details>"
        )
    return "".join(parts)


def change_badges(data: ReportInputs) -> dict[str, str]:
    """account_id -> 'new' / 'escalated' for the ranked table."""
    listed = data.changes.filter(pl.col("change") != "dropped")
    return dict(zip(listed["account_id"], listed["change"], strict=True))


def score_pictures(data: ReportInputs) -> str:
    """Score histogram and expected-precision curve."""
    cfg = data.config
    thresholds = {
        "close": cfg.close_threshold,
        "review": cfg.review_threshold,
        "watch": cfg.watch_threshold,
    }
    listed = data.candidates.filter(pl.col("included_by") == "score")["score"]
    cut = float(listed.min()) if listed.len() else None
    histogram = pictures.score_histogram(data.scores, thresholds, cut)
    curve = pictures.precision_curve(data.curve, data.selection.by_score)
    return (
        '<div class="pics">'
        f'<div class="pic"><img id="histogram" alt="score histogram" src="{histogram}">'
        '<div class="cap">Calibrated scores of every account (log scale); colours: suggested '
        "action bands; black line: the list's cut.</div></div>"
        f'<div class="pic"><img id="precision" alt="expected precision" src="{curve}">'
        '<div class="cap">Expected precision (mean calibrated score) of the top k accounts: '
        "how precision falls as review capacity grows.</div></div></div>"
    )


def reasons_cell(reasons: list[dict] | None) -> str:
    """The reason codes of one candidate: description, value, contribution, feature name."""
    if not reasons:
        return '<span class="via">no single feature stands out</span>'
    items = [
        f'<li><span class="d">{h(r["description"])}</span>: <span class="v">{h(r["shown"])}'
        f'</span> <span class="c">+{r["contribution"]:.2f}</span> '
        f'<span class="f mono">{h(r["feature"])}</span></li>'
        for r in reasons
    ]
    return f'<ul class="reasons">{"".join(items)}</ul>'


def table(data: ReportInputs, drawn: set[str]) -> str:
    """The ranked candidate table (first `report_rows` rows) with a filter box."""
    c = data.candidates
    heads = [col for col in c.columns if col.startswith("score_")]
    badges = change_badges(data)
    rows = []
    for r in c.head(data.config.report_rows).iter_rows(named=True):
        change = badges.get(r["account_id"])
        since = f' <span class="badge {change}">{change}</span>' if change else ""
        ring = ""
        if r["ring_id"]:
            name = h(r["ring_id"])
            link = f'<a href="#ring-{name}">{name}</a>' if r["ring_id"] in drawn else name
            ring = f'<span class="ringtag">{link}&nbsp;·&nbsp;{r["ring_size"]}</span>'
        via = '<div class="via">added with its ring</div>' if r["included_by"] == "ring" else ""
        head = ""
        best = max(heads, key=lambda k: -1.0 if r[k] is None else r[k]) if heads else None
        if best is not None and r[best] is not None and r[best] >= LIKELY:
            kind = h(best.removeprefix("score_"))
            head = f'<div class="via">most likely: {kind} ({r[best]:.2f})</div>'
        width = max(0.0, min(1.0, r["score"])) * 100
        rows.append(
            f'<tr data-action="{h(r["action"])}"><td class="num">{r["rank"]}</td>'
            f'<td class="mono">{h(r["account_id"])}{since}</td>'
            f'<td class="num">{r["score"]:.3f}<span class="bar"><span style="width:{width:.0f}%">'
            f"</span></span>{head}</td>"
            f'<td><span class="badge {h(r["action"])}">{h(r["action"])}</span>{via}</td>'
            f"<td>{ring}</td><td>{reasons_cell(r['reasons'])}</td></tr>"
        )
    shown = min(c.height, data.config.report_rows)
    more = (
        f'<p class="note">Showing the first {shown:,} of {c.height:,} candidates; '
        "candidates.csv holds them all.</p>"
        if c.height > shown
        else ""
    )
    buttons = "".join(
        f'<button data-action="{a}"{" class=on" if a == "all" else ""}>{a}</button>'
        for a in ("all", *ACTIONS)
    )
    controls = (
        f'<div class="controls"><input id="filter" type="search" placeholder="filter by '
        f'account, ring or reason">{buttons}<span class="note"><span id="shown">{shown}'
        "</span> rows shown</span></div>"
    )
    return (
        controls + '<table id="candidates"><thead><tr><th>#</th><th>account</th><th>score</th>'
        "<th>action</th><th>ring · size</th><th>top reasons (contribution to the log-odds)</th>"
        f"</tr></thead><tbody>{''.join(rows)}</tbody></table>{more}"
    )


def chips(values: list | None, limit: int = 12) -> str:
    """A few values as small chips, with a count of the rest."""
    values = list(values or [])
    shown = "".join(f"<span class=mono>{h(v)}</span>" for v in values[:limit])
    rest = f"<span>+{len(values) - limit} more</span>" if len(values) > limit else ""
    return f'<div class="chips">{shown}{rest}</div>' if values else "—"


def ring_section(ring: dict, data: ReportInputs) -> str:
    """One large ring: facts, evidence, members and its drawing."""
    rid = ring["ring_id"]
    members = data.candidates.filter(pl.col("ring_id") == rid).sort("rank")
    actions = dict(zip(members["account_id"], members["action"], strict=True))
    links = data.ring_links.get(
        rid, pl.DataFrame(schema={"account_id": pl.String, "kind": pl.String, "other": pl.String})
    )
    drawing = pictures.ring_drawing(
        list(ring["members"]), actions, links, data.config.max_drawn_nodes
    )
    facts = [
        ("members", f"{ring['size']:,} ({ring['listed']:,} on the list)"),
        ("best member score", f"{ring['max_score']:.3f}"),
        ("mean member score", f"{ring['mean_score']:.3f}"),
        (
            "ring score (density)",
            f"{ring['ring_score']:.3g}" if ring["ring_score"] is not None else "—",
        ),
        ("suggested", ", ".join(f"{ring[a]} {a}" for a in ACTIONS if ring[a])),
    ]
    for key, label in (
        ("evidence_kinds", "bound by"),
        ("lockstep_windows", "lockstep windows"),
        ("first_seen", "first seen"),
        ("created_from", "accounts created from"),
        ("created_to", "accounts created to"),
    ):
        if ring.get(key) is not None:
            facts.append((label, show(ring[key])))
    kv = "".join(f"<dt>{h(k)}</dt><dd>{h(v)}</dd>" for k, v in facts)
    shared = f"<h3>Shared identifiers</h3>{chips(ring.get('identifiers'))}"
    rows = "".join(
        f'<tr><td class="num">{m["rank"]}</td><td class="mono">{h(m["account_id"])}</td>'
        f'<td class="num">{m["score"]:.3f}</td><td><span class="badge {h(m["action"])}">'
        f"{h(m['action'])}</span></td></tr>"
        for m in members.head(30).iter_rows(named=True)
    )
    more = (
        f'<p class="note">… {members.height - 30} more members</p>' if members.height > 30 else ""
    )
    return (
        f'<section class="ring" id="ring-{h(rid)}"><div class="facts"><h3>Ring {h(rid)}</h3>'
        f'<dl class="kv">{kv}</dl>{shared}<h3>Members on the list</h3><table class="members">'
        "<thead><tr><th>#</th><th>account</th><th>score</th><th>action</th></tr></thead>"
        f'<tbody>{rows}</tbody></table>{more}</div><div class="drawing">'
        f'<img class="ring-drawing" alt="ring {h(rid)} subgraph" src="{drawing}"></div></section>'
    )


def drawn_rings(data: ReportInputs) -> pl.DataFrame:
    """The rings that get a section: at least `large_ring` listed members, strongest first."""
    large = data.rings.filter(pl.col("listed") >= data.config.large_ring)
    return large.head(data.config.max_ring_sections)


def rings(data: ReportInputs, drawn: pl.DataFrame) -> str:
    """Overview of every listed ring, then a section per large ring."""
    if data.rings.height == 0:
        return '<p class="note">No rings among the candidates.</p>'
    names = set(drawn["ring_id"].to_list())

    def name(rid: str) -> str:
        return f'<a href="#ring-{h(rid)}">{h(rid)}</a>' if rid in names else h(rid)

    rows = "".join(
        f'<tr><td class="mono">{name(r["ring_id"])}</td><td class="num">{r["size"]}</td>'
        f'<td class="num">{r["listed"]}</td><td class="num">{r["max_score"]:.3f}</td>'
        f'<td class="num">{r["mean_score"]:.3f}</td><td class="num">{r["best_rank"]}</td>'
        f"<td>{h(', '.join(r.get('evidence_kinds') or []))}</td></tr>"
        for r in data.rings.iter_rows(named=True)
    )
    overview = (
        '<table class="compact"><thead><tr><th>ring</th><th>size</th><th>listed</th>'
        "<th>best score</th><th>mean score</th><th>best rank</th><th>bound by</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
    )
    note = (
        f'<p class="note">{data.rings.height:,} rings have members on the list; the '
        f"{drawn.height} with at least {data.config.large_ring} listed members are drawn below "
        "(accounts coloured by suggested action; squares: devices, IPs, payment instruments "
        "and lockstep targets shared by two or more members; dashed: explicit relations).</p>"
    )
    sections = "".join(ring_section(r, data) for r in drawn.iter_rows(named=True))
    return note + overview + "<br>" + sections


def render_report(data: ReportInputs) -> str:
    """The whole page as one HTML string."""
    drawn = drawn_rings(data)
    as_of = data.as_of.strftime("%Y-%m-%d %H:%M UTC")
    return PAGE.substitute(
        title=h(f"ringwatch close candidates — as of {data.as_of:%Y-%m-%d}"),
        meta=h(f"snapshot {as_of} · model {data.model} · generated {data.created_at}"),
        css=CSS,
        summary=summary(data),
        changes=changes(data),
        pictures=score_pictures(data),
        table=table(data, set(drawn["ring_id"].to_list())),
        rings=rings(data, drawn),
        footer=h(
            "Scores are calibrated probabilities that an account is bad; reason codes are "
            "TreeSHAP contributions of each feature to the model's log-odds for this account. "
            "Files: candidates.csv / .parquet (every candidate), scores.parquet (every "
            "account), rings.parquet, changes.csv, manifest.json."
        ),
        script=SCRIPT,
    )
