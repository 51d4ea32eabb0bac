"""Ring recovery against a simulated world's truth: best-match F1 per true ring and the share
of reported ring members that are bad, plus which benign kinds leaked into reported rings.

    ringwatch rings DATA --out RINGS.parquet --truth DATA/truth.parquet
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl

TRUTH_COLUMNS = ("account_id", "is_bad", "kind", "ring_id")


def true_rings(truth: pl.DataFrame) -> pl.DataFrame:
    """account_id, ring_id of bad accounts that belong to a true ring."""
    return truth.filter(pl.col("is_bad") & pl.col("ring_id").is_not_null()).select(
        "account_id", pl.col("ring_id").alias("true_ring")
    )


def best_match_f1(truth: pl.DataFrame, membership: pl.DataFrame) -> pl.DataFrame:
    """Per true ring: size, kind and the best F1 against any reported ring (0 if none overlaps)."""
    rings = true_rings(truth)
    sizes = rings.group_by("true_ring").agg(true_size=pl.len())
    reported = membership.group_by("ring_id").agg(found_size=pl.len())
    overlap = (
        rings.join(membership.select("account_id", "ring_id"), on="account_id", how="inner")
        .group_by("true_ring", "ring_id")
        .agg(overlap=pl.len())
        .join(sizes, on="true_ring")
        .join(reported, on="ring_id")
        .with_columns(
            f1=2 * pl.col("overlap") / (pl.col("true_size") + pl.col("found_size")),
        )
        .group_by("true_ring")
        .agg(pl.col("f1").max())
    )
    kinds = (
        truth.filter(pl.col("ring_id").is_not_null())
        .group_by("ring_id")
        .agg(pl.col("kind").first())
    )
    return (
        sizes.join(overlap, on="true_ring", how="left")
        .join(kinds.rename({"ring_id": "true_ring"}), on="true_ring", how="left")
        .with_columns(pl.col("f1").fill_null(0.0))
        .sort("true_ring")
    )


def evaluate_rings(membership: pl.DataFrame, truth: pl.DataFrame) -> dict[str, Any]:
    """Headline ring-recovery figures of a reported membership table against the truth."""
    per_ring = best_match_f1(truth, membership)
    members = membership.join(truth, on="account_id", how="left")
    benign = members.filter(~pl.col("is_bad").fill_null(False))
    return {
        "true_rings": per_ring.height,
        "reported_rings": membership["ring_id"].n_unique(),
        "ring_f1": float(per_ring["f1"].mean()) if per_ring.height else float("nan"),
        "bad_share": float(members["is_bad"].fill_null(False).mean())
        if members.height
        else float("nan"),
        "members": members.height,
        "benign_members": dict(benign.group_by("kind").len().sort("kind").iter_rows()),
        "f1_by_kind": dict(
            per_ring.group_by("kind").agg(pl.col("f1").mean()).sort("kind").iter_rows()
        ),
    }


def format_report(result: dict[str, Any]) -> str:
    """The figures as a few plain lines."""
    lines = [
        f"true rings {result['true_rings']}, reported rings {result['reported_rings']}, "
        f"members in reported rings {result['members']}",
        f"ring F1 (best match per true ring, mean) {result['ring_f1']:.3f}",
        f"share of reported ring members that are bad {result['bad_share']:.3f}",
        "F1 by kind: " + ", ".join(f"{k} {v:.2f}" for k, v in result["f1_by_kind"].items()),
        "benign accounts in reported rings: "
        + (", ".join(f"{k} {v}" for k, v in result["benign_members"].items()) or "none"),
    ]
    return "\n".join(lines)


def read_truth(path: Path) -> pl.DataFrame:
    """A truth table, or a UserError naming the file and what is wrong with it."""
    from common.errors import ContractError

    path = Path(path)
    if not path.is_file():
        raise ContractError(str(path), "no such truth file")
    try:
        truth = pl.read_parquet(path)
    except Exception as error:  # pyarrow/polars raise many kinds on unreadable files
        raise ContractError(str(path), f"cannot be read: {str(error).splitlines()[0]}") from None
    missing = [c for c in TRUTH_COLUMNS if c not in truth.columns]
    if missing:
        raise ContractError(str(path), "required column is missing", missing[0])
    return truth
