"""Per-account graph features: structure of each graph, trust, graph-tree aggregates, rings.

Column names start with `g_`; every one has a spec in `features.graph.specs`. Numbers only
(Int64 counts, Float64 the rest), one row per account, sorted by account_id.
"""

from __future__ import annotations

import math

import numpy as np
import polars as pl

from features.config import GraphConfig
from features.graph import csr
from features.graph.build import IDENTIFIERS, Graphs
from features.graph.csr import CSR
from features.graph.ops import LOCAL, GraphOps
from features.graph.rings import Rings, find_rings
from features.graph.specs import ACCOUNT_NUMBERS, DEFAULT_NEIGHBOUR_COLUMNS
from features.io.contract import Dataset


def structure(graph: CSR, name: str) -> dict[str, np.ndarray]:
    """Degree (distinct neighbours) and strength (summed weights) of an undirected graph."""
    return {f"g_{name}_degree": graph.degree(), f"g_{name}_strength": graph.strength()}


def sizes_of(labels: np.ndarray) -> np.ndarray:
    """Size of the connected component of each node, from its component labels."""
    return np.bincount(labels, minlength=labels.size)[labels] if labels.size else labels


def component_sizes(graph: CSR, ops: GraphOps = LOCAL) -> np.ndarray:
    """Size of the connected component each node belongs to (1 for an isolated node)."""
    return sizes_of(ops.components(graph))


def cohesion(
    graph: CSR, name: str, ops: GraphOps = LOCAL, labels: np.ndarray | None = None
) -> dict[str, np.ndarray]:
    """Triangles, local clustering and k-core number of an undirected graph (`labels`: its
    components, when known)."""
    tri, clustering, core = ops.cohesion(graph, labels)
    return {f"g_{name}_triangles": tri, f"g_{name}_clustering": clustering, f"g_{name}_core": core}


def pagerank(graph: CSR, inverse: CSR, config: GraphConfig, ops: GraphOps = LOCAL) -> np.ndarray:
    """PageRank over the directed relation graph (`inverse`: its transpose), times n
    (1 = the uniform share)."""
    if graph.n == 0:
        return np.zeros(0)
    ranks = ops.pagerank(
        inverse,
        graph.strength(),
        float(config.pagerank_alpha),
        float(config.pagerank_tol),
        int(config.pagerank_max_iter),
    )
    return ranks * graph.n


def trust_steps(n: int, config: GraphConfig) -> int:
    """SybilRank's early-termination point: ceil(log2 n) steps unless configured."""
    return config.trust_steps if config.trust_steps > 0 else max(1, math.ceil(math.log2(max(n, 2))))


def trust(ds: Dataset, graphs: Graphs, config: GraphConfig, ops: GraphOps = LOCAL) -> np.ndarray:
    """SybilRank trust over the undirected relation graph, seeded on verified accounts.

    Fallback: with no verified account there is no trusted seed, and the column is NaN
    (missing) for everyone rather than an invented number."""
    verified = ds.accounts.sort("account_id")["verified"].fill_null(False).to_numpy()
    seeds = np.asarray(verified, dtype=np.bool_)
    if not seeds.any():
        return np.full(graphs.n, np.nan)
    return ops.sybilrank(graphs.social, seeds, trust_steps(graphs.n, config))


def neighbour_columns(behaviour: pl.DataFrame, config: GraphConfig) -> list[str]:
    """The behaviour columns aggregated over neighbours (configured, else the defaults)."""
    wanted = config.neighbour_columns or DEFAULT_NEIGHBOUR_COLUMNS
    return [c for c in wanted if c in behaviour.columns]


def attribute_columns(ds: Dataset, config: GraphConfig, taken: list[str]) -> list[str]:
    """The accounts table's numbers aggregated over relation neighbours: followers, verified
    and every attribute column (none when switched off; names in `taken` are skipped)."""
    if not config.neighbour_attributes:
        return []
    return [c for c in (*ACCOUNT_NUMBERS, *ds.attributes) if c not in taken]


def behaviour_matrix(
    behaviour: pl.DataFrame, account_ids: pl.Series, columns: list[str]
) -> np.ndarray:
    """The chosen columns of a per-account frame as an (n, k) float64 matrix in node order
    (NaN where absent)."""
    order = pl.DataFrame({"account_id": account_ids}).with_row_index("node")
    aligned = order.join(behaviour.select("account_id", *columns), on="account_id", how="left")
    aligned = aligned.sort("node")
    return (
        np.column_stack(
            [aligned[c].cast(pl.Float64).fill_nan(None).to_numpy() for c in columns]
        ).astype(np.float64)
        if columns
        else np.zeros((account_ids.len(), 0))
    )


def graph_tree(
    graph: CSR, name: str, values: np.ndarray, columns: list[str], ops: GraphOps = LOCAL
) -> dict:
    """GADBench graph-tree aggregates: mean and max over 1-hop neighbours, then the same
    aggregates of those over neighbours again (2 hops), per behaviour column."""
    mean1, max1 = ops.aggregate(graph, values, values)
    mean2, max2 = ops.aggregate(graph, mean1, max1)
    out = {}
    for j, column in enumerate(columns):
        out[f"g_{name}_n1_mean_{column}"] = mean1[:, j]
        out[f"g_{name}_n1_max_{column}"] = max1[:, j]
        out[f"g_{name}_n2_mean_{column}"] = mean2[:, j]
        out[f"g_{name}_n2_max_{column}"] = max2[:, j]
    return out


