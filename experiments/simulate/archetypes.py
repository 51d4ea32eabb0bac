"""The archetypes of issue 12 and the identifiers their groups share.

Sources (summarised in /work/shared/REFERENCES.md):
- aged_amplifier: coordinated amplification by bought, aged accounts; lockstep on a leader's
  posts (content lockstep, SynchroTrap/CopyCatch), human timing, only a few shared devices,
  no registration burst (evasion: Ikram et al., TOPS 2017). Events: experiments/simulate/leaders.py.
- account_takeover: old benign accounts hijacked by crews working many accounts from shared kit
  within days: new devices and IPs, profile edits, then payments and a few chargebacks
  (Onaolapo et al., IMC 2014; Thomas et al., CCS 2017). Events: experiments/simulate/takeover.py.
- follower_farm / follower_customer: like and follower farms run many accounts from a few
  phones and deliver orders to paying customers over hours (Ikram et al., TOPS 2017; CopyCatch,
  WWW 2013). Events: experiments/simulate/farms.py.
- paraphrase_farm: content farms posting rewritten versions of the same story at the same time
  and amplifying each other, so no two texts are near-duplicates (stealthy farms, Ikram et al.).
  Events: experiments/simulate/farms.py.
- Benign look-alikes: fans reacting to a celebrity within minutes (popular targets weigh little,
  FRAUDAR's 1 / log(d + c)); agencies running many brands from one office IP, a few devices and
  the agency's cards (LinkedIn, AISec 2015: hub identifiers of organisations); families sharing
  a tablet and a home IP.
"""

from __future__ import annotations

import numpy as np

from experiments.simulate.config import WorldConfig
from experiments.simulate.identity import SLOTS, Identity, cumulative, public_ips
from experiments.simulate.kinds import KIND
from experiments.simulate.population import Groups


def weights_of(cw: np.ndarray) -> np.ndarray:
    """Per-slot weights back from cumulative weights (they sum to 1 per row)."""
    return np.diff(cw, axis=1, prepend=0.0)


def pooled_draw(rng, group: np.ndarray, pools: np.ndarray, size: np.ndarray) -> np.ndarray:
    """For each account of `group`, one element of its group's pool (pools[g, :size[g]])."""
    return pools[group, rng.integers(0, 1 << 30, group.size) % size[group]]


def new_pools(start: int, count: int, low: int, high: int, rng) -> tuple[np.ndarray, np.ndarray]:
    """`count` pools of fresh numbers from `start` on, of sizes in [low, high]: (G, high), sizes."""
    size = rng.integers(low, high + 1, count)
    pools = start + np.arange(count * high, dtype=np.int64).reshape(count, high)
    return pools, size


def members(kind: np.ndarray, group: np.ndarray, name: str) -> np.ndarray:
    """Accounts of kind `name` that sit in a group."""
    return np.flatnonzero((kind == KIND[name]) & (group >= 0))


class Slots:
    """Mutable copies of one identifier's values and weights, written by the archetypes."""

    def __init__(self, values: np.ndarray, cw: np.ndarray):
        self.values, self.cw, self.weights = values.copy(), cw, weights_of(cw)
        self.touched = np.zeros(len(values), dtype=bool)

    def put(self, rows: np.ndarray, slot: int, value, weight) -> None:
        self.values[rows, slot] = value
        self.weights[rows, slot] = weight
        self.touched[rows] = True

    def frozen(self) -> tuple[np.ndarray, np.ndarray]:
        """Values and cumulative weights; untouched rows keep their weights bit for bit."""
        cw = self.cw.copy()
        cw[self.touched] = cumulative(self.weights[self.touched])
        return self.values, cw


