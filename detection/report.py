"""report.html: one self-contained page reviewers work from (no network needed to open it).

Summary, every ring on the list (collapsed, with its evidence and a labelled drawing; see
detection.report_rings), the ranked table with reason codes, changes since the previous list
and score pictures. Every value is HTML-escaped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import polars as pl

from detection import pictures
from detection.candidates import Selection, describe_cut
from detection.config import ACTIONS, ScoreConfig
from detection.diff import CHANGES, LABELS, change_counts
from detection.report_rings import anchor, h, rings_section
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
        "accounts: the share of them the model expects to be bad. "
    ) + describe_cut(s.cut)
    if data.previous is not None:
        counts = change_counts(data.changes)
        note += (
            f" Since the list of {data.previous}: {counts['new']:,} new, "
            f"{counts['escalated']:,} escalated; {counts['dropped']:,} left the list: "
            f"{counts['score_fell']:,} because their score fell, {counts['at_capacity']:,} at "
            f"capacity although still scoring ≥ {cfg.watch_threshold:g}, {counts['cleared']:,} "
            "cleared by a reviewer (see Changes)."
        )
    return f'<div class="cards">{"".join(cards)}</div><p class="note">{h(note)}</p>'


def left(row: dict) -> str:
    """What became of an account that left the list."""
    score = "—" if row["score"] is None else f"{row['score']:.3f}"
    if row["change"] == "at_capacity":
        return f"not listed: list full, still scores {score}"
    if row["change"] == "cleared":
        return f"cleared by a reviewer (scores {score})"
    return f"not listed: score fell to {score}"


def change_rows(rows: pl.DataFrame) -> str:
    """A compact table of changed accounts."""
    body = []
    for r in rows.iter_rows(named=True):
        before = (
            f"{h(r['previous_action'])} ({r['previous_score']:.3f})"
            if r["previous_action"]
            else "—"
        )
        after = f"{h(r['action'])} ({r['score']:.3f})" if r["action"] else left(r)
        body.append(
            f'<tr><td class="mono">{h(r["account_id"])}</td><td>{before}</td><td>{after}</td>'
            f'<td class="mono">{h(r["ring_id"])}</td></tr>'
        )
    return (
        '<table class="compact"><thead><tr><th>account</th><th>before</th><th>now</th>'
        f"<th>ring</th></tr></thead><tbody>{''.join(body)}</tbody></table>"
    )


def changes(data: ReportInputs) -> str:
    """New and escalated accounts, and those that left (score fell, at capacity, cleared),
    one collapsible list each (first rows only)."""
    if data.previous is None:
        return '<p class="note">No earlier list in this output folder: everything is new.</p>'
    counts = change_counts(data.changes)
    parts = [
        f'<p class="note">Compared with the list of {h(data.previous)}; every change is '
        "in changes.csv.</p>"
    ]
    for kind in CHANGES:
        count = counts[kind]
        rows = data.changes.filter(pl.col("change") == kind)
        shown = rows.head(CHANGE_ROWS)
        more = f" (first {CHANGE_ROWS})" if count > CHANGE_ROWS else ""
        inner = change_rows(shown) if count else '<p class="note">none</p>'
        parts.append(
            f'<details class="changes"><summary><span class="badge {kind}">{LABELS[kind]}</span> '
            f"{count:,} accounts{more}</summary>{inner}</details>"
        )
    return "".join(parts)


def change_badges(data: ReportInputs) -> dict[str, str]:
    """account_id -> 'new' / 'escalated' for the ranked table."""
    listed = data.changes.filter(pl.col("change").is_in(["new", "escalated"]))
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


def head_note(r: dict, heads: list[str]) -> str:
    """The abuse kind a candidate resembles most, by the per-reason heads (not its P(bad))."""
    best = max(heads, key=lambda k: -1.0 if r[k] is None else r[k]) if heads else None
    if best is None or r[best] is None or r[best] < LIKELY:
        return ""
    kind = h(best.removeprefix("score_"))
    return f'<div class="via">resembles {kind} most (reason score {r[best]:.2f})</div>'


def row(r: dict, heads: list[str], badges: dict[str, str]) -> str:
    """One row of the ranked table."""
    change = badges.get(r["account_id"])
    since = f' <span class="badge {change}">{change}</span>' if change else ""
    ring = ""
    if r["ring_id"]:
        name = h(r["ring_id"])
        link = f'<a class="ringlink" href="#{anchor(r["ring_id"])}">{name}</a>'
        ring = f'<span class="ringtag">{link}&nbsp;·&nbsp;{r["ring_size"]}</span>'
    via = '<div class="via">added with its ring</div>' if r["included_by"] == "ring" else ""
    raw = r.get("raw_score")
    model = "" if raw is None else f'<div class="via">model score {raw:.2f}</div>'
    width = max(0.0, min(1.0, r["score"])) * 100
    return (
        f'<tr data-action="{h(r["action"])}"><td class="num">{r["rank"]}</td>'
        f'<td class="mono">{h(r["account_id"])}{since}</td>'
        f'<td class="num">{r["score"]:.3f}<span class="bar"><span style="width:{width:.0f}%">'
        f"</span></span>{model}{head_note(r, heads)}</td>"
        f'<td><span class="badge {h(r["action"])}">{h(r["action"])}</span>{via}</td>'
        f"<td>{ring}</td><td>{reasons_cell(r['reasons'])}</td></tr>"
    )


TABLE_NOTE = (
    "Ranked by calibrated P(bad); accounts with equal P(bad) are ordered by the model score "
    '(the booster\'s log-odds before calibration, shown under it). "Resembles …" names the '
    "abuse kind whose own model (trained on that kind against everything else and calibrated "
    "separately) scores the account highest: it says what kind of abuse it looks like, not "
    "how likely it is bad, so it can be high while P(bad) is low. Ring ids open the ring's "
    "evidence."
)


def table(data: ReportInputs) -> str:
    """The ranked candidate table (first `report_rows` rows) with a filter box."""
    c = data.candidates
    heads = [col for col in c.columns if col.startswith("score_")]
    badges = change_badges(data)
    rows = [row(r, heads, badges) for r in c.head(data.config.report_rows).iter_rows(named=True)]
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
        f'<p class="note">{h(TABLE_NOTE)}</p>'
        + controls
        + '<table id="candidates"><thead><tr><th>#</th><th>account</th><th>P(bad)</th>'
        "<th>action</th><th>ring · size</th><th>top reasons (contribution to the log-odds)</th>"
        f"</tr></thead><tbody>{''.join(rows)}</tbody></table>{more}"
    )


def render_report(data: ReportInputs) -> str:
    """The whole page as one HTML string."""
    as_of = data.as_of.strftime("%Y-%m-%d %H:%M UTC")
    return PAGE.substitute(
        title=h(f"ringwatch close candidates — as of {data.as_of:%Y-%m-%d}"),
        meta=h(f"snapshot {as_of} · model {data.model} · generated {data.created_at}"),
        css=CSS,
        summary=summary(data),
        changes=changes(data),
        pictures=score_pictures(data),
        table=table(data),
        rings=rings_section(
            data.rings, data.candidates, data.ring_links, data.config.max_drawn_nodes
        ),
        footer=h(
            "Scores are calibrated probabilities that an account is bad; reason codes are "
            "TreeSHAP contributions of each feature to the model's log-odds for this account. "
            "Files: candidates.csv / .parquet (every candidate), scores.parquet (every "
            "account), rings.parquet, changes.csv, manifest.json."
        ),
        script=SCRIPT,
    )
