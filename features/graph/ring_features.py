"""Ring-level features of candidate rings (LinkedIn's cluster classifier, AISec 2015: classify
the group from how its members look together, not each account alone).

Structural features come from the graphs alone (label-free); member features come from the
labels and account scores the caller hands over (`member_features`), so the verdict decides
which labels a ring may see.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import polars as pl

from features.graph.build import Graphs
from features.graph.evidence import KINDS, Profiles

DAY_US = 86_400 * 1_000_000

#: Ring link kinds whose within-ring strength per member is a feature.
DENSITY_KINDS = ("device", "ip", "instrument", "novelty", "relation", "lockstep", "mutual")
#: Member-derived features (labels and account scores), filled by `member_features`.
MEMBER_COLUMNS = (
    "labelled_bad_share",
    "labelled_good_share",
    "member_score_mean",
    "member_score_max",
    "member_score_min",
    "member_score_std",
)


def candidate_of(found: list[dict], n: int) -> np.ndarray:
    """Per node: the index of the candidate holding it (-1 for none)."""
    out = np.full(n, -1, dtype=np.int64)
    for i, ring in enumerate(found):
        out[ring["accounts"]] = i
    return out


def kind_strength(graphs: Graphs, owner: np.ndarray, count: int) -> dict[str, np.ndarray]:
    """Per candidate and link kind: summed weight of that kind's pairs inside the candidate."""
    out = {}
    for kind, graph in zip(DENSITY_KINDS, graphs.ring_links(DENSITY_KINDS), strict=True):
        src, dst, w = graph.edges()
        inside = (owner[src] >= 0) & (owner[src] == owner[dst]) & (src < dst)
        out[kind] = np.bincount(owner[src[inside]], w[inside], minlength=count)
    return out


def age_days(times_us: np.ndarray, as_of_us: int) -> np.ndarray:
    """Days from each time to the snapshot (NaN for unknown times)."""
    known = times_us > np.iinfo(np.int64).min // 4
    return np.where(known, (as_of_us - times_us) / DAY_US, np.nan)


def _quantiles(values: np.ndarray) -> tuple[float, float]:
    """Median and interquartile range of the known values (NaN when none)."""
    values = values[np.isfinite(values)]
    if values.size == 0:
        return float("nan"), float("nan")
    q1, q2, q3 = np.quantile(values, [0.25, 0.5, 0.75])
    return float(q2), float(q3 - q1)


def structural_features(
    graphs: Graphs,
    found: list[dict],
    profiles: Profiles,
    audience: np.ndarray,
    as_of: datetime,
) -> pl.DataFrame:
    """One row per candidate (`candidate` = its index in `found`, which carries each ring's
    evidence from `features.graph.evidence.ring_evidence`): size, density, coverage and
    strength of every binding kind per member and per pair (do the members really meet
    pairwise, or do they all touch one hub?), lockstep repeats, creation spread, verified
    share, outside audience and the age of the binding keys."""
    owner = candidate_of(found, graphs.n)
    strength = kind_strength(graphs, owner, len(found))
    as_of_us = int(as_of.timestamp() * 1_000_000)
    rows = []
    for i, ring in enumerate(found):
        accounts = ring["accounts"]
        size = float(accounts.size)
        coverage = ring["coverage"]
        age_median, age_iqr = _quantiles(age_days(profiles.created_us[accounts], as_of_us))
        first = ring["first_seen"]
        key_age = (as_of_us - int(first.timestamp() * 1_000_000)) / DAY_US if first else np.nan
        row = {
            "candidate": i,
            "size": size,
            "log_size": float(np.log(size)),
            "core_share": ring["core_size"] / size,
            "density": ring["density"],
            "binding_kinds": float(sum(coverage[k] >= 0.5 for k in KINDS)),
            "lockstep_windows_per_member": ring["lockstep_windows"] / size,
            "creation_span_log_hours": float(np.log1p(ring["creation_span_h"]))
            if np.isfinite(ring["creation_span_h"])
            else np.nan,
            "created_age_log_days": float(np.log1p(max(age_median, 0.0)))
            if np.isfinite(age_median)
            else np.nan,
            "created_age_iqr_log_days": float(np.log1p(max(age_iqr, 0.0)))
            if np.isfinite(age_iqr)
            else np.nan,
            "key_age_log_days": float(np.log1p(max(key_age, 0.0))),
            "verified_share": ring["verified_share"],
            "established_share": ring["established_share"],
            "audience_log_mean": float(np.log1p(audience[accounts].mean())),
        }
        row.update({f"cover_{k}": float(coverage[k]) for k in KINDS})
        row.update({f"strength_{k}": float(strength[k][i] / size) for k in DENSITY_KINDS})
        pairs = max(size * (size - 1) / 2, 1.0)
        row.update({f"pairs_{k}": float(strength[k][i] / pairs) for k in DENSITY_KINDS})
        rows.append(row)
    return pl.DataFrame(rows, orient="row") if rows else pl.DataFrame({"candidate": []})


def member_frame(found: list[dict], account_ids: pl.Series) -> pl.DataFrame:
    """(candidate, account_id, position) of every member; position = rank of the account id
    within its candidate (members are kept sorted by node, which is account id order)."""
    sizes = [ring["accounts"].size for ring in found]
    nodes = np.concatenate([ring["accounts"] for ring in found]) if found else np.zeros(0)
    candidate = np.repeat(np.arange(len(found), dtype=np.int64), sizes)
    position = np.concatenate([np.arange(s, dtype=np.int64) for s in sizes]) if sizes else []
    return pl.DataFrame(
        {
            "candidate": candidate,
            "account_id": account_ids.gather(nodes.astype(np.int64)),
            "position": pl.Series(position, dtype=pl.Int64),
        }
    )


def member_features(
    members: pl.DataFrame, labels: pl.DataFrame | None, scores: pl.DataFrame | None
) -> pl.DataFrame:
    """Per candidate: shares of members labelled bad and good (from `labels`: account_id,
    label) and the distribution of account scores (`scores`: account_id, score; NaN when
    not given)."""
    frame = members.select("candidate", "account_id")
    if labels is not None and labels.height:
        frame = frame.join(labels.select("account_id", "label"), on="account_id", how="left")
    else:
        frame = frame.with_columns(label=pl.lit(None, dtype=pl.Int8))
    if scores is not None and scores.height:
        frame = frame.join(scores.select("account_id", "score"), on="account_id", how="left")
    else:
        frame = frame.with_columns(score=pl.lit(None, dtype=pl.Float64))
    score = pl.col("score").cast(pl.Float64)
    return (
        frame.group_by("candidate")
        .agg(
            labelled_bad_share=(pl.col("label") == 1).fill_null(False).mean(),
            labelled_good_share=(pl.col("label") == 0).fill_null(False).mean(),
            member_score_mean=score.mean(),
            member_score_max=score.max(),
            member_score_min=score.min(),
            member_score_std=score.std(ddof=0),
        )
        .sort("candidate")
        .with_columns(pl.col(c).cast(pl.Float64) for c in MEMBER_COLUMNS)
    )


__all__ = [
    "DENSITY_KINDS",
    "MEMBER_COLUMNS",
    "member_features",
    "member_frame",
    "structural_features",
]