def archetype_devices(dev: Slots, kind, group, groups: Groups, camo, config: WorldConfig, rng):
    """Rings' few shared phones, farms' phone pools, agency devices and family tablets."""
    g_count = max(groups.count, 1)
    level = config.camouflage_level
    pools, size = new_pools(int(dev.values.max()) + 1, g_count, 2, 4, rng)
    amp = members(kind, group, "aged_amplifier")
    amp = amp[rng.random(amp.size) < config.amplifier_device_share]
    dev.put(amp, 3, pooled_draw(rng, group[amp], pools, size), (0.35, 0.3, 0.15)[level])
    para = members(kind, group, "paraphrase_farm")
    para = para[rng.random(para.size) < 0.3]
    dev.put(para, 3, pooled_draw(rng, group[para], pools, np.minimum(size, 2)), 0.3)
    agency = members(kind, group, "agency_brand")
    own = dev.values[agency, 0]
    dev.put(agency, 0, pooled_draw(rng, group[agency], pools, size), 0.6)
    dev.put(agency, 1, pooled_draw(rng, group[agency], pools, size), 0.3)
    dev.put(agency, 2, own, 0.1)
    dev.put(agency, 3, -1, 0.0)
    cap = config.follower_farm_devices
    farm_pools, _ = new_pools(int(pools.max()) + 1, g_count, cap, cap, rng)
    farm_size = rng.integers(1, cap + 1, g_count)
    farm = members(kind, group, "follower_farm")
    own = dev.values[farm, 0]
    for slot, weight in ((0, 0.6), (1, 0.4)):
        dev.put(farm, slot, pooled_draw(rng, group[farm], farm_pools, farm_size), weight)
    dev.put(farm, 2, own, np.where(camo[farm], (0.0, 0.15, 0.45)[level], 0.0))
    dev.put(farm, 3, -1, 0.0)
    family = members(kind, group, "family")
    tablet = int(farm_pools.max()) + 1 + group[family]
    share = min(config.family_tablet_share, 0.95)
    dev.put(family, 3, tablet, share / (1.0 - share))


def archetype_ips(ip: Slots, kind, group, groups: Groups, camo, config: WorldConfig, rng):
    """Rings' proxies, farms' carrier addresses, content farms' hosting ranges, agency offices
    and family homes."""
    level = config.camouflage_level
    proxies = public_ips(rng, max(groups.count, 1) * 3).reshape(-1, 3)
    amp = members(kind, group, "aged_amplifier")
    amp = amp[rng.random(amp.size) < 0.3]
    ip.put(amp, 3, proxies[group[amp], rng.integers(0, 3, amp.size)], 0.25)
    farm = members(kind, group, "follower_farm")
    home = ip.values[farm, 0]
    few = rng.integers(1, 4, max(groups.count, 1))
    for slot, weight in ((0, 0.7), (1, 0.3)):
        ip.put(farm, slot, pooled_draw(rng, group[farm], proxies, few), weight)
    ip.put(farm, 2, home, np.where(camo[farm], (0.0, 0.15, 0.45)[level], 0.0))
    ip.put(farm, 3, -1, 0.0)
    para = members(kind, group, "paraphrase_farm")
    block = public_ips(rng, max(groups.count, 1)) & ~np.int64(0xFF)
    ip.put(para, 3, block[group[para]] | rng.integers(0, 8, para.size), 0.4)
    agency = members(kind, group, "agency_brand")
    home = ip.values[agency, 2]
    office = proxies[:, :2]
    ip.put(
        agency, 0, pooled_draw(rng, group[agency], office, rng.integers(1, 3, office.shape[0])), 0.8
    )
    ip.put(agency, 2, home, 0.1)
    ip.put(agency, 3, -1, 0.0)
    family = members(kind, group, "family")
    house = public_ips(rng, max(groups.count, 1))
    ip.put(family, 0, house[group[family]], 0.6)


def archetype_instruments(inst: Slots, kind, group, groups: Groups, config: WorldConfig, rng):
    """Agencies paying their clients' ads with one or two agency cards."""
    agency = members(kind, group, "agency_brand")
    pays = rng.random(max(groups.count, 1)) < config.agency_card_share
    agency = agency[pays[group[agency]]]
    pools, size = new_pools(int(inst.values.max()) + 1, max(groups.count, 1), 1, 2, rng)
    inst.put(agency, 0, pooled_draw(rng, group[agency], pools, size), 1.0)
    for slot in range(1, SLOTS):
        inst.put(agency, slot, -1, 0.0)


def archetype_identity(
    identity: Identity, kind, group, groups: Groups, camo, config: WorldConfig, rng
) -> Identity:
    """The identity slots with the shared identifiers of the issue-12 groups written in."""
    dev = Slots(identity.devices, identity.device_cw)
    ip = Slots(identity.ips, identity.ip_cw)
    inst = Slots(identity.instruments, identity.instrument_cw)
    archetype_devices(dev, kind, group, groups, camo, config, rng)
    archetype_ips(ip, kind, group, groups, camo, config, rng)
    archetype_instruments(inst, kind, group, groups, config, rng)
    return Identity(*dev.frozen(), *ip.frozen(), *inst.frozen())
