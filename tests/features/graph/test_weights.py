"""Received and given edge weights against a plain polars group-by."""

from __future__ import annotations

import numpy as np
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from features.graph.weights import weight_stats


def polars_stats(n: int, src: list[int], dst: list[int], weight: list[float]) -> dict:
    """The same statistics as one group-by per side, aligned on 0..n-1."""
    edges = pl.DataFrame(
        {"src": src, "dst": dst, "w": weight},
        schema=[("src", pl.Int64), ("dst", pl.Int64), ("w", pl.Float64)],
    )
    nodes = pl.DataFrame({"node": np.arange(n, dtype=np.int64)})
    out = {}
    for side, key in (("in", "dst"), ("out", "src")):
        per = edges.group_by(key).agg(
            mean=pl.col("w").mean(), neg=(pl.col("w") < 0).mean(), low=pl.col("w").min()
        )
        aligned = nodes.join(per, left_on="node", right_on=key, how="left").sort("node")
        out[f"{side}_weight_mean"] = aligned["mean"].to_numpy().astype(np.float64)
        out[f"{side}_negative_share"] = aligned["neg"].cast(pl.Float64).to_numpy()
        if side == "in":
            out["in_weight_min"] = aligned["low"].to_numpy().astype(np.float64)
    return out


@settings(max_examples=80, deadline=None)
@given(st.integers(1, 12), st.data())
def test_weight_stats_match_a_polars_group_by(n, data):
    """Duplicate edges and self-loops count each time; nodes without edges get NaN."""
    m = data.draw(st.integers(0, 40))
    node = st.integers(0, n - 1)
    src = data.draw(st.lists(node, min_size=m, max_size=m))
    dst = data.draw(st.lists(node, min_size=m, max_size=m))
    weight = data.draw(st.lists(st.floats(-5, 5, allow_nan=False), min_size=m, max_size=m))
    ours = weight_stats(
        n, np.array(src, dtype=np.int64), np.array(dst, dtype=np.int64), np.array(weight)
    )
    expected = polars_stats(n, src, dst, weight)
    assert ours.keys() == expected.keys()
    for name, values in expected.items():
        np.testing.assert_allclose(ours[name], values, rtol=1e-12, atol=1e-12, err_msg=name)
