"""Pictures for report.html as inline PNG data URIs: score histogram, precision curve, rings.

Drawn with matplotlib's object API (no pyplot global state); ring layouts come from networkx.
"""

from __future__ import annotations

import base64
import io

import networkx as nx
import numpy as np
import polars as pl
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

ACTION_COLOURS = {"close": "#c0392b", "review": "#e67e22", "watch": "#f1c40f", None: "#95a5a6"}
KIND_COLOURS = {
    "device": "#2c7fb8",
    "ip": "#8e44ad",
    "instrument": "#16a085",
    "lockstep": "#34495e",
}
INK = "#2d3436"


def data_uri(figure: Figure, dpi: int = 110, colours: int | None = None) -> str:
    """The figure as a base64 PNG data URI (no file, no network); with `colours`, reduced to
    that many palette colours (drawings of flat colours: a third of the bytes, same look)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, facecolor="white")
    if colours is not None:
        from PIL import Image

        image = Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")
        image = image.quantize(colours, method=Image.Quantize.FASTOCTREE)
        buffer = io.BytesIO()
        image.save(buffer, format="png", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _style(ax) -> None:
    """Quiet axes: no top/right spines, light grid."""
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.grid(alpha=0.25, linewidth=0.6)
    ax.tick_params(labelsize=8, colors=INK)


def score_histogram(scores: np.ndarray, thresholds: dict[str, float], cut: float | None) -> str:
    """Histogram of every account's calibrated score (log counts), thresholds marked."""
    figure = Figure(figsize=(6.4, 2.8), layout="constrained")
    ax = figure.subplots()
    bins = np.linspace(0.0, 1.0, 51)
    counts, _ = np.histogram(np.clip(scores, 0.0, 1.0), bins=bins)
    colours = [ACTION_COLOURS[None]] * len(counts)
    for i, left in enumerate(bins[:-1]):
        for action, threshold in thresholds.items():
            if left >= threshold - 1e-12:
                colours[i] = ACTION_COLOURS[action]
                break
    ax.bar(
        bins[:-1],
        np.maximum(counts, 0.8),
        width=bins[1] - bins[0],
        align="edge",
        color=colours,
        edgecolor="white",
        linewidth=0.4,
    )
    ax.set_yscale("log")
    ax.set_ylim(bottom=0.8)
    for action, threshold in thresholds.items():
        ax.axvline(threshold, color=ACTION_COLOURS[action], linestyle="--", linewidth=1)
    if cut is not None:
        ax.axvline(cut, color=INK, linewidth=1.2)
        ax.annotate(
            "list cut", (cut, 1), xytext=(3, 4), textcoords="offset points", fontsize=8, color=INK
        )
    ax.set_xlabel("calibrated score  P(bad)", fontsize=9, color=INK)
    ax.set_ylabel("accounts (log)", fontsize=9, color=INK)
    _style(ax)
    return data_uri(figure)


def precision_curve(curve: np.ndarray, listed: int) -> str:
    """Expected precision of the top k accounts against k, the list length marked."""
    figure = Figure(figsize=(6.4, 2.8), layout="constrained")
    ax = figure.subplots()
    k = np.arange(1, curve.size + 1)
    ax.plot(k, curve, color="#2c7fb8", linewidth=1.6)
    if 0 < listed <= curve.size:
        ax.axvline(listed, color=INK, linewidth=1.2)
        ax.annotate(
            f"list: {listed:,}",
            (listed, curve[listed - 1]),
            xytext=(4, -12),
            textcoords="offset points",
            fontsize=8,
            color=INK,
        )
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("accounts reviewed (top k)", fontsize=9, color=INK)
    ax.set_ylabel("expected precision", fontsize=9, color=INK)
    _style(ax)
    return data_uri(figure)


KIND_SHORT = {"device": "device", "ip": "IP", "instrument": "card", "lockstep": "target"}
MAX_KEYS = 12  # identifier / target nodes drawn (those most members share)
OTHERS = "__others__"


