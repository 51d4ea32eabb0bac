"""Hand-made worlds for the new ring links and the learned verdict: takeover crews, families
sharing a tablet, fans of a celebrity."""

from __future__ import annotations

from datetime import timedelta

from tests.features.graph.worlds import T0, dataset, event

DAY = 24 * 60  # minutes


def crew(name: str, size: int = 3) -> tuple[list[dict], list[dict]]:
    """Old accounts living their owners' lives (own phone and home IP, daily logins) until
    day 25, when one crew takes them all over from fresh shared kit (two phones, two IPs),
    edits profiles and pays with one stolen card."""
    accounts, events = [], []
    for i in range(size):
        a = f"{name}{i}"
        accounts.append({"account_id": a, "created_at": T0 - timedelta(days=300 + 40 * i)})
        for day in range(0, 25, 2):
            events.append(event(a, day * DAY + 60 * i, device=f"own-{a}", ip=f"home-{a}"))
        for j in range(4):
            t = 25 * DAY + 90 * i + 30 * j
            kit = {"device": f"kit-{name}-{j % 2}", "ip": f"proxy-{name}-{j % 2}"}
            events.append(event(a, t, "login", **kit))
            events.append(event(a, t + 5, "profile_edit", **kit))
        events.append(event(a, 26 * DAY + i, "payment", instrument=f"card-{name}", amount=90.0))
    return accounts, events


def family(name: str, size: int = 4) -> tuple[list[dict], list[dict]]:
    """A family: everyone has a phone, all use the home tablet and home IP, all month long."""
    accounts, events = [], []
    for i in range(size):
        a = f"{name}{i}"
        accounts.append({"account_id": a, "created_at": T0 - timedelta(days=500 + 100 * i)})
        for day in range(0, 30, 3):
            events.append(event(a, day * DAY + 30 * i, device=f"phone-{a}", ip=f"home-{name}"))
            events.append(
                event(a, day * DAY + 600 + 30 * i, device=f"tablet-{name}", ip=f"home-{name}")
            )
    return accounts, events


def bystanders(count: int = 20) -> tuple[list[dict], list[dict]]:
    """Ordinary accounts with their own phone and IP."""
    accounts = [{"account_id": f"b{i:03d}"} for i in range(count)]
    events = [
        event(f"b{i:03d}", day * DAY + i, device=f"dev-b{i}", ip=f"ip-b{i}")
        for i in range(count)
        for day in range(0, 30, 5)
    ]
    return accounts, events


def crews_and_families(crews: int = 6, families: int = 6, labelled: int = 4):
    """`crews` takeover crews and `families` families among bystanders; the first
    `labelled` of each carry one label (crew member bad, family member good)."""
    accounts, events, labels = [], [], []
    for k in range(crews):
        acc, ev = crew(f"c{k}x")
        accounts += acc
        events += ev
        if k < labelled:
            labels.append({"account_id": f"c{k}x0", "label": 1, "labelled_at": T0})
    for k in range(families):
        acc, ev = family(f"f{k}x")
        accounts += acc
        events += ev
        if k < labelled:
            labels.append({"account_id": f"f{k}x0", "label": 0, "labelled_at": T0})
    acc, ev = bystanders()
    return dataset(accounts + acc, events + ev, labels=labels)


def fans(count: int = 300, posts: int = 5):
    """`count` fans liking each of a celebrity's `posts` posts within a minute of it."""
    accounts = [{"account_id": "star"}] + [{"account_id": f"fan{i:03d}"} for i in range(count)]
    events = []
    for p in range(posts):
        t = p * DAY + 600
        events.append(event("star", t, "post", target_id=f"post-{p}", device="dev-star"))
        events += [
            event(f"fan{i:03d}", t + 0.1 + i * 0.002, "like", target_id=f"post-{p}",
                  device=f"dev-fan{i}", ip=f"ip-fan{i}")
            for i in range(count)
        ]  # fmt: skip
    return dataset(accounts, events)
