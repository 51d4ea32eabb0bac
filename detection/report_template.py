"""The page skeleton and style of report.html (self-contained: inline CSS, no network).

Kept as a Python module (not a data file) so that it ships with the package as it is.
`$name` placeholders are filled by detection.report with already escaped HTML.
"""

from __future__ import annotations

from string import Template

CSS = """
:root { --ink:#2d3436; --muted:#636e72; --line:#dfe6e9; --bg:#f7f9fa; --card:#fff;
  --close:#c0392b; --review:#e67e22; --watch:#d4ac0d; --accent:#2c7fb8; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.45 -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
  sans-serif; color:var(--ink); background:var(--bg); }
header { background:#1e272e; color:#fff; padding:18px 32px; }
header h1 { margin:0; font-size:20px; font-weight:600; }
header .meta { color:#b2bec3; font-size:12.5px; margin-top:4px; }
header nav { margin-top:8px; }
header nav a { color:#dfe6e9; font-size:13px; margin-right:16px; text-decoration:none; }
header nav a:hover { text-decoration:underline; }
main { padding:20px 32px 48px; max-width:1400px; }
h2 { font-size:17px; margin:30px 0 10px; border-bottom:1px solid var(--line);
  padding-bottom:6px; }
h3 { font-size:15px; margin:0 0 6px; }
.cards { display:flex; flex-wrap:wrap; gap:12px; }
.card { background:var(--card); border:1px solid var(--line); border-radius:8px;
  padding:12px 16px; min-width:150px; }
.card .n { font-size:24px; font-weight:650; }
.card .l { color:var(--muted); font-size:12px; text-transform:uppercase; letter-spacing:.04em; }
.card.close .n { color:var(--close); } .card.review .n { color:var(--review); }
.card.watch .n { color:var(--watch); }
.note { color:var(--muted); font-size:12.5px; margin:8px 0; }
.pics { display:grid; grid-template-columns:repeat(auto-fit, minmax(440px, 1fr)); gap:16px; }
.pic { background:var(--card); border:1px solid var(--line); border-radius:8px; padding:10px; }
.pic img { display:block; width:100%; height:auto; }
.pic .cap { font-size:12px; color:var(--muted); margin-top:4px; }
table { border-collapse:collapse; width:100%; background:var(--card); font-size:13px; }
th { text-align:left; background:#eef2f4; font-weight:600; padding:7px 8px;
  border-bottom:1px solid var(--line); position:sticky; top:0; z-index:1; }
td { padding:7px 8px; border-bottom:1px solid var(--line); vertical-align:top; }
tr:hover td { background:#fbfcfd; }
td.num { text-align:right; font-variant-numeric:tabular-nums; white-space:nowrap; }
.mono { font-family:ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size:12.5px; }
.badge { display:inline-block; padding:1px 8px; border-radius:10px; font-size:12px;
  font-weight:600; color:#fff; }
.badge.close { background:var(--close); } .badge.review { background:var(--review); }
.badge.watch { background:var(--watch); color:#2d3436; }
.badge.new { background:var(--accent); } .badge.escalated { background:var(--close); }
.badge.dropped, .badge.score_fell { background:#95a5a6; }
.badge.at_capacity { background:#7f8c8d; } .badge.cleared { background:#27ae60; }
details.ring { background:var(--card); border:1px solid var(--line); border-radius:8px;
  margin:0 0 6px; padding:6px 12px; }
details.ring > summary { cursor:pointer; font-size:13px; }
details.ring[open] > summary { margin-bottom:8px; }
details.ring section.ring { border:0; padding:0; margin:0; }
.bar { position:relative; width:92px; height:8px; background:#ecf0f1; border-radius:4px;
  display:inline-block; margin-left:6px; vertical-align:middle; }
.bar span { position:absolute; left:0; top:0; bottom:0; border-radius:4px;
  background:var(--accent); }
ul.reasons { list-style:none; margin:0; padding:0; }
ul.reasons li { margin:0 0 3px; }
ul.reasons .d { color:var(--ink); }
ul.reasons .v { font-weight:600; }
ul.reasons .f { color:var(--muted); font-size:11.5px; }
ul.reasons .c { color:var(--close); font-size:11.5px; font-variant-numeric:tabular-nums; }
.ringtag { font-size:12px; }
.ringtag a { color:var(--accent); text-decoration:none; }
.via { color:var(--muted); font-size:11.5px; }
.controls { display:flex; gap:8px; align-items:center; margin:8px 0 10px; flex-wrap:wrap; }
.controls input { padding:5px 8px; border:1px solid var(--line); border-radius:6px;
  min-width:260px; }
.controls button { padding:4px 10px; border:1px solid var(--line); border-radius:6px;
  background:#fff; cursor:pointer; }
.controls button.on { background:#1e272e; color:#fff; border-color:#1e272e; }
section.ring { background:var(--card); border:1px solid var(--line); border-radius:8px;
  padding:14px 16px; margin:0 0 16px; display:flex; gap:18px; flex-wrap:wrap; }
section.ring .facts { flex:1 1 420px; min-width:320px; }
section.ring .drawing img { max-width:760px; width:100%; }
dl.kv { display:grid; grid-template-columns:max-content 1fr; gap:3px 12px; margin:6px 0 10px;
  font-size:13px; }
dl.kv dt { color:var(--muted); } dl.kv dd { margin:0; }
.chips span { display:inline-block; background:#eef2f4; border-radius:4px; padding:0 6px;
  margin:0 4px 3px 0; font-size:12px; }
table.members { font-size:12.5px; }
table.compact { width:auto; min-width:720px; }
table.compact td, table.compact th { padding:5px 14px; }
td a, .ringtag a { color:var(--accent); text-decoration:none; }
details.changes { margin:6px 0; }
details.changes summary { cursor:pointer; padding:4px 0; }
details.changes table { margin:6px 0 10px; }
td .badge.new, td .badge.escalated { font-size:10.5px; padding:0 6px; margin-left:4px; }
footer { color:var(--muted); font-size:12px; padding:0 32px 32px; }
"""

