"""Devices, IP addresses and payment instruments each account uses, with how often it uses each.

Personal identifiers are private; rings draw theirs from small shared pools (not every member
uses every pooled device); newsrooms share a corporate range; NAT users share carrier IPs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from experiments.simulate.config import WorldConfig
from experiments.simulate.kinds import CATEGORY, KIND, N_BENIGN, column
from experiments.simulate.population import GROUP_SIZES, Groups, in_groups_of

SLOTS = 4
_BANNED_OCTETS = {0, 10, 100, 127, 169, 172, 192}
PUBLIC_OCTETS = np.array([o for o in range(1, 224) if o not in _BANNED_OCTETS], dtype=np.int64)


@dataclass(frozen=True)
class Identity:
    """Per-account identifier slots (-1 = unused) and cumulative usage weights."""

    devices: np.ndarray  # (n, SLOTS) int64 device numbers
    device_cw: np.ndarray  # (n, SLOTS) float64 cumulative weights
    ips: np.ndarray  # (n, SLOTS) int64 IPv4 addresses as integers
    ip_cw: np.ndarray
    instruments: np.ndarray  # (n, SLOTS) int64 instrument numbers
    instrument_cw: np.ndarray


def public_ips(rng: np.random.Generator, size: int) -> np.ndarray:
    """Random addresses outside private and reserved first octets."""
    first = rng.choice(PUBLIC_OCTETS, size)
    return (first << 24) | rng.integers(0, 1 << 24, size)


def cumulative(weights: np.ndarray) -> np.ndarray:
    """Row-normalised cumulative weights; unused slots reach 1 so they are never drawn."""
    total = weights.sum(axis=1, keepdims=True)
    cw = np.cumsum(weights / np.where(total > 0, total, 1.0), axis=1)
    cw[total[:, 0] == 0] = 1.0
    cw[:, -1] = 1.0
    return cw


def pick(values: np.ndarray, cw: np.ndarray, acc: np.ndarray, u: np.ndarray) -> np.ndarray:
    """For each (account, uniform) the identifier in the slot the uniform falls in."""
    slot = np.minimum((u[:, None] >= cw[acc]).sum(axis=1), SLOTS - 1)
    return values[acc, slot]


def _set(values, weights, rows, slot, value, weight) -> None:
    """Fill one slot for the given rows."""
    values[rows, slot] = value
    weights[rows, slot] = weight


def _pool_draw(rng, group, start, size, rows) -> np.ndarray:
    """A random element of each row's group pool."""
    g = group[rows]
    return start[g] + rng.integers(0, 1 << 30, len(rows)) % size[g]


def devices(kind, group, groups: Groups, camo, level: int, rng):
    """Device slots: personal devices, group pools for rings and newsrooms."""
    n = len(kind)
    personal = rng.choice([1, 2, 3], n, p=[0.5, 0.35, 0.15])
    base = np.concatenate([[0], np.cumsum(personal)[:-1]])
    pool_size = np.where(
        groups.kind == KIND["clickbait_farm"],
        rng.integers(3, 9, groups.count),
        rng.integers(2, 6, groups.count),
    )
    pool_size[np.isin(groups.kind, [KIND["porn"], KIND["violence"]])] = 1
    pool_start = personal.sum() + np.concatenate([[0], np.cumsum(pool_size)[:-1]])
    values = np.full((n, SLOTS), -1, dtype=np.int64)
    weights = np.zeros((n, SLOTS))
    for j, w in enumerate((0.7, 0.2, 0.1)):
        rows = np.flatnonzero(personal > j)
        _set(values, weights, rows, j, base[rows] + j, w)
    pooled = np.flatnonzero(in_groups_of(group, groups, GROUP_SIZES))
    if pooled.size:
        values[pooled] = -1
        weights[pooled] = 0.0
        _set(values, weights, pooled, 0, _pool_draw(rng, group, pool_start, pool_size, pooled), 0.6)
        second = pooled[rng.random(pooled.size) < 0.5]
        _set(values, weights, second, 1, _pool_draw(rng, group, pool_start, pool_size, second), 0.4)
        news = pooled[kind[pooled] == KIND["newsroom"]]
        _set(values, weights, news, 2, base[news], 0.25)
        bad = pooled[camo[pooled]]
        _set(values, weights, bad, 2, base[bad], (0.0, 0.15, 0.45)[level])
    return values, cumulative(weights)


