"""The behavioural feature table against its plain-Python twin, the snapshot bound, bucket
invariance and the registry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from features.behaviour import build_behaviour_features
from features.behaviour.reference_table import reference_features
from features.behaviour.seam import ACTIONS
from features.behaviour.specs import behaviour_specs
from features.config import BehaviourConfig
from features.io.contract import EVENTS, TS

AS_OF = datetime(2024, 6, 3, 12, 0, tzinfo=UTC)
IDS = ("a1", "a2", "a3", "b4", "ü5")
HEADLINES = (
    None,
    "",
    "   ",
    "SHOCKING: 10 secrets doctors hate!!",
    "Top 10 tips?",
    "top 7 TIPS",
    "You won\u2019t believe what happened next",
    "Ünïcode Straße 2024",
    "中文标题！？",
    "Quarterly results 2024",
)
OFFSETS = st.one_of(
    st.integers(-3, 3),  # seconds around the snapshot, some after it
    st.integers(0, 40 * 86_400),  # anywhere in the last 40 days
    st.sampled_from([0, 10, 20, 30, 40, 3600]),  # ties and bursts
)


def assert_same(left: pl.DataFrame, right: pl.DataFrame) -> None:
    """Integer columns equal exactly, floats up to last-bit rounding (polars arithmetic may
    round the last bit differently depending on how rows are chunked)."""
    assert_frame_equal(left, right, rel_tol=1e-12, abs_tol=0.0)


def maybe(values) -> st.SearchStrategy:
    return st.one_of(st.none(), st.sampled_from(values))


@st.composite
def worlds(draw) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Tiny account bases with nulls, unknown accounts, ties and events after the snapshot."""
    ids = draw(st.lists(st.sampled_from(IDS), min_size=1, max_size=5, unique=True))
    accounts = pl.DataFrame(
        {
            "account_id": ids,
            "created_at": [
                draw(
                    st.one_of(st.none(), st.just(AS_OF - timedelta(days=draw(st.integers(0, 90)))))
                )
                for _ in ids
            ],
            "followers": [draw(st.one_of(st.none(), st.integers(0, 500))) for _ in ids],
        },
        schema={"account_id": pl.String, "created_at": TS, "followers": pl.Int64},
    )
    owners = (*ids, "ghost")  # events of accounts not in the accounts table are ignored
    rows = []
    for _ in range(draw(st.integers(0, 30))):
        rows.append(
            {
                "account_id": draw(st.sampled_from(owners)),
                "ts": AS_OF - timedelta(seconds=draw(OFFSETS)),
                "action": draw(st.sampled_from((*ACTIONS, "view", "post", "follow"))),
                "target_id": draw(maybe((*IDS, "c1"))),
                "ip": draw(maybe(("10.0.0.1", "10.0.0.2", "10.0.0.3"))),
                "device": draw(maybe(("d1", "d2"))),
                "instrument": draw(maybe(("card1", "card2"))),
                "text": draw(st.sampled_from(HEADLINES)),
                "amount": draw(st.one_of(st.none(), st.floats(0, 1000, allow_nan=False))),
            }
        )
    return accounts, pl.DataFrame(rows, schema=EVENTS.schema)


@settings(max_examples=40, deadline=None)
@given(worlds())
def test_builder_matches_plain_python_reference(world) -> None:
    accounts, events = world
    got = build_behaviour_features(accounts, events, AS_OF)
    want = reference_features(accounts, events, AS_OF)
    assert_frame_equal(got, want, rel_tol=1e-9, abs_tol=1e-9)


@settings(max_examples=20, deadline=None)
@given(worlds(), st.integers(2, 7), st.booleans(), st.integers(1, 12))
def test_any_bucket_count_gives_the_same_table(world, n_buckets, lazy, chunk) -> None:
    accounts, events = world
    one = build_behaviour_features(accounts, events, AS_OF, BehaviourConfig(n_buckets=1))
    source = events.lazy() if lazy else events  # lazy sources spill buckets to files in slices
    config = BehaviourConfig(n_buckets=n_buckets, spill_chunk_events=chunk)
    assert_same(one, build_behaviour_features(accounts, source, AS_OF, config))


