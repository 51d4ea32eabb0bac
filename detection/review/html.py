"""HTML building blocks of the review app: escaping, the page frame, forms, small widgets.

Every value that comes from the data goes through `h` (or `attr`/`url`); the page frame loads
one stylesheet from /static and runs no script, so the Content-Security-Policy can forbid
inline code altogether.
"""

from __future__ import annotations

from datetime import datetime
from html import escape
from urllib.parse import quote, urlencode

DECISION_BUTTONS = (("close", "closed"), ("clear", "cleared"), ("escalate", "escalated"))


def h(value: object) -> str:
    """HTML-escaped text of a value (empty for None), safe inside elements and quoted
    attributes."""
    return "" if value is None else escape(str(value), quote=True)


def url(*parts: str, **query: object) -> str:
    """A local URL from path parts (each percent-encoded) and query parameters, escaped for
    an attribute."""
    path = "/" + "/".join(quote(str(p), safe="") for p in parts)
    kept = {k: v for k, v in query.items() if v not in (None, "", False)}
    return h(path + (f"?{urlencode(kept)}" if kept else ""))


def number(value: float | None, digits: int = 3) -> str:
    """A score as text ('—' when missing)."""
    if value is None or value != value:
        return "—"
    return f"{value:.{digits}f}"


def when(value: object) -> str:
    """A time to the second, UTC."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, str) and "T" in value:
        return value.replace("T", " ")[:19]
    return h(value)


def badge(text: str | None, css: str | None = None) -> str:
    """A coloured label (suggested action, decision)."""
    if not text:
        return ""
    return f'<span class="badge {h(css or text)}">{h(text)}</span>'


def decided(row: dict | None) -> str:
    """'closed by alice · 12:03 (ring)' for the latest decision of an account, or ''."""
    if not row:
        return '<span class="muted">undecided</span>'
    scope = " (whole ring)" if row.get("scope") == "ring" else ""
    return (
        f"{badge(row['decision'])} <span class=muted>by {h(row['reviewer'])} · "
        f"{h(when(row['decided_at']))}{scope}</span>"
    )


def decision_form(scope: str, target: str, csrf: str, back: str, reviewer: str) -> str:
    """Close / clear / escalate buttons with reviewer name and note, for an account or ring."""
    what = "this whole ring" if scope == "ring" else "this account"
    buttons = "".join(
        f'<button type="submit" name="decision" value="{value}" class="act {value}">'
        f"{verb} {what}</button>"
        for verb, value in DECISION_BUTTONS
    )
    return (
        f'<form class="decide" method="post" action="/decide" id="decide-{h(scope)}">'
        f'<input type="hidden" name="csrf" value="{h(csrf)}">'
        f'<input type="hidden" name="scope" value="{h(scope)}">'
        f'<input type="hidden" name="target" value="{h(target)}">'
        f'<input type="hidden" name="back" value="{h(back)}">'
        f'<label>reviewer <input name="reviewer" required maxlength="80" value="{h(reviewer)}">'
        '</label><label>note <input name="note" maxlength="4000" size="40" '
        'placeholder="why (optional)"></label>'
        f'<div class="buttons">{buttons}</div></form>'
    )


def table(headers: list[str], rows: list[str], css: str = "") -> str:
    """A table from header labels (escaped) and already rendered <tr> rows."""
    head = "".join(f"<th>{h(x)}</th>" for x in headers)
    body = "".join(rows) or f'<tr><td colspan="{len(headers)}" class="muted">none</td></tr>'
    return f'<table class="{h(css)}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def page(title: str, body: str, subtitle: str = "") -> str:
    """A whole page: header with navigation, the body, one stylesheet, no script."""
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<link rel="icon" href="data:,"><title>{h(title)} · ringwatch review</title>'
        '<link rel="stylesheet" '
        'href="/static/app.css"></head><body><header><div class="brand">ringwatch review</div>'
        '<nav><a href="/">Accounts</a><a href="/rings">Rings</a><a href="/decisions">Decisions'
        f'</a></nav><div class="sub">{h(subtitle)}</div></header><main><h1>{h(title)}</h1>'
        f"{body}</main></body></html>"
    )


CSS = """
:root { --ink:#2d3436; --muted:#636e72; --line:#dfe6e9; --bg:#f7f9fa; --card:#fff;
  --close:#c0392b; --review:#e67e22; --watch:#d4ac0d; --accent:#2c7fb8; --ok:#27ae60; }
* { box-sizing:border-box; }
body { margin:0; font:14px/1.45 -apple-system, "Segoe UI", Roboto, Arial, sans-serif;
  color:var(--ink); background:var(--bg); }
header { background:#1e272e; color:#fff; padding:10px 28px; display:flex; gap:24px;
  align-items:baseline; flex-wrap:wrap; }
header .brand { font-weight:650; font-size:16px; }
header nav a { color:#dfe6e9; margin-right:16px; text-decoration:none; }
header nav a:hover { text-decoration:underline; }
header .sub { color:#b2bec3; font-size:12.5px; }
main { padding:12px 28px 40px; max-width:1500px; }
h1 { font-size:19px; margin:8px 0 10px; word-break:break-all; }
h2 { font-size:16px; margin:22px 0 8px; border-bottom:1px solid var(--line); padding-bottom:4px; }
a { color:var(--accent); }
.muted { color:var(--muted); font-size:12.5px; }
.mono { font-family:ui-monospace, Menlo, Consolas, monospace; font-size:12.5px;
  word-break:break-all; }
table { border-collapse:collapse; width:100%; background:var(--card); font-size:13px; }
th { text-align:left; background:#eef2f4; font-weight:600; padding:6px 8px;
  border-bottom:1px solid var(--line); }
td { padding:6px 8px; border-bottom:1px solid var(--line); vertical-align:top; }
td.num { text-align:right; font-variant-numeric:tabular-nums; white-space:nowrap; }
tr.done td { background:#f4f6f7; color:var(--muted); }
.badge { display:inline-block; padding:1px 8px; border-radius:10px; font-size:12px;
  font-weight:600; color:#fff; background:#7f8c8d; }
.badge.close, .badge.closed { background:var(--close); }
.badge.review { background:var(--review); } .badge.watch { background:var(--watch); color:#222; }
.badge.cleared { background:var(--ok); } .badge.escalated { background:#8e44ad; }
.cards { display:flex; gap:10px; flex-wrap:wrap; margin:4px 0 10px; }
.card { background:var(--card); border:1px solid var(--line); border-radius:8px;
  padding:8px 14px; min-width:120px; }
.card .n { font-size:20px; font-weight:650; } .card .l { color:var(--muted); font-size:12px; }
form.filters { display:flex; gap:8px; flex-wrap:wrap; align-items:center; margin:6px 0 10px; }
form.filters input, form.filters select { padding:4px 6px; border:1px solid var(--line);
  border-radius:5px; }
form.decide { background:var(--card); border:1px solid var(--line); border-radius:8px;
  padding:10px 12px; margin:8px 0 14px; display:flex; gap:12px; flex-wrap:wrap;
  align-items:center; }
form.decide input { padding:4px 6px; border:1px solid var(--line); border-radius:5px; }
button { padding:5px 12px; border-radius:6px; border:1px solid var(--line); background:#fff;
  cursor:pointer; }
button.act.closed { background:var(--close); color:#fff; border-color:var(--close); }
button.act.cleared { background:var(--ok); color:#fff; border-color:var(--ok); }
button.act.escalated { background:#8e44ad; color:#fff; border-color:#8e44ad; }
.pager { margin:10px 0; display:flex; gap:12px; align-items:center; }
.grid { display:grid; grid-template-columns:minmax(380px, 1fr) minmax(380px, 1fr); gap:18px; }
.panel { background:var(--card); border:1px solid var(--line); border-radius:8px;
  padding:10px 14px; }
dl.kv { display:grid; grid-template-columns:max-content 1fr; gap:3px 12px; margin:4px 0; }
dl.kv dt { color:var(--muted); } dl.kv dd { margin:0; }
img.drawing { width:100%; max-width:820px; height:auto; display:block; }
ul.reasons { margin:0; padding-left:16px; }
.pct { display:inline-block; width:80px; height:8px; background:#ecf0f1; border-radius:4px;
  vertical-align:middle; position:relative; }
meter { width:90px; }
.flash { background:#eafaf1; border:1px solid #a9dfbf; padding:6px 10px; border-radius:6px; }
.error { background:#fdedec; border:1px solid #f5b7b1; padding:6px 10px; border-radius:6px; }
details > summary { cursor:pointer; }
"""
