"""Explicit relations in node space, and the weights each account received and gave over them.

The weight statistics read the raw edges (a repeated rating counts each time), which the CSR
graphs cannot give back: they merge duplicate edges by summing their weights.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from features.graph.index import with_node


@dataclass(frozen=True)
class RelationEdges:
    """The rows of `edges` whose ends are known accounts, as node arrays."""

    src: np.ndarray  # int64 node
    dst: np.ndarray  # int64 node
    weight: np.ndarray  # float64; a missing weight is 1 (the contract default)
    code: np.ndarray  # int64: position of the row's relation in `names`
    names: tuple[str, ...]  # relation names, sorted

    def of(self, name: str) -> np.ndarray:
        """Boolean mask of the rows of one relation (all false for an absent one)."""
        if name not in self.names:
            return np.zeros(self.code.shape[0], dtype=np.bool_)
        return self.code == self.names.index(name)


def relation_edges(edges: pl.DataFrame, hashed: pl.DataFrame) -> RelationEdges:
    """`edges` mapped to nodes (rows naming an unknown account are dropped)."""
    frame = edges.lazy().select(
        "src", "dst", "relation", pl.col("weight").fill_null(1.0).cast(pl.Float64)
    )
    frame = with_node(with_node(frame, "src", hashed, "u"), "dst", hashed, "v").collect()
    names = frame["relation"].unique().sort().to_list()
    code = frame["relation"].cast(pl.Enum(names)).to_physical().to_numpy()
    return RelationEdges(
        src=frame["u"].to_numpy().astype(np.int64, copy=False),
        dst=frame["v"].to_numpy().astype(np.int64, copy=False),
        weight=frame["weight"].to_numpy().astype(np.float64, copy=False),
        code=code.astype(np.int64),
        names=tuple(names),
    )


def weight_stats(n: int, src: np.ndarray, dst: np.ndarray, weight: np.ndarray) -> dict:
    """Per node, over the edges it received (`in`) and gave (`out`): mean weight and share of
    negative weights (signed ratings: trust or distrust), and the lowest received weight.
    NaN for a node without such edges."""
    out: dict[str, np.ndarray] = {}
    negative = (weight < 0).astype(np.float64)
    for side, node in (("in", dst), ("out", src)):
        count = np.bincount(node, minlength=n).astype(np.float64)
        none = count == 0
        count[none] = np.nan
        out[f"{side}_weight_mean"] = np.bincount(node, weight, minlength=n) / count
        out[f"{side}_negative_share"] = np.bincount(node, negative, minlength=n) / count
        if side == "in":
            lowest = np.full(n, np.inf)
            np.minimum.at(lowest, node, weight)
            lowest[none] = np.nan
            out["in_weight_min"] = lowest
    return out


def relation_weights(edges: RelationEdges, n: int, relations: tuple[str, ...]) -> dict:
    """`weight_stats` over all explicit relations together ("rel") and per named relation."""
    out = {"rel": weight_stats(n, edges.src, edges.dst, edges.weight)}
    for name in relations:
        mine = edges.of(name)
        out[name] = weight_stats(n, edges.src[mine], edges.dst[mine], edges.weight[mine])
    return out