SCRIPT = """
(function () {
  var rows = Array.prototype.slice.call(document.querySelectorAll('#candidates tbody tr'));
  var box = document.getElementById('filter');
  var action = 'all';
  function apply() {
    var q = box.value.trim().toLowerCase();
    var shown = 0;
    rows.forEach(function (r) {
      var ok = (action === 'all' || r.dataset.action === action) &&
               (!q || r.textContent.toLowerCase().indexOf(q) >= 0);
      r.style.display = ok ? '' : 'none';
      if (ok) { shown += 1; }
    });
    document.getElementById('shown').textContent = shown;
  }
  document.querySelectorAll('.controls button').forEach(function (b) {
    b.addEventListener('click', function () {
      document.querySelectorAll('.controls button').forEach(function (o) {
        o.classList.remove('on');
      });
      b.classList.add('on');
      action = b.dataset.action;
      apply();
    });
  });
  box.addEventListener('input', apply);
  apply();
  function openRing() {
    var id = decodeURIComponent(location.hash.slice(1));
    var ring = id ? document.getElementById(id) : null;
    if (ring && ring.tagName === 'DETAILS') { ring.open = true; ring.scrollIntoView(); }
  }
  window.addEventListener('hashchange', openRing);
  openRing();
  document.body.setAttribute('data-ready', 'yes');
})();
"""

PAGE = Template(
    """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>$title</title>
<style>$css</style>
</head>
<body>
<header>
<h1>$title</h1>
<div class="meta">$meta</div>
<nav><a href="#summary">Summary</a><a href="#rings">Rings</a><a href="#list">Candidates</a>
<a href="#changes">Changes</a><a href="#scores">Scores</a></nav>
</header>
<main>
<h2 id="summary">Summary</h2>
$summary
<h2 id="rings">Rings</h2>
$rings
<h2 id="list">Ranked candidates</h2>
$table
<h2 id="changes">Changes since the previous list</h2>
$changes
<h2 id="scores">Scores</h2>
$pictures
</main>
<footer>$footer</footer>
<script>$script</script>
</body>
</html>
"""
)
