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


def data_uri(figure: Figure, dpi: int = 110) -> str:
    """The figure as a base64 PNG data URI (no file, no network)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, facecolor="white")
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


def ring_graph(members: list[str], links: pl.DataFrame, max_lockstep: int = 6) -> nx.Graph:
    """Accounts, the identifiers at least two of them share, the `max_lockstep` lockstep
    targets most of them acted on together, and explicit relations between members."""
    graph = nx.Graph()
    inside = pl.Series(members, dtype=pl.String).implode()
    graph.add_nodes_from(members, kind="account")
    shared = links.filter(~pl.col("other").is_in(inside)).with_columns(
        users=pl.col("account_id").n_unique().over("kind", "other")
    )
    shared = shared.filter(pl.col("users") >= 2)
    lockstep = shared.filter(pl.col("kind") == "lockstep").select("other", "users").unique()
    busiest = lockstep.sort(["users", "other"], descending=[True, False]).head(max_lockstep)
    shared = shared.filter(
        (pl.col("kind") != "lockstep") | pl.col("other").is_in(busiest["other"].implode())
    )
    for account, kind, other, _ in shared.iter_rows():
        node = f"{kind}:{other}"
        graph.add_node(node, kind=kind)
        graph.add_edge(account, node, relation="uses", kind=kind)
    for account, kind, other in links.filter(pl.col("other").is_in(inside)).iter_rows():
        if account != other:
            graph.add_edge(account, other, relation=kind, kind="relation")
    return graph


def layout(graph: nx.Graph) -> dict:
    """Node positions: Kamada-Kawai for small connected graphs (even spacing), else spring."""
    if 2 < graph.number_of_nodes() <= 200 and nx.is_connected(graph):
        return nx.kamada_kawai_layout(graph)
    return nx.spring_layout(graph, seed=7, k=1.6 / max(1, graph.number_of_nodes()) ** 0.5)


def ring_drawing(
    members: list[str], actions: dict[str, str], links: pl.DataFrame, max_nodes: int
) -> str:
    """A ring's subgraph: accounts coloured by suggested action (grey: not on the list),
    small squares for shared devices, IPs, instruments and lockstep targets."""
    shown = members[:max_nodes]
    graph = ring_graph(shown, links.filter(pl.col("account_id").is_in(shown)))
    pos = layout(graph)
    figure = Figure(figsize=(6.0, 4.2), layout="constrained")
    ax = figure.subplots()
    ax.set_axis_off()
    uses = [e for e in graph.edges if graph.edges[e]["relation"] == "uses"]
    relations = [e for e in graph.edges if graph.edges[e]["relation"] != "uses"]
    if relations:
        ax.add_collection(
            LineCollection(
                [(pos[a], pos[b]) for a, b in relations],
                colors="#b2bec3",
                linewidths=0.5,
                linestyles="--",
                alpha=0.35,
                zorder=1,
            )
        )
    if uses:
        colours = [KIND_COLOURS.get(graph.edges[e]["kind"], "#7f8c8d") for e in uses]
        ax.add_collection(
            LineCollection(
                [(pos[a], pos[b]) for a, b in uses],
                colors=colours,
                linewidths=0.8,
                alpha=0.5,
                zorder=1,
            )
        )
    accounts = [n for n in graph.nodes if graph.nodes[n]["kind"] == "account"]
    keys = [n for n in graph.nodes if graph.nodes[n]["kind"] != "account"]
    if keys:
        xy = np.array([pos[n] for n in keys])
        colours = [KIND_COLOURS.get(graph.nodes[n]["kind"], "#7f8c8d") for n in keys]
        ax.scatter(xy[:, 0], xy[:, 1], s=34, marker="s", c=colours, zorder=2)
    xy = np.array([pos[n] for n in accounts])
    colours = [ACTION_COLOURS.get(actions.get(n)) for n in accounts]
    ax.scatter(xy[:, 0], xy[:, 1], s=120, c=colours, edgecolors="white", linewidths=1.2, zorder=3)
    if len(accounts) <= 24:
        for n in accounts:
            ax.annotate(
                n,
                pos[n],
                xytext=(0, 8),
                textcoords="offset points",
                ha="center",
                fontsize=6.5,
                color=INK,
                zorder=4,
            )
    used = {graph.nodes[n]["kind"] for n in keys}
    legend = [
        Line2D([], [], marker="o", linestyle="", color=ACTION_COLOURS[a], label=a)
        for a in ("close", "review", "watch")
    ]
    legend.append(
        Line2D([], [], marker="o", linestyle="", color=ACTION_COLOURS[None], label="not listed")
    )
    legend += [
        Line2D(
            [],
            [],
            marker="s",
            linestyle="",
            color=KIND_COLOURS.get(k, "#7f8c8d"),
            label="lockstep target" if k == "lockstep" else f"shared {k}",
        )
        for k in sorted(used)
    ]
    ax.legend(
        handles=legend, fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False
    )
    ax.margins(0.08)
    return data_uri(figure)
