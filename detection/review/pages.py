"""The list views of the review app: the account queue, the ring queue, the decisions log."""

from __future__ import annotations

import polars as pl

from detection.review.html import badge, decided, h, number, page, table, url, when
from detection.review.queue import STATUSES, Filters, counts, page_of, ring_queue


def summary_cards(tally: dict[str, int], total: int) -> str:
    """Cards: listed accounts, decided per decision, still undecided."""
    items = [(f"{total:,}", "listed accounts")]
    items += [(f"{tally[k]:,}", k) for k in ("undecided", "closed", "cleared", "escalated")]
    return (
        '<div class="cards">'
        + "".join(
            f'<div class="card"><div class="n">{h(n)}</div><div class="l">{h(label)}</div></div>'
            for n, label in items
        )
        + "</div>"
    )


def filter_form(f: Filters) -> str:
    """The queue's filters as a GET form (no script needed)."""

    def options(values: tuple[str, ...], chosen: str) -> str:
        return "".join(
            f'<option value="{h(v)}"{" selected" if v == chosen else ""}>{h(v)}</option>'
            for v in values
        )

    return (
        '<form class="filters" method="get" action="/">'
        f'<input type="search" name="q" value="{h(f.q)}" placeholder="account, ring or reason">'
        f'<label>suggested <select name="action">'
        f"{options(('all', 'close', 'review', 'watch'), f.action)}</select></label>"
        f'<label>status <select name="status">{options(STATUSES, f.status)}</select></label>'
        '<button type="submit">filter</button></form>'
    )


def top_reason(reasons: list[dict] | None) -> str:
    """The strongest reason of a row as one line."""
    if not reasons:
        return '<span class="muted">no single feature stands out</span>'
    r = reasons[0]
    return f"{h(r['description'])}: <b>{h(r['shown'])}</b>"


def ring_cell(row: dict) -> str:
    """The ring link of a row with its size."""
    if not row.get("ring_id"):
        return ""
    return f'<a class="mono" href="{url("ring", row["ring_id"])}">{h(row["ring_id"])}</a> · ' + h(
        row.get("ring_size")
    )


def queue_row(r: dict) -> str:
    """One queue row."""
    css = ' class="done"' if r.get("decision") else ""
    raw = r.get("raw_score")
    return (
        f'<tr{css} data-account="{h(r["account_id"])}"><td class="num">{h(r["rank"])}</td>'
        f'<td><a class="mono" href="{url("account", r["account_id"])}">{h(r["account_id"])}</a>'
        f'</td><td class="num">{number(r["score"])}</td><td class="num">{number(raw, 2)}</td>'
        f"<td>{badge(r['action'])}</td><td>{ring_cell(r)}</td><td>{top_reason(r.get('reasons'))}"
        f'</td><td class="decision">{decided(r if r.get("decision") else None)}</td></tr>'
    )


def pager(f: Filters, page_no: int, pages: int, shown: int) -> str:
    """Previous / next links that keep the filters."""
    keep = dict(action=f.action, status=f.status, q=f.q)
    prev = f'<a href="{url(page=page_no - 1, **keep)}">← previous</a>' if page_no > 1 else ""
    nxt = f'<a href="{url(page=page_no + 1, **keep)}">next →</a>' if page_no < pages else ""
    return (
        f'<div class="pager">{prev}<span class="muted">page {page_no} of {pages} · {shown:,} '
        f"accounts match</span>{nxt}</div>"
    )


def queue_page(
    candidates: pl.DataFrame, latest: pl.DataFrame, matching: pl.DataFrame, f: Filters, sub: str
) -> str:
    """The account queue: cards, filters, one page of ranked rows."""
    rows, pages = page_of(matching, f.page)
    page_no = min(f.page, pages)
    headers = ["#", "account", "P(bad)", "model score", "suggested", "ring · size"]
    headers += ["strongest reason", "decision"]
    note = (
        '<p class="muted">Ranked by calibrated P(bad); equal P(bad) are ordered by the model '
        "score (the booster's log-odds before calibration). Decided accounts leave the default "
        "view (status: undecided); choose status all to see them.</p>"
    )
    body = (
        summary_cards(counts(candidates, latest), candidates.height)
        + filter_form(f)
        + note
        + table(headers, [queue_row(r) for r in rows.iter_rows(named=True)], "queue")
        + pager(f, page_no, pages, matching.height)
    )
    return page("Review queue", body, sub)


def rings_page(
    rings: pl.DataFrame, candidates: pl.DataFrame, latest: pl.DataFrame, sub: str
) -> str:
    """Every ring on the list with its members' decisions."""
    frame = ring_queue(rings, candidates, latest)
    rows = []
    for r in frame.iter_rows(named=True):
        reviewers = ", ".join(r.get("reviewers") or [])
        done = f"{r.get('decided') or 0} of {r['size']}"
        tally = " ".join(
            badge(f"{r.get(k)} {k}", k) for k in ("closed", "cleared", "escalated") if r.get(k)
        )
        rows.append(
            f'<tr data-ring="{h(r["ring_id"])}"><td><a class="mono" '
            f'href="{url("ring", r["ring_id"])}">{h(r["ring_id"])}</a></td>'
            f'<td class="num">{h(r["size"])}</td>'
            f'<td class="num">{h(r.get("best_rank"))}</td>'
            f'<td class="num">{number(r.get("max_score"))}</td>'
            f"<td>{h(', '.join(r.get('evidence_kinds') or []))}</td><td>{h(done)} {tally}"
            f' <span class="muted">{h(reviewers)}</span></td></tr>'
        )
    headers = ["ring", "members", "best rank", "best P(bad)", "bound by", "decided"]
    return page("Rings on the list", table(headers, rows, "rings"), sub)


def decisions_page(history: pl.DataFrame, sub: str) -> str:
    """Every decision recorded for this list, newest first (the audit trail)."""
    rows = [
        f'<tr><td class="num">{h(r["id"])}</td><td>{h(when(r["decided_at"]))}</td>'
        f"<td>{h(r['reviewer'])}</td><td>{badge(r['decision'])}</td>"
        f'<td><a class="mono" href="{url("account", r["account_id"])}">{h(r["account_id"])}</a>'
        f"</td><td>{h(r['scope'])} {h(r['ring_id'] or '')}</td><td>{h(r['note'])}</td></tr>"
        for r in history.sort("id", descending=True).head(1000).iter_rows(named=True)
    ]
    headers = ["#", "decided at (UTC)", "reviewer", "decision", "account", "scope", "note"]
    note = (
        '<p class="muted">Append-only: a later decision supersedes an earlier one; '
        "`ringwatch feedback --from-review LIST_FOLDER` turns them into labels.</p>"
    )
    return page("Decisions", note + table(headers, rows, "decisions"), sub)
