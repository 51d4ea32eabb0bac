"""The report's rings section: every ring on the list as a collapsed <details> (linked from the
ranked table), with its facts, shared identifiers, members and a labelled drawing."""

from __future__ import annotations

from datetime import datetime
from html import escape

import polars as pl

from detection import pictures
from detection.config import ACTIONS

LINKS = {"account_id": pl.String, "kind": pl.String, "other": pl.String}
MEMBER_ROWS = 30


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


def anchor(ring_id: str) -> str:
    """The id of a ring's section (escaped for an attribute)."""
    return h(f"ring-{ring_id}")


def chips(values: list | None, limit: int = 12) -> str:
    """A few values as small chips, with a count of the rest."""
    values = list(values or [])
    shown = "".join(f"<span class=mono>{h(v)}</span>" for v in values[:limit])
    rest = f"<span>+{len(values) - limit} more</span>" if len(values) > limit else ""
    return f'<div class="chips">{shown}{rest}</div>' if values else "—"


def facts(ring: dict) -> str:
    """The ring's numbers and evidence as a definition list."""
    ring_score = ring.get("ring_score")
    items = [
        ("members", f"{ring['size']:,} ({ring['listed']:,} on the list)"),
        ("best member score", f"{ring['max_score']:.3f}"),
        ("mean member score", f"{ring['mean_score']:.3f}"),
        ("ring score (density)", f"{ring_score:.3g}" if ring_score is not None else "—"),
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
            items.append((label, show(ring[key])))
    return (
        '<dl class="kv">' + "".join(f"<dt>{h(k)}</dt><dd>{h(v)}</dd>" for k, v in items) + "</dl>"
    )


def members_table(members: pl.DataFrame) -> str:
    """The ring's listed members, best first (the first MEMBER_ROWS)."""
    rows = "".join(
        f'<tr><td class="num">{m["rank"]}</td><td class="mono">{h(m["account_id"])}</td>'
        f'<td class="num">{m["score"]:.3f}</td><td><span class="badge {h(m["action"])}">'
        f"{h(m['action'])}</span></td></tr>"
        for m in members.head(MEMBER_ROWS).iter_rows(named=True)
    )
    more = members.height - MEMBER_ROWS
    tail = f'<p class="note">… {more} more members</p>' if more > 0 else ""
    return (
        '<table class="members"><thead><tr><th>#</th><th>account</th><th>score</th>'
        f"<th>action</th></tr></thead><tbody>{rows}</tbody></table>{tail}"
    )


def drawing(ring: dict, members: pl.DataFrame, links: pl.DataFrame | None, core: int) -> str:
    """The ring's labelled drawing as an <img>, or a note when its links were not read."""
    if links is None:
        return '<p class="note">not drawn (see max_ring_sections)</p>'
    ordered = members["account_id"].to_list()
    ordered += sorted(set(ring["members"]) - set(ordered))
    actions = dict(zip(members["account_id"], members["action"], strict=True))
    uri = pictures.ring_drawing(ordered, actions, links, core)
    return f'<img class="ring-drawing" alt="ring {h(ring["ring_id"])} drawing" src="{uri}">'


def ring_section(
    ring: dict, candidates: pl.DataFrame, links: pl.DataFrame | None, core: int
) -> str:
    """One ring as a collapsed <details>: a one-line summary, then facts, identifiers,
    members and the drawing."""
    rid = ring["ring_id"]
    members = candidates.filter(pl.col("ring_id") == rid).sort("rank")
    kinds = ", ".join(ring.get("evidence_kinds") or []) or "—"
    line = (
        f'<span class="mono">{h(rid)}</span> · {ring["size"]:,} members ({ring["listed"]:,} '
        f"listed) · best score {ring['max_score']:.3f} · best rank {ring['best_rank']} · "
        f"bound by {h(kinds)}"
    )
    return (
        f'<details class="ring" id="{anchor(rid)}"><summary>{line}</summary><section class="ring">'
        f'<div class="facts">{facts(ring)}<h3>Shared identifiers</h3>'
        f"{chips(ring.get('identifiers'))}<h3>Members on the list</h3>{members_table(members)}"
        f'</div><div class="drawing">{drawing(ring, members, links, core)}</div></section>'
        "</details>"
    )


def drawn_rings(rings: pl.DataFrame, max_drawn: int) -> pl.DataFrame:
    """The rings whose drawings the report holds: the first `max_drawn` in list order."""
    return rings.head(max_drawn)


def rings_section(
    rings: pl.DataFrame, candidates: pl.DataFrame, links: dict[str, pl.DataFrame], core: int
) -> str:
    """Every ring on the list, collapsed, in list order (best member first)."""
    if rings.height == 0:
        return '<p class="note">No rings among the candidates.</p>'
    note = (
        f'<p class="note">{rings.height:,} rings have members on the list, in the order of their '
        "best member; click one (or its id in the table) to see its evidence. Drawings: accounts "
        "coloured by suggested action and named; squares: the devices, IPs, payment "
        "instruments and lockstep targets two or more members share, named with how many "
        f"members use them; rings over {core} members show their {core} best members and one "
        "node counting the rest; dashed: explicit relations.</p>"
    )
    sections = "".join(
        ring_section(r, candidates, links.get(r["ring_id"]), core)
        for r in rings.iter_rows(named=True)
    )
    return note + sections
