"""The candidate list: capacity cut keeping rings whole, precision cut, actions."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from common.errors import UserError
from detection.candidates import NEVER, cut_by_precision, select_candidates
from detection.config import ScoreConfig
from detection.score import rank_scores


def ranked(scores: dict[str, float]) -> pl.DataFrame:
    """rank_scores output for a few accounts."""
    frame = pl.DataFrame({"account_id": list(scores), "score": list(scores.values())})
    return rank_scores(frame)


def membership(rings: dict[str, list[str]]) -> pl.DataFrame:
    """account_id, ring_id, ring_score, ring_size for some rings."""
    rows = [(a, r, 1.0, len(ms)) for r, ms in rings.items() for a in ms]
    return pl.DataFrame(
        rows, schema=["account_id", "ring_id", "ring_score", "ring_size"], orient="row"
    )


SCORES = {"a": 0.99, "b": 0.95, "c": 0.93, "d": 0.92, "e": 0.80, "f": 0.60, "g": 0.2, "h": 0.1}


def test_capacity_cut_keeps_a_ring_crossing_the_cut_whole() -> None:
    rings = membership({"R1": ["c", "f", "h"], "R2": ["e", "g"]})
    selection = select_candidates(ranked(SCORES), rings, ScoreConfig(capacity=3))
    listed = selection.candidates
    # top 3 by score are a, b, c; c's ring R1 (f, h) comes along, R2 (outside the cut) does not
    assert listed["account_id"].to_list() == ["a", "b", "c", "f", "h"]
    assert listed["included_by"].to_list() == ["score", "score", "score", "ring", "ring"]
    assert listed["rank"].to_list() == [1, 2, 3, 4, 5]
    assert listed["base_rank"].to_list() == [1, 2, 3, 6, 8]
    assert (selection.by_score, selection.by_ring) == (3, 2)
    assert set(listed.filter(pl.col("ring_id") == "R1")["account_id"]) == {"c", "f", "h"}


def test_no_ring_is_split_at_any_capacity() -> None:
    rng = np.random.default_rng(3)
    scores = {f"x{i:03d}": float(s) for i, s in enumerate(rng.random(300))}
    ids = list(scores)
    rings = membership({f"R{k}": ids[k * 7 : k * 7 + int(rng.integers(2, 7))] for k in range(30)})
    for capacity in (1, 5, 17, 60, 200):
        listed = select_candidates(ranked(scores), rings, ScoreConfig(capacity=capacity))
        inside = set(listed.candidates["account_id"])
        for _, members in rings.group_by("ring_id"):
            hit = inside & set(members["account_id"])
            assert not hit or hit == set(members["account_id"])
        assert listed.by_score == min(capacity, sum(s >= 0.5 for s in scores.values()))


def test_without_keeping_rings_whole_the_cut_is_exact() -> None:
    rings = membership({"R1": ["c", "f", "h"]})
    config = ScoreConfig(capacity=3, keep_rings_whole=False)
    listed = select_candidates(ranked(SCORES), rings, config).candidates
    assert listed["account_id"].to_list() == ["a", "b", "c"]


def test_accounts_below_watch_enter_only_with_their_ring() -> None:
    listed = select_candidates(ranked(SCORES), None, ScoreConfig(capacity=100)).candidates
    assert listed["account_id"].to_list() == ["a", "b", "c", "d", "e", "f"]  # g, h < 0.5
    assert listed["ring_id"].null_count() == listed.height


def test_actions_follow_thresholds() -> None:
    config = ScoreConfig(capacity=100, close_threshold=0.93, review_threshold=0.8)
    rings = membership({"R1": ["a", "h"]})
    listed = select_candidates(ranked(SCORES), rings, config).candidates
    actions = dict(zip(listed["account_id"], listed["action"], strict=True))
    assert actions == {
        "a": "close",
        "b": "close",
        "c": "close",
        "d": "review",
        "e": "review",
        "f": "watch",
        "h": "watch",
    }


def test_min_precision_cut_takes_the_longest_list_meeting_the_target() -> None:
    config = ScoreConfig(watch_threshold=0.0).with_cut(None, 0.9)
    selection = select_candidates(ranked(SCORES), None, config)
    # running means: .99 .97 .957 .9475 .918 .865 ...: five accounts keep the mean >= 0.9
    assert selection.candidates["account_id"].to_list() == ["a", "b", "c", "d", "e"]
    assert selection.expected_precision == pytest.approx(np.mean([0.99, 0.95, 0.93, 0.92, 0.8]))
    assert selection.expected_precision >= 0.9
    assert selection.mode == "min_precision"


def test_min_precision_counts_pulled_in_ring_mates() -> None:
    # b's ring mate h (0.1) would drag the mean of {a, b, h} below 0.9: the cut stops at a
    rings = membership({"R1": ["b", "h"]})
    config = ScoreConfig(watch_threshold=0.0).with_cut(None, 0.9)
    selection = select_candidates(ranked(SCORES), rings, config)
    assert selection.candidates["account_id"].to_list() == ["a"]


def test_precision_cut_reference() -> None:
    """cut_by_precision agrees with building every prefix list by hand."""
    rng = np.random.default_rng(1)
    for _ in range(20):
        n = 40
        score = np.sort(rng.random(n))[::-1]
        ring = rng.integers(-1, 6, n)  # -1: no ring
        first = {r: int(np.flatnonzero(ring == r)[0]) for r in set(ring.tolist()) if r >= 0}
        entry = np.array([first[r] if r >= 0 else i for i, r in enumerate(ring)], dtype=np.int64)
        target = float(rng.uniform(0.3, 0.9))
        best = 0
        for taken in range(1, n + 1):
            members = entry < taken
            if score[members].mean() >= target:
                best = taken
        assert cut_by_precision(entry, score, n, target) == best
    assert cut_by_precision(np.array([NEVER]), np.array([0.1]), 0, 0.5) == 0


def test_capacity_and_precision_together_is_a_user_error() -> None:
    with pytest.raises(UserError, match="either --capacity or --min-precision"):
        ScoreConfig().with_cut(10, 0.9)
    with pytest.raises(UserError, match="thresholds"):
        ScoreConfig(close_threshold=0.5, review_threshold=0.7).check()
    with pytest.raises(UserError, match="min-precision"):
        ScoreConfig().with_cut(None, 1.5)


def test_calibration_ties_are_broken_by_the_raw_score() -> None:
    frame = pl.DataFrame(
        {
            "account_id": ["a", "b", "c", "d"],
            "score": [0.6, 0.6, 0.6, 0.9],  # isotonic steps tie a, b and c
            "raw_score": [0.1, 2.0, 1.0, 3.0],
        }
    )
    assert rank_scores(frame)["account_id"].to_list() == ["d", "b", "c", "a"]
