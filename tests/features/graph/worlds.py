"""Small hand-made Datasets in the contract's schema, for graph tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl

from features.io.contract import ACCOUNTS, EDGES, EVENTS, LABELS, Dataset

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def frame(table, rows: list[dict]) -> pl.DataFrame:
    """Rows as a frame with every contract column of `table` (missing ones null)."""
    schema = table.schema
    full = [{name: row.get(name) for name in schema} for row in rows]
    return pl.DataFrame(full, schema=schema, orient="row") if full else pl.DataFrame(schema=schema)


def dataset(
    accounts: list[dict],
    events: list[dict] = (),
    edges: list[dict] = (),
    labels: list[dict] = (),
) -> Dataset:
    """A Dataset from row dicts; accounts get created_at/verified/followers defaults."""
    accounts = [
        {"created_at": T0 - timedelta(days=400), "verified": False, "followers": 10} | a
        for a in accounts
    ]
    return Dataset(
        source=Path("memory"),
        as_of=T0 + timedelta(days=30),
        accounts=frame(ACCOUNTS, list(accounts)).sort("account_id"),
        events=frame(EVENTS, list(events)),
        edges=frame(EDGES, list(edges)),
        labels=frame(LABELS, list(labels)),
    )


def at(minutes: float) -> datetime:
    """T0 plus some minutes."""
    return T0 + timedelta(minutes=minutes)


def event(account: str, minutes: float, action: str = "login", **fields) -> dict:
    """One event row."""
    return {"account_id": account, "ts": at(minutes), "action": action} | fields


def ring_world() -> Dataset:
    """A fake farm, a card ring, a newsroom, NAT users, a household and bystanders.

    - farm f0-f7: created within two hours, two shared devices, like the same bystander
      accounts in the same minutes six times (engagement lockstep): a ring.
    - cards k0-k3: created over ten days, one shared device and two shared cards: a ring.
    - newsroom n0-n7: created 200 days apart, half verified, shared devices and office IP,
      share the same articles together: not a ring.
    - NAT u00-u59: one carrier IP shared by 60 accounts (above the hub cut): not a ring.
    - household h0-h2: one home IP: not a ring.
    """
    accounts, events = [], []
    bystanders = [f"b{i:02d}" for i in range(20)]
    accounts += [{"account_id": b} for b in bystanders]
    for i in range(8):
        farm = f"f{i}"
        accounts.append(
            {"account_id": farm, "created_at": T0 - timedelta(days=10, minutes=-15 * i)}
        )
        events.append(
            event(farm, i, device="dev-farm-1" if i % 2 else "dev-farm-2", ip=f"5.5.5.{i}")
        )
        events.append(event(farm, 50 + i, device="dev-farm-1"))
        for t in range(6):
            events.append(event(farm, 1000 * t + 100 + i / 4, "like", target_id=bystanders[t]))
    for i in range(4):
        card = f"k{i}"
        accounts.append({"account_id": card, "created_at": T0 - timedelta(days=30 + 3 * i)})
        events.append(event(card, 10 + i, device="dev-card"))
        for j, instrument in enumerate(("card-1", "card-2")):
            events.append(event(card, 20 + i + j, "payment", instrument=instrument, amount=9.0))
    for i in range(8):
        news = f"n{i}"
        accounts.append(
            {
                "account_id": news,
                "created_at": T0 - timedelta(days=400 + 200 * i),
                "verified": i % 2 == 0,
            }
        )
        events.append(
            event(news, 5 + i, device="dev-news-1" if i < 5 else "dev-news-2", ip="7.7.7.7")
        )
        events.append(event(news, 9 + i, device="dev-news-2"))
        for t in range(6):
            events.append(event(news, 1000 * t + 300 + i / 4, "share", target_id=f"c-article-{t}"))
    for i in range(60):
        nat = f"u{i:02d}"
        accounts.append({"account_id": nat})
        events.append(event(nat, i, ip="9.9.9.9", device=f"dev-nat-{i}"))
    for i in range(3):
        home = f"h{i}"
        accounts.append({"account_id": home})
        events.append(event(home, i, ip="8.8.4.4", device=f"dev-home-{i}"))
    return dataset(accounts, events)
