"""Feature specs of the graph stage: one per column of build_graph_features and of
bad_neighbour_share (the label-derived ones, stage "label-derived")."""

from __future__ import annotations

import re

from features.config import GraphConfig
from features.spec import FeatureSpec

STAGE = "graph"

#: Behaviour columns whose neighbour mean/max are taken when GraphConfig.neighbour_columns is
#: empty (those absent from the behaviour frame are skipped).
DEFAULT_NEIGHBOUR_COLUMNS = (
    "account_age_days",
    "events_total",
    "follows_given",
    "night_share",
    "iet_cv",
    "clickbait_share",
    "reports_per_post",
    "chargeback_rate",
)

#: Contract columns of the accounts table aggregated over relation neighbours, like every
#: attribute column, when GraphConfig.neighbour_attributes is on.
ACCOUNT_NUMBERS = ("followers", "verified")

#: Graphs named in column names, with what they hold.
GRAPH_TEXT = {
    "rel": "explicit relations (edges table, all relations, undirected)",
    "device": "accounts sharing a device (hubs cut, weight 1/(k-1) per device of k users)",
    "ip": "accounts sharing an IP address (hubs cut, weight 1/(k-1))",
    "instrument": "accounts sharing a payment instrument (hubs cut, weight 1/(k-1))",
    "binding": "identity relations (edges of GraphConfig.binding_relations)",
    "lockstep": "accounts acting on the same targets in the same time windows, repeatedly",
    "link": "identity links: shared devices, IPs, instruments, identity relations, lockstep",
}
AGGREGATE_TEXT = {"rel": "relation-graph", "link": "identity-link"}


def structure_specs(name: str) -> list[tuple[str, str, str]]:
    """Degree and strength of one graph."""
    what = GRAPH_TEXT[name]
    return [
        (f"g_{name}_degree", f"neighbours in the graph of {what}", "accounts"),
        (f"g_{name}_strength", f"summed edge weight in the graph of {what}", "weight"),
    ]


def cohesion_specs(name: str) -> list[tuple[str, str, str]]:
    """Triangles, clustering and core number of one graph."""
    what = GRAPH_TEXT[name]
    return [
        (f"g_{name}_triangles", f"triangles through the account in the graph of {what}", "count"),
        (
            f"g_{name}_clustering",
            f"local clustering coefficient (share of linked neighbour pairs), graph of {what}",
            "share",
        ),
        (f"g_{name}_core", f"k-core number in the graph of {what}", "k"),
    ]


def aggregate_rows(graph: str, column: str) -> list[tuple[str, str, str]]:
    """The four graph-tree aggregates of one column over one aggregate graph."""
    where = AGGREGATE_TEXT[graph]
    return [
        (f"g_{graph}_n1_mean_{column}", f"mean '{column}' of {where} neighbours", ""),
        (f"g_{graph}_n1_max_{column}", f"largest '{column}' among {where} neighbours", ""),
        (
            f"g_{graph}_n2_mean_{column}",
            f"mean over {where} neighbours of their neighbours' mean '{column}' (2 hops)",
            "",
        ),
        (
            f"g_{graph}_n2_max_{column}",
            f"largest '{column}' among {where} neighbours within 2 hops",
            "",
        ),
    ]


def graph_tree_specs(columns: tuple[str, ...]) -> list[tuple[str, str, str]]:
    """GADBench graph-tree aggregates of behaviour columns over both aggregate graphs."""
    return [
        row
        for graph in AGGREGATE_TEXT
        for column in columns
        for row in aggregate_rows(graph, column)
    ]


def weight_specs(prefix: str, what: str) -> list[tuple[str, str, str]]:
    """Received and given edge weights of one relation (or of all: `rel`)."""
    return [
        (f"g_{prefix}_in_weight_mean", f"mean weight of the {what} edges it received", "weight"),
        (f"g_{prefix}_in_weight_min", f"lowest weight of the {what} edges it received", "weight"),
        (
            f"g_{prefix}_in_negative_share",
            f"share of the {what} edges it received with a negative weight (distrust)",
            "share",
        ),
        (f"g_{prefix}_out_weight_mean", f"mean weight of the {what} edges it gave", "weight"),
        (
            f"g_{prefix}_out_negative_share",
            f"share of the {what} edges it gave with a negative weight",
            "share",
        ),
    ]


