"""Change and novelty features on hand-made accounts with known answers (the random-input
comparison with the plain reference is in test_build.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

from features.behaviour import build_behaviour_features
from features.config import BehaviourConfig
from features.io.contract import EVENTS

AS_OF = datetime(2024, 6, 30, tzinfo=UTC)
COLUMNS = (
    "new_device_share",
    "new_ip_share",
    "new_instrument_share",
    "new_action_share",
    "activity_change_ratio",
    "days_since_first_payment",
    "history_days_before_payment",
    "edit_to_payment_hours",
)


def event(account: str, days_ago: float, action: str, **extra) -> dict:
    return {
        "account_id": account,
        "ts": AS_OF - timedelta(days=days_ago),
        "action": action,
        **extra,
    }


def features(
    rows: list[dict], config: BehaviourConfig = BehaviourConfig(), columns=COLUMNS
) -> dict[str, dict]:
    accounts = pl.DataFrame({"account_id": sorted({r["account_id"] for r in rows} | {"quiet"})})
    events = pl.DataFrame(rows, schema=EVENTS.schema)
    table = build_behaviour_features(accounts, events, AS_OF, config)
    return {r["account_id"]: r for r in table.select("account_id", *columns).to_dicts()}


def test_takeover_breaks_with_the_accounts_own_past() -> None:
    old = [event("t", 60 - d, "login", device="home", ip="1.1.1.1") for d in range(0, 50, 2)]
    recent = [
        event("t", 3, "profile_edit", device="kit", ip="9.9.9.9"),
        event("t", 2.5, "payment", device="kit", ip="9.9.9.9", instrument="card", amount=50.0),
        event("t", 2, "login", device="home", ip="1.1.1.1"),
        event("t", 1, "payment", device="kit", ip="9.9.9.9", instrument="card", amount=80.0),
    ]
    got = features(old + recent)["t"]
    assert got["new_device_share"] == pytest.approx(3 / 4)  # kit is new, home is not
    assert got["new_ip_share"] == pytest.approx(3 / 4)
    assert got["new_instrument_share"] == pytest.approx(1.0)
    assert got["new_action_share"] == pytest.approx(3 / 4)  # edit and payments are new
    # 4 events in 7 days vs 25 in the 53 days from the first login to the window's start
    assert got["activity_change_ratio"] == pytest.approx((4 / 7) / (25 / 53))
    assert got["days_since_first_payment"] == pytest.approx(2.5)
    assert got["history_days_before_payment"] == pytest.approx(57.5)
    assert got["edit_to_payment_hours"] == pytest.approx(12.0)


def test_accounts_without_history_or_events_have_null_novelty() -> None:
    rows = [event("fresh", 1, "login", device="d"), event("fresh", 0.5, "post", device="d")]
    got = features(rows)
    for account in ("fresh", "quiet"):
        assert got[account]["new_device_share"] is None
        assert got[account]["activity_change_ratio"] is None
        assert got[account]["days_since_first_payment"] is None


def test_window_and_edit_order() -> None:
    rows = [
        event("a", 20, "login", device="d1"),
        event("a", 10, "payment", device="d2"),  # before the window: d2 is not new later
        event("a", 9, "profile_edit"),  # an edit after every payment is no edit-to-payment
        event("a", 1, "login", device="d2"),
    ]
    got = features(rows)["a"]
    assert got["new_device_share"] == 0.0
    assert got["new_action_share"] == 0.0
    assert got["edit_to_payment_hours"] is None
    wide = features(rows, BehaviourConfig(novelty_days=15))["a"]  # d2 first used inside
    assert wide["new_device_share"] == pytest.approx(1.0)
    assert wide["new_action_share"] == pytest.approx(2 / 3)  # payment, edit new; login not


def test_new_kit_shared_by_established_accounts_counts_sharers() -> None:
    rows = [
        event("t", 30, "login", device="home-t"),
        event("u", 30, "login", device="home-u"),
        event("t", 2, "login", device="kit", ip="9.9.9.9"),
        event("u", 1, "login", device="kit", ip="9.9.9.9"),
        event("fresh", 1, "login", device="kit"),  # no past: not an established account
        event("v", 30, "login", device="kit"),  # used kit long ago: not new to v
        event("v", 1, "login", device="kit"),
    ]
    got = features(rows, columns=("new_device_sharers", "new_ip_sharers"))
    for account in ("t", "u"):
        assert got[account]["new_device_sharers"] == got[account]["new_ip_sharers"] == 1
    assert got["fresh"]["new_device_sharers"] == got["v"]["new_device_sharers"] == 0
    assert got["quiet"]["new_device_sharers"] == 0