def ips(kind, category, group, groups: Groups, camo, config: WorldConfig, rng):
    """IP slots: home, mobile and office addresses; NAT, household, corporate and ring ranges."""
    n = len(kind)
    values = np.full((n, SLOTS), -1, dtype=np.int64)
    weights = np.zeros((n, SLOTS))
    carriers = public_ips(rng, 24) & ~np.int64(0xFFFF)
    mobile = carriers[rng.integers(0, 24, n)] | rng.integers(0, 1 << 16, n)
    home = public_ips(rng, n)
    office = public_ips(rng, n)
    everyone = np.arange(n)
    _set(values, weights, everyone, 0, home, 0.6)
    _set(values, weights, everyone, 1, mobile, 0.3)
    _set(values, weights, everyone, 2, office, 0.1)
    officers = np.flatnonzero((kind < N_BENIGN) & (category != CATEGORY["individual"]))
    _set(values, weights, officers, 0, office[officers], 0.6)
    _set(values, weights, officers, 2, home[officers], 0.1)
    individuals = np.flatnonzero(kind == KIND["individual"])
    sharing = individuals[rng.random(individuals.size) < config.household_share]
    if sharing.size:
        houses = public_ips(rng, max(1, sharing.size * 2 // 5))
        values[sharing, 0] = houses[rng.integers(0, houses.size, sharing.size)]
    nat = np.flatnonzero(kind == KIND["nat_user"])
    if nat.size:
        n_ips = max(1, round(nat.size / config.nat_users_per_ip))
        share = rng.dirichlet(np.full(n_ips, 2.0))
        nat_ips = public_ips(rng, n_ips)
        _set(values, weights, nat, 0, nat_ips[rng.choice(n_ips, nat.size, p=share)], 0.85)
        _set(values, weights, nat, 1, mobile[nat], 0.15)
        _set(values, weights, nat, 2, -1, 0.0)
    vpn = public_ips(rng, 30)
    block = public_ips(rng, groups.count) & ~np.int64(0xFF)
    proxies = public_ips(rng, groups.count * 4).reshape(-1, 4)
    pooled = np.flatnonzero(in_groups_of(group, groups, GROUP_SIZES))
    g = group[pooled]
    gk = groups.kind[g]
    ranged = pooled[gk != KIND["card_fraud"]]
    news = np.isin(ranged, np.flatnonzero(kind == KIND["newsroom"]))
    width = np.where(news, 64, 256)
    for slot, w in ((0, 0.6), (1, 0.4)):
        addr = block[group[ranged]] | (rng.integers(0, 1 << 16, ranged.size) % width)
        _set(values, weights, ranged, slot, addr, w)
    _set(values, weights, ranged, 2, home[ranged], np.where(news, 0.2, 0.0))
    fraud = pooled[gk == KIND["card_fraud"]]
    for slot, w in ((0, 0.6), (1, 0.4)):
        _set(values, weights, fraud, slot, proxies[group[fraud], rng.integers(0, 4, fraud.size)], w)
    _set(values, weights, fraud, 2, home[fraud], 0.0)
    bad = np.flatnonzero(kind >= N_BENIGN)
    hides = bad[rng.random(bad.size) < 0.3]
    _set(values, weights, hides, 3, vpn[rng.integers(0, vpn.size, hides.size)], 0.5)
    private = np.flatnonzero((kind == KIND["individual"]) & (rng.random(n) < 0.02))
    _set(values, weights, private, 3, vpn[rng.integers(0, vpn.size, private.size)], 0.3)
    ringed_camo = pooled[camo[pooled] & (kind[pooled] >= N_BENIGN)]
    _set(
        values,
        weights,
        ringed_camo,
        2,
        home[ringed_camo],
        (0.0, 0.15, 0.45)[config.camouflage_level],
    )
    return values, cumulative(weights)


def instruments(kind, group, groups: Groups, rng):
    """Payment instruments: a card of one's own for benign payers, shared pools for fraud rings."""
    n = len(kind)
    values = np.full((n, SLOTS), -1, dtype=np.int64)
    weights = np.zeros((n, SLOTS))
    owns = np.flatnonzero(rng.random(n) < column("card")[kind])
    _set(values, weights, owns, 0, np.arange(owns.size), 1.0)
    next_card = owns.size
    fraud = np.flatnonzero(kind == KIND["card_fraud"])
    solo = fraud[group[fraud] < 0]
    for slot in range(3):
        _set(values, weights, solo, slot, next_card + np.arange(solo.size), 1.0)
        next_card += solo.size
    pool_size = rng.integers(3, 11, groups.count)
    pool_start = next_card + np.concatenate([[0], np.cumsum(pool_size)[:-1]])
    ringed = fraud[group[fraud] >= 0]
    uses = rng.integers(1, 4, ringed.size)
    for slot in range(3):
        rows = ringed[uses > slot]
        _set(values, weights, rows, slot, _pool_draw(rng, group, pool_start, pool_size, rows), 1.0)
    return values, cumulative(weights)


def build_identity(kind, category, group, groups, camo, config: WorldConfig, rng) -> Identity:
    """Every account's device, IP and instrument slots."""
    dev, dev_cw = devices(kind, group, groups, camo, config.camouflage_level, rng)
    ip, ip_cw = ips(kind, category, group, groups, camo, config, rng)
    inst, inst_cw = instruments(kind, group, groups, rng)
    return Identity(dev, dev_cw, ip, ip_cw, inst, inst_cw)