def short(text: str, keep: int = 14) -> str:
    """An identifier shortened for a label: its head and tail around an ellipsis."""
    text = str(text)
    return text if len(text) <= keep else f"{text[: keep // 2 - 1]}…{text[-(keep // 2) :]}"


def shared_keys(members: list[str], links: pl.DataFrame, max_keys: int = MAX_KEYS) -> pl.DataFrame:
    """kind, other, users: identifiers and lockstep targets at least two members share, the
    `max_keys` most shared first (lockstep targets at most half of them)."""
    inside = pl.Series(members, dtype=pl.String).implode()
    shared = (
        links.filter(~pl.col("other").is_in(inside))
        .group_by("kind", "other")
        .agg(users=pl.col("account_id").n_unique())
        .filter(pl.col("users") >= 2)
        .sort(["users", "kind", "other"], descending=[True, False, False])
    )
    lockstep = shared.filter(pl.col("kind") == "lockstep").head(max(1, max_keys // 2))
    ids = shared.filter(pl.col("kind") != "lockstep")
    return (
        pl.concat([ids, lockstep])
        .sort(["users", "kind", "other"], descending=[True, False, False])
        .head(max_keys)
    )


def ring_graph(members: list[str], links: pl.DataFrame, core: int) -> nx.Graph:
    """The ring's core: its first `core` members (callers order them best first), the
    identifiers and lockstep targets members share (named, with how many use them), explicit
    relations between core members, and one node counting the other members."""
    graph = nx.Graph()
    shown, rest = members[:core], set(members[core:])
    for m in shown:
        graph.add_node(m, kind="account", label=short(m))
    keys = shared_keys(members, links)
    if rest:
        graph.add_node(OTHERS, kind="others", label=f"+{len(rest)} more members")
    wanted = keys.select("kind", "other").unique()
    used = links.join(wanted, on=["kind", "other"], how="inner")
    for kind, other, users in keys.iter_rows():
        node = f"{kind}:{other}"
        graph.add_node(
            node, kind=kind, label=f"{KIND_SHORT.get(kind, kind)} {short(other)} ({users})"
        )
    for account, kind, other in used.iter_rows():
        source = account if account in graph else OTHERS if account in rest else None
        if source is not None:
            graph.add_edge(source, f"{kind}:{other}", relation="uses", kind=kind)
    inside = pl.Series(shown, dtype=pl.String).implode()
    relations = links.filter(pl.col("account_id").is_in(inside) & pl.col("other").is_in(inside))
    for account, kind, other in relations.iter_rows():
        if account != other:
            graph.add_edge(account, other, relation=kind, kind="relation")
    return graph


def layout(graph: nx.Graph) -> dict:
    """Node positions: shared identifiers on an inner circle, accounts on an outer one (each
    account near what it uses), so labels do not overlap; spring layout when nothing is shared."""
    keys = [n for n in graph.nodes if graph.nodes[n]["kind"] not in ("account", "others")]
    outer = [n for n in graph.nodes if n not in set(keys)]
    if not keys or len(outer) < 3:
        return nx.spring_layout(graph, seed=7, k=1.6 / max(1, graph.number_of_nodes()) ** 0.5)
    first = {k: i for i, k in enumerate(keys)}
    outer.sort(key=lambda n: min((first[m] for m in graph.neighbors(n) if m in first), default=0))
    return {**circle(keys, 0.4 if len(keys) > 1 else 0.0), **circle(outer, 1.0)}


def circle(nodes: list, radius: float) -> dict:
    """Nodes evenly spaced on a circle, the first at the top."""
    angles = np.pi / 2 - 2 * np.pi * np.arange(len(nodes)) / max(1, len(nodes))
    return {
        n: np.array([radius * np.cos(a), radius * np.sin(a)])
        for n, a in zip(nodes, angles, strict=True)
    }


def _edges(ax, graph: nx.Graph, pos: dict) -> None:
    """Identifier links coloured by kind, explicit relations dashed."""
    uses = [e for e in graph.edges if graph.edges[e]["relation"] == "uses"]
    relations = [e for e in graph.edges if graph.edges[e]["relation"] != "uses"]
    if relations:
        ax.add_collection(
            LineCollection(
                [(pos[a], pos[b]) for a, b in relations],
                colors="#b2bec3", linewidths=0.5, linestyles="--", alpha=0.3, zorder=1,
            )
        )  # fmt: skip
    if uses:
        colours = [KIND_COLOURS.get(graph.edges[e]["kind"], "#7f8c8d") for e in uses]
        ax.add_collection(
            LineCollection(
                [(pos[a], pos[b]) for a, b in uses], colors=colours, linewidths=0.9, alpha=0.45,
                zorder=1,
            )
        )  # fmt: skip


def _labels(ax, graph: nx.Graph, pos: dict, nodes: list, size: float, push: int) -> None:
    """Each node's label beside it, pushed away from the centre of the drawing."""
    for n in nodes:
        x, y = pos[n]
        norm = max(1e-9, (x * x + y * y) ** 0.5)
        dx, dy = (push * x / norm, push * y / norm) if norm > 1e-6 else (0.0, push)
        ha = "left" if dx > 3 else "right" if dx < -3 else "center"
        ax.annotate(
            graph.nodes[n]["label"], pos[n], xytext=(dx, dy), textcoords="offset points",
            ha=ha, va="center", fontsize=size, color=INK, zorder=4,
        )  # fmt: skip


def _legend(ax, keys_used: set[str], others: bool) -> None:
    """What colours and shapes mean."""
    legend = [
        Line2D([], [], marker="o", linestyle="", color=ACTION_COLOURS[a], label=a)
        for a in ("close", "review", "watch")
    ]
    legend.append(
        Line2D([], [], marker="o", linestyle="", color=ACTION_COLOURS[None], label="not listed")
    )
    if others:
        legend.append(Line2D([], [], marker="h", linestyle="", color="#b2bec3", label="others"))
    legend += [
        Line2D(
            [], [], marker="s", linestyle="", color=KIND_COLOURS.get(k, "#7f8c8d"),
            label="lockstep target" if k == "lockstep" else f"shared {KIND_SHORT.get(k, k)}",
        )
        for k in sorted(keys_used)
    ]  # fmt: skip
    ax.legend(
        handles=legend, fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False
    )


def ring_drawing(
    members: list[str], actions: dict[str, str], links: pl.DataFrame, max_nodes: int
) -> str:
    """A ring drawn readably: its first `max_nodes` members (best first) labelled and coloured
    by suggested action (grey: not on the list), shared devices, IPs, cards and lockstep
    targets as named squares with their member counts, the other members as one counted node."""
    graph = ring_graph(members, links, max_nodes)
    pos = layout(graph)
    figure = Figure(figsize=(8.0, 5.6), layout="constrained")
    ax = figure.subplots()
    ax.set_axis_off()
    _edges(ax, graph, pos)
    accounts = [n for n in graph.nodes if graph.nodes[n]["kind"] == "account"]
    keys = [n for n in graph.nodes if graph.nodes[n]["kind"] not in ("account", "others")]
    if keys:
        xy = np.array([pos[n] for n in keys])
        colours = [KIND_COLOURS.get(graph.nodes[n]["kind"], "#7f8c8d") for n in keys]
        ax.scatter(xy[:, 0], xy[:, 1], s=60, marker="s", c=colours, zorder=2)
        _labels(ax, graph, pos, keys, 7.5, 10)
    if OTHERS in graph:
        ax.scatter(*pos[OTHERS], s=420, marker="h", c="#b2bec3", zorder=3)
        _labels(ax, graph, pos, [OTHERS], 8.5, 14)
    xy = np.array([pos[n] for n in accounts]).reshape(-1, 2)
    colours = [ACTION_COLOURS.get(actions.get(n)) for n in accounts]
    ax.scatter(xy[:, 0], xy[:, 1], s=150, c=colours, edgecolors="white", linewidths=1.2, zorder=3)
    _labels(ax, graph, pos, accounts, 8.0, 10)
    _legend(ax, {graph.nodes[n]["kind"] for n in keys}, OTHERS in graph)
    ax.margins(0.22)
    return data_uri(figure, dpi=100, colours=128)