def label_specs() -> tuple[FeatureSpec, ...]:
    """The label-derived columns of bad_neighbour_share (computed out of fold in training)."""
    specs: list[FeatureSpec] = []
    for graph, where in AGGREGATE_TEXT.items():
        specs += [
            FeatureSpec(
                f"g_{graph}_bad_neighbours",
                f"{where} neighbours labelled bad (computed out of fold)",
                "accounts",
                "label-derived",
            ),
            FeatureSpec(
                f"g_{graph}_bad_share",
                f"share of labelled {where} neighbours that are bad (out of fold; NaN if none)",
                "share",
                "label-derived",
            ),
            FeatureSpec(
                f"g_{graph}_n2_mean_bad_share",
                f"mean over {where} neighbours of their bad share (2 hops; out of fold)",
                "share",
                "label-derived",
            ),
            FeatureSpec(
                f"g_{graph}_n2_max_bad_share",
                f"largest bad share among {where} neighbours (2 hops; out of fold)",
                "share",
                "label-derived",
            ),
        ]
    return tuple(specs)


def specs_for(config: GraphConfig, columns: tuple[str, ...]) -> tuple[FeatureSpec, ...]:
    """Specs of every column build_graph_features writes for this config and these behaviour
    columns (graph-tree aggregates), plus the label-derived columns of bad_neighbour_share."""
    rows = [
        ("g_rel_out_degree", "accounts it points to in the explicit relations", "accounts"),
        ("g_rel_in_degree", "accounts pointing to it in the explicit relations", "accounts"),
        *structure_specs("rel"),
    ]
    rows += [
        (f"g_{r}_degree", f"accounts linked to it by the '{r}' relation", "accounts")
        for r in config.relations
    ]
    rows += [
        (
            "g_rel_pagerank",
            "PageRank in the directed relation graph, times the number of accounts (1 = uniform)",
            "ratio",
        ),
        *cohesion_specs("rel"),
        (
            "g_trust",
            "SybilRank trust from verified accounts over the relation graph, early-terminated "
            "after log2(n) steps, per unit of degree (1 = converged share; NaN without seeds)",
            "ratio",
        ),
        *weight_specs("rel", "explicit-relation"),
    ]
    for r in config.relations:
        rows += weight_specs(r, f"'{r}'")
    for kind in ("device", "ip", "instrument"):
        rows += structure_specs(kind)
        rows += [
            (
                f"g_{kind}_component_size",
                f"accounts in its component of the {kind} graph",
                "accounts",
            ),
            (
                f"g_{kind}_hub_uses",
                f"{kind}s it used that more than hub_max_accounts accounts used (cut as hubs)",
                "count",
            ),
        ]
    rows += structure_specs("binding") + structure_specs("lockstep") + structure_specs("link")
    rows += [("g_link_component_size", "accounts in its identity-link component", "accounts")]
    rows += cohesion_specs("link")
    rows += graph_tree_specs(columns)
    if config.neighbour_attributes:
        for column in ACCOUNT_NUMBERS:
            if column not in columns:
                rows += aggregate_rows("rel", column)
    rows += [
        ("g_ring_score", "FRAUDAR density of its candidate ring (0: in none)", "g"),
        ("g_ring_size", "members of its candidate ring (0: in none)", "accounts"),
    ]
    return tuple(FeatureSpec(name, text, unit, STAGE) for name, text, unit in rows) + label_specs()


AGGREGATE_NAME = re.compile(r"^g_(rel|link)_n([12])_(mean|max)_(.+)$")


def aggregate_spec(name: str) -> FeatureSpec | None:
    """The spec of a graph-tree aggregate of an account attribute, whose name depends on the
    data (`g_rel_n1_mean_<attribute>`): not in specs_for, so described from its name."""
    found = AGGREGATE_NAME.match(name)
    if found is None:
        return None
    graph, hop, kind, column = found.groups()
    rows = {row[0]: row for row in aggregate_rows(graph, column)}
    _, text, unit = rows[f"g_{graph}_n{hop}_{kind}_{column}"]
    return FeatureSpec(name, text, unit, STAGE)
