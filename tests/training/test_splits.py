"""Splits: rings never straddle parts, time order is respected, random is only random."""

from datetime import UTC, datetime, timedelta

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from training.config import SplitConfig
from training.splits import split_labelled

T0 = datetime(2024, 1, 1, tzinfo=UTC)


@st.composite
def labelled_accounts(draw):
    """Labelled accounts with label times (ties allowed) and a groups frame covering some."""
    n = draw(st.integers(3, 80))
    days = draw(st.lists(st.integers(0, 20), min_size=n, max_size=n))
    comp = draw(st.lists(st.one_of(st.none(), st.integers(0, 8)), min_size=n, max_size=n))
    label = draw(st.lists(st.integers(0, 1), min_size=n, max_size=n))
    ids = [f"x{i:03d}" for i in range(n)]
    labelled = pl.DataFrame(
        {"account_id": ids, "labelled_at": [T0 + timedelta(days=d) for d in days], "label": label},
        schema={"account_id": pl.String, "labelled_at": pl.Datetime("us", "UTC"), "label": pl.Int8},
    )
    pairs = [(a, f"c{c}") for a, c in zip(ids, comp, strict=True) if c is not None]
    groups = pl.DataFrame(
        {"account_id": [a for a, _ in pairs], "component_id": [c for _, c in pairs]},
        schema={"account_id": pl.String, "component_id": pl.String},
    )
    return labelled, groups


def parts_of_groups(split):
    return split.assignments.group_by("group").agg(pl.col("part").n_unique().alias("k"))


@settings(max_examples=60, deadline=None)
@given(data=labelled_accounts(), kind=st.sampled_from(["strict", "ring"]), seed=st.integers(0, 5))
def test_groups_never_straddle(data, kind, seed):
    labelled, groups = data
    split = split_labelled(labelled, groups, SplitConfig(kind=kind, seed=seed))
    assert split.assignments.height == labelled.height
    assert split.assignments["account_id"].to_list() == sorted(labelled["account_id"])
    assert parts_of_groups(split)["k"].max() == 1
    members = split.assignments.join(groups, on="account_id")
    assert members.group_by("component_id").agg(pl.col("part").n_unique())["part"].max() in (
        1,
        None,
    )


@settings(max_examples=60, deadline=None)
@given(data=labelled_accounts(), kind=st.sampled_from(["strict", "time"]), seed=st.integers(0, 5))
def test_time_order_respected_within_each_class(data, kind, seed):
    """Every group trained on was finished no later than any group of its class evaluated on."""
    labelled, groups = data
    split = split_labelled(labelled, groups, SplitConfig(kind=kind, seed=seed))
    latest = (
        split.assignments.join(labelled, on="account_id")
        .group_by("group", "part")
        .agg(pl.col("labelled_at").max(), pl.col("label").max().alias("bad"))
    )
    for bad, name in ((1, "bad"), (0, "good")):
        mine = latest.filter(pl.col("bad") == bad)
        span = {
            p: mine.filter(pl.col("part") == p)["labelled_at"] for p in ("train", "valid", "test")
        }
        for early, late in (("train", "valid"), ("valid", "test"), ("train", "test")):
            if span[early].len() and span[late].len():
                assert span[early].max() <= span[late].min()
        if span["train"].len():
            assert span["train"].max() == split.cuts[f"train_last_label_{name}"]


def test_stratified_parts_keep_the_class_mix():
    """Closures in a late wave: unstratified, the test part is all bad; stratified, it is mixed."""
    n = 200
    label = [1 if i >= 150 or i % 10 == 0 else 0 for i in range(n)]  # most bad labels come last
    labelled = pl.DataFrame(
        {
            "account_id": [f"a{i:03d}" for i in range(n)],
            "labelled_at": [T0 + timedelta(hours=i) for i in range(n)],
            "label": label,
        }
    )
    reason = [None if y == 0 else ("porn" if i < 100 else "fraud") for i, y in enumerate(label)]
    labelled = labelled.with_columns(pl.Series("reason", reason, dtype=pl.String))
    share = sum(label) / n
    plain = split_labelled(labelled, None, SplitConfig(stratify=False))
    assert (
        labelled.filter(pl.col("account_id").is_in(plain.ids("test").implode()))["label"].mean()
        == 1
    )
    split = split_labelled(labelled, None, SplitConfig())
    for part in ("train", "valid", "test"):
        rows = labelled.filter(pl.col("account_id").is_in(split.ids(part).implode()))
        assert abs(rows["label"].mean() - share) < 0.02
        assert set(rows["reason"].drop_nulls()) == {"porn", "fraud"}  # early porn labels too


def test_shares_with_singletons_and_determinism():
    labelled = pl.DataFrame(
        {
            "account_id": [f"a{i:03d}" for i in range(100)],
            "labelled_at": [T0 + timedelta(hours=i) for i in range(100)],
        }
    )
    split = split_labelled(labelled, None, SplitConfig(kind="strict"))
    assert split.counts() == {"train": 60, "valid": 20, "test": 20}
    # time-aware: the 60 oldest labels train
    assert split.ids("train").to_list() == [f"a{i:03d}" for i in range(60)]
    again = split_labelled(labelled, None, SplitConfig(kind="strict"))
    assert again.assignments.equals(split.assignments)


def test_no_label_times_falls_back_to_ring_split_and_says_so():
    labelled = pl.DataFrame(
        {"account_id": ["a", "b", "c", "d"], "labelled_at": [None] * 4},
        schema={"account_id": pl.String, "labelled_at": pl.Datetime("us", "UTC")},
    )
    groups = pl.DataFrame({"account_id": ["a", "b"], "component_id": ["r", "r"]})
    split = split_labelled(
        labelled, groups, SplitConfig(kind="strict", valid_share=0.25, test_share=0.25)
    )
    assert "not time-aware" in split.notes[0]
    assert parts_of_groups(split)["k"].max() == 1


def test_random_split_ignores_rings():
    """A random split puts ring members on both sides (the leak the strict split prevents)."""
    n = 400
    labelled = pl.DataFrame(
        {"account_id": [f"a{i:03d}" for i in range(n)], "labelled_at": [T0] * n}
    )
    groups = pl.DataFrame(
        {"account_id": labelled["account_id"], "component_id": [f"r{i // 10}" for i in range(n)]}
    )
    random = split_labelled(labelled, groups, SplitConfig(kind="random"))
    straddling = (
        random.assignments.join(groups, on="account_id")
        .group_by("component_id")
        .agg(pl.col("part").n_unique().alias("k"))
        .filter(pl.col("k") > 1)
    )
    assert straddling.height > 10
    assert any("leaky" in note for note in random.notes)
