"""The shared-identifier helper the graph and ring stage reuses."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl

from features.behaviour import shared_identifiers
from features.io.contract import TS

AS_OF = datetime(2024, 6, 1, tzinfo=UTC)


def test_shared_identifiers_counts_accounts_and_events() -> None:
    events = pl.DataFrame(
        {
            "account_id": ["b", "a", "a", "c", "c"],
            "ts": [AS_OF, AS_OF, AS_OF, AS_OF, datetime(2024, 7, 1, tzinfo=UTC)],
            "device": ["x", "x", "x", None, "x"],
        },
        schema_overrides={"ts": TS},
    )
    out = shared_identifiers(events, "device", as_of=AS_OF)
    assert out.rows() == [("a", "x", 2, 2), ("b", "x", 1, 2)]
    assert shared_identifiers(events, "device")["n_accounts"].to_list() == [3, 3, 3]