@settings(max_examples=20, deadline=None)
@given(worlds(), worlds())
def test_events_after_the_snapshot_change_nothing(world, later) -> None:
    accounts, events = world
    _, extra = later
    future = extra.with_columns(
        ts=pl.lit(AS_OF, TS) + pl.duration(seconds=pl.int_range(1, pl.len() + 1) * 997)
    )
    before = build_behaviour_features(accounts, events, AS_OF)
    after = build_behaviour_features(accounts, pl.concat([future, events, future]), AS_OF)
    assert_same(before, after)


def small_world() -> tuple[pl.DataFrame, pl.DataFrame]:
    accounts = pl.DataFrame({"account_id": ["z", "a", "m"]})
    events = pl.DataFrame(
        {
            "account_id": ["a", "a", "m"],
            "ts": [AS_OF - timedelta(hours=2), AS_OF - timedelta(hours=1), AS_OF],
            "action": ["post", "login", "post"],
        },
        schema_overrides={"ts": TS},
    )
    return accounts, events


def test_every_column_is_numeric_registered_and_rows_sorted() -> None:
    accounts, events = small_world()
    out = build_behaviour_features(accounts, events, AS_OF)
    assert out["account_id"].to_list() == ["a", "m", "z"]
    features = out.columns[1:]
    assert features == [s.name for s in behaviour_specs(BehaviourConfig().windows_days)]
    assert all(out.schema[c] in (pl.Int64, pl.Float64) for c in features)


def test_missing_optional_columns_and_lazy_input() -> None:
    accounts, events = small_world()
    eager = build_behaviour_features(accounts, events, AS_OF)
    lazy = build_behaviour_features(accounts, events.lazy(), AS_OF)
    assert_frame_equal(eager, lazy)
    quiet = eager.filter(pl.col("account_id") == "z").row(0, named=True)
    assert quiet["events_total"] == 0 and quiet["n_devices"] == 0
    assert quiet["device_crowding_max"] == 0 and quiet["payment_total"] == 0.0
    assert quiet["iet_mean_s"] is None and quiet["days_since_last_event"] is None


def test_all_null_optional_columns_match_reference() -> None:
    accounts, events = small_world()
    nulls = events.with_columns(
        pl.lit(None, dtype).alias(name)
        for name, dtype in EVENTS.schema.items()
        if name not in events.columns
    )
    got = build_behaviour_features(accounts, nulls, AS_OF)
    assert_frame_equal(got, reference_features(accounts, nulls, AS_OF), rel_tol=1e-9)
    untyped = events.with_columns(ip=pl.lit(None), device=pl.lit(None))  # dtype Null
    assert_frame_equal(got, build_behaviour_features(accounts, untyped, AS_OF))


def test_naive_snapshot_is_utc() -> None:
    accounts, events = small_world()
    aware = build_behaviour_features(accounts, events, AS_OF)
    naive = build_behaviour_features(accounts, events, AS_OF.replace(tzinfo=None))
    assert_frame_equal(aware, naive)


def test_shared_device_crowding() -> None:
    accounts = pl.DataFrame({"account_id": ["a", "b", "c", "d"]})
    events = pl.DataFrame(
        {
            "account_id": ["a", "b", "c", "a", "d"],
            "ts": [AS_OF] * 5,
            "action": ["login"] * 5,
            "device": ["x", "x", "x", "y", None],
        },
        schema_overrides={"ts": TS},
    )
    out = build_behaviour_features(accounts, events, AS_OF).select(
        "device_crowding_max", "device_crowding_mean", "n_devices"
    )
    assert out.rows() == [(2, 1.0, 2), (2, 2.0, 1), (2, 2.0, 1), (0, 0.0, 0)]