def edge_weight_features(graphs: Graphs) -> dict:
    """Received and given edge weights, over all explicit relations ("rel") and per
    configured relation (see `features.graph.weights`)."""
    return {
        f"g_{prefix}_{name}": values
        for prefix, stats in graphs.weights.items()
        for name, values in stats.items()
    }


def relation_features(
    ds: Dataset, graphs: Graphs, config: GraphConfig, ops: GraphOps = LOCAL
) -> dict:
    """Explicit relations: in/out degree, per-relation degree, PageRank, cohesion, trust,
    received and given edge weights."""
    directed, social = graphs.directed, graphs.social
    inverse = csr.transpose(directed)
    out = {
        "g_rel_out_degree": directed.degree(),
        "g_rel_in_degree": inverse.degree(),
        **structure(social, "rel"),
    }
    for name in config.relations:
        out[f"g_{name}_degree"] = graphs.relations[name].degree()
    out["g_rel_pagerank"] = pagerank(directed, inverse, config, ops)
    out.update(cohesion(social, "rel"))  # the relation graph's components can be giant
    out["g_trust"] = trust(ds, graphs, config, ops)
    out.update(edge_weight_features(graphs))
    return out


def link_features(graphs: Graphs, candidate: CSR, ops: GraphOps = LOCAL) -> dict:
    """Shared identifiers, identity relations and lockstep: sizes, hubs, cohesion."""
    out: dict[str, np.ndarray] = {}
    for kind in IDENTIFIERS:
        graph = graphs.shared[kind]
        out.update(structure(graph, kind))
        out[f"g_{kind}_component_size"] = component_sizes(graph, ops)
        out[f"g_{kind}_hub_uses"] = graphs.hubs[kind]
    out.update(structure(graphs.binding_relations, "binding"))
    out.update(structure(graphs.lockstep, "lockstep"))
    out.update(structure(candidate, "link"))
    labels = ops.components(candidate)
    out["g_link_component_size"] = sizes_of(labels)
    out.update(cohesion(candidate, "link", ops, labels))
    return out


def ring_features(graphs: Graphs, rings: Rings) -> dict:
    """The FRAUDAR density and size of the account's candidate ring (0 when in none). Label
    free: every candidate counts, whatever the verdict (which may have seen labels)."""
    if rings.candidates is not None and rings.candidates.height:
        membership = rings.candidates.select(
            pl.col("members").alias("account_id"),
            pl.col("density").alias("ring_score"),
            pl.col("size").cast(pl.Int64).alias("ring_size"),
        ).explode("account_id")
    else:
        membership = rings.membership.select("account_id", "ring_score", "ring_size")
    frame = pl.DataFrame({"account_id": graphs.account_ids}).with_row_index("node")
    frame = frame.join(membership, on="account_id", how="left").sort("node")
    return {
        "g_ring_score": frame["ring_score"].fill_null(0.0).to_numpy(),
        "g_ring_size": frame["ring_size"].fill_null(0).to_numpy(),
    }


def as_frame(account_ids: pl.Series, columns: dict[str, np.ndarray]) -> pl.DataFrame:
    """account_id plus the columns: integers as Int64, the rest Float64 with NaN as null."""
    series = [account_ids.alias("account_id")]
    for name, values in columns.items():
        values = np.asarray(values)
        if np.issubdtype(values.dtype, np.integer):
            series.append(pl.Series(name, values.astype(np.int64)))
        else:
            series.append(pl.Series(name, values.astype(np.float64)).fill_nan(None))
    return pl.DataFrame(series)


def build_graph_features(
    ds: Dataset,
    graphs: Graphs,
    behaviour: pl.DataFrame,
    config: GraphConfig,
    rings: Rings | None = None,
    ops: GraphOps = LOCAL,
) -> pl.DataFrame:
    """One row per account (sorted by account_id) of numeric graph features; `rings` are
    found here unless the caller passes the ones it already has; kernels run by `ops`."""
    rings = rings if rings is not None else find_rings(ds, graphs, config)
    candidate = graphs.links()
    columns = relation_features(ds, graphs, config, ops)
    columns.update(link_features(graphs, candidate, ops))
    chosen = neighbour_columns(behaviour, config)
    values = behaviour_matrix(behaviour, graphs.account_ids, chosen)
    attributes = attribute_columns(ds, config, chosen)
    numbers = behaviour_matrix(ds.accounts, graphs.account_ids, attributes)
    # attributes go over relations only: one pass over the relation graph takes both
    both = np.hstack([values, numbers])  # C order, as the kernels read rows
    columns.update(graph_tree(graphs.social, "rel", both, chosen + attributes, ops))
    columns.update(graph_tree(candidate, "link", values, chosen, ops))
    columns.update(ring_features(graphs, rings))
    return as_frame(graphs.account_ids, columns)
