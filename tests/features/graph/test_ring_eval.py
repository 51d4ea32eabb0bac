"""Ring recovery metrics (experiments/ring_eval.py) on hand-made memberships."""

from __future__ import annotations

import polars as pl
import pytest

from experiments.ring_eval import best_match_f1, evaluate_rings, format_report

TRUTH = pl.DataFrame(
    {
        "account_id": ["a", "b", "c", "d", "e", "f", "n1", "n2"],
        "is_bad": [True, True, True, True, True, True, False, False],
        "kind": ["fake_farm"] * 4 + ["card_fraud"] * 2 + ["newsroom"] * 2,
        "ring_id": ["r1", "r1", "r1", "r1", "r2", "r2", "news", "news"],
        "camouflage": [False] * 8,
    }
)


def membership(rows: dict[str, list[str]]) -> pl.DataFrame:
    """ring_id -> members as a membership frame."""
    pairs = [(a, ring) for ring, members in rows.items() for a in members]
    return pl.DataFrame(pairs, schema={"account_id": pl.String, "ring_id": pl.String}, orient="row")


def test_best_match_f1_per_true_ring():
    found = membership({"R1": ["a", "b", "c"], "R2": ["d", "e", "f", "n1"]})
    per_ring = {r["true_ring"]: r["f1"] for r in best_match_f1(TRUTH, found).iter_rows(named=True)}
    # r1 = {a,b,c,d}: best R1, 2*3/(4+3); r2 = {e,f}: R2, 2*2/(2+4); benign groups are no rings
    assert per_ring == pytest.approx({"r1": 6 / 7, "r2": 4 / 6})


def test_evaluate_rings_headline_figures():
    found = membership({"R1": ["a", "b", "c", "d"], "R2": ["n1", "n2"]})
    result = evaluate_rings(found, TRUTH)
    assert result["true_rings"] == 2 and result["reported_rings"] == 2
    assert result["ring_f1"] == pytest.approx(0.5)  # r2 not found
    assert result["bad_share"] == pytest.approx(4 / 6)
    assert result["benign_members"] == {"newsroom": 2}
    assert "ring F1 (best match per true ring, mean) 0.500" in format_report(result)


def test_no_reported_rings():
    result = evaluate_rings(membership({}), TRUTH)
    assert result["ring_f1"] == 0.0 and result["members"] == 0
