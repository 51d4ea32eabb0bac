"""Who is on the platform: each account's kind, group (ring or newsroom), creation and profile."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from experiments.simulate.config import BAD_MIX_FIELDS, LOOKALIKE_FIELDS, WorldConfig
from experiments.simulate.kinds import KIND, KINDS, N_BENIGN, PLAIN_MIX, column, matrix

DAY = 86_400.0
HOUR = 3_600.0
MINUTE = 60.0

#: Group kinds of issue 12 and the WorldConfig knob holding their size range.
SIZE_KNOBS = {
    "aged_amplifier": "amplifier_sizes",
    "account_takeover": "takeover_sizes",
    "follower_farm": "follower_farm_sizes",
    "paraphrase_farm": "paraphrase_sizes",
    "fan": "fan_sizes",
    "agency_brand": "agency_sizes",
    "family": "family_sizes",
}
#: Groups whose members were not registered together: bought or long-lived accounts keep the
#: spread-out creation times of ordinary accounts (no registration burst).
AGED_GROUPS = (
    "aged_amplifier",
    "account_takeover",
    "paraphrase_farm",
    "fan",
    "agency_brand",
    "family",
)
#: Group kinds and their size range (members) for the original rings and newsrooms.
GROUP_SIZES = {
    "fake_farm": (10, 60),
    "card_fraud": (5, 20),
    "clickbait_farm": (8, 40),
    "porn": (3, 8),
    "violence": (3, 8),
    "newsroom": (5, 30),
}
#: Mean minutes between two members' creation inside one group (log-uniform range).
CREATION_GAP_MINUTES = {
    "fake_farm": (2, 40),
    "card_fraud": (10, 180),
    "clickbait_farm": (30, 720),
    "porn": (1, 120),
    "violence": (1, 120),
    "newsroom": (60, 4320),
    "follower_farm": (240, 2880),  # phone farms register accounts slowly, over months
}


@dataclass(frozen=True)
class Groups:
    """Rings and newsrooms: kind, members (CSR by group) and creation burst base time."""

    kind: np.ndarray  # int8 kind code per group
    offsets: np.ndarray  # int64, len G+1: members of g are members[offsets[g]:offsets[g+1]]
    members: np.ndarray  # int64 account indices, in creation order within each group
    base: np.ndarray  # float64 seconds: creation time of the group's first member

    @property
    def count(self) -> int:
        return len(self.kind)

    @property
    def sizes(self) -> np.ndarray:
        return np.diff(self.offsets)


def split_counts(total: int, shares: np.ndarray) -> np.ndarray:
    """Integer counts summing to `total` in proportion to `shares` (largest remainder)."""
    shares = np.asarray(shares, dtype=np.float64)
    raw = total * shares / shares.sum() if shares.sum() > 0 else np.zeros_like(shares)
    counts = np.floor(raw).astype(np.int64)
    order = np.argsort(-(raw - counts), kind="stable")
    counts[order[: total - counts.sum()]] += 1
    return counts


def assign_kinds(config: WorldConfig, rng: np.random.Generator) -> np.ndarray:
    """A kind code per account, in random order over account ids (ids carry no signal)."""
    n = config.accounts
    n_bad = round(n * config.bad_share)
    n_news = round(n * config.newsroom_share)
    n_nat = round(n * config.nat_share)
    lookalikes = [round(n * getattr(config, f)) for f in LOOKALIKE_FIELDS]
    bad = split_counts(n_bad, np.array([getattr(config, f) for f in BAD_MIX_FIELDS]))
    plain = split_counts(n - n_bad - n_news - n_nat - sum(lookalikes), np.array(PLAIN_MIX))
    counts = np.zeros(len(KINDS), dtype=np.int64)
    counts[:5] = plain
    counts[KIND["newsroom"]] = n_news
    counts[KIND["nat_user"]] = n_nat
    for name, count in zip(("fan", "agency_brand", "family"), lookalikes, strict=True):
        counts[KIND[name]] = count
    counts[N_BENIGN:] = bad
    kinds = np.repeat(np.arange(len(KINDS), dtype=np.int8), counts)
    return rng.permutation(kinds)


def partition(members: np.ndarray, low: int, high: int, rng: np.random.Generator) -> list:
    """Split members into groups of log-uniform sizes in [low, high] (a short tail merges back)."""
    sizes: list[int] = []
    left = len(members)
    while left > 0:
        size = round(float(np.exp(rng.uniform(np.log(low), np.log(high + 1)))))
        size = min(max(size, low), high, left)
        if left - size < low and sizes and left - size > 0:
            size = left  # the remainder would be too small for a group: take it all
        sizes.append(size)
        left -= size
    return np.split(members, np.cumsum(sizes)[:-1]) if sizes else []


def form_groups(kind: np.ndarray, config: WorldConfig, rng: np.random.Generator) -> Groups:
    """Rings for the bad kinds (minus solo accounts) and newsroom groups."""
    group_kind, chunks = [], []
    ranges = GROUP_SIZES | {name: getattr(config, knob) for name, knob in SIZE_KNOBS.items()}
    for name, (low, high) in ranges.items():
        members = np.flatnonzero(kind == KIND[name])
        share = 1.0
        if name in ("fake_farm", "card_fraud", "clickbait_farm"):
            share = 1.0 - config.solo_share
        elif name in ("porn", "violence"):
            share = config.content_ring_share
        take = members[rng.random(len(members)) < share]
        if len(take) < min(low, 3):
            continue
        for part in partition(take, low, high, rng):
            group_kind.append(KIND[name])
            chunks.append(part)
    sizes = np.array([len(c) for c in chunks], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    members = np.concatenate(chunks).astype(np.int64) if chunks else np.zeros(0, np.int64)
    kinds = np.asarray(group_kind, dtype=np.int8)
    return Groups(kinds, offsets, members, group_base_times(kinds, config, rng))


def group_base_times(kinds: np.ndarray, config: WorldConfig, rng: np.random.Generator):
    """When each group's creation burst starts (seconds from the window start)."""
    horizon = config.weeks * 7 * DAY
    g = len(kinds)
    in_window = rng.random(g) < config.new_ring_share
    inside = rng.uniform(0, max(horizon - 3 * DAY, DAY), g)
    before = -rng.uniform(1, 180, g) * DAY
    base = np.where(in_window, inside, before)
    clickbait = kinds == KIND["clickbait_farm"]
    base[clickbait] = np.where(
        rng.random(clickbait.sum()) < config.new_ring_share / 2,
        inside[clickbait],
        -rng.uniform(7, 365, clickbait.sum()) * DAY,
    )
    news = kinds == KIND["newsroom"]
    base[news] = -rng.uniform(365, 8 * 365, news.sum()) * DAY
    farm = kinds == KIND["follower_farm"]
    base[farm] = -rng.uniform(120, 500, farm.sum()) * DAY
    return base


def creation_times(kind: np.ndarray, groups: Groups, config: WorldConfig, rng) -> np.ndarray:
    """Seconds from the window start at which each account was created (negative = before)."""
    n = len(kind)
    horizon = config.weeks * 7 * DAY
    last = max(horizon - 2 * DAY, DAY)
    roll = rng.random(n)
    years = -np.exp(rng.uniform(np.log(60), np.log(3000), n)) * DAY
    recent = -rng.uniform(0, 60, n) * DAY
    window = rng.uniform(0, last, n)
    created = np.where(roll < 0.03, window, np.where(roll < 0.10, recent, years))
    bad = kind >= N_BENIGN
    solo_window = rng.random(n) < config.new_ring_share * 0.7
    solo = np.where(solo_window, window, -rng.uniform(1, 240, n) * DAY)
    aged = np.isin(kind, [KIND[k] for k in (*AGED_GROUPS, "follower_customer")])
    created[bad & ~aged] = solo[bad & ~aged]
    created[bad & aged] = years[bad & aged]  # bought, hijacked or simply old: registered long ago
    for g in range(groups.count):
        if KINDS[groups.kind[g]] in AGED_GROUPS:
            continue
        members = groups.members[groups.offsets[g] : groups.offsets[g + 1]]
        low, high = CREATION_GAP_MINUTES[KINDS[groups.kind[g]]]
        mean_gap = np.exp(rng.uniform(np.log(low), np.log(high))) * MINUTE
        gaps = rng.exponential(mean_gap, len(members))
        gaps[0] = 0.0
        created[members] = groups.base[g] + np.cumsum(gaps)
    return np.minimum(created, last)


def in_groups_of(group: np.ndarray, groups: Groups, names) -> np.ndarray:
    """Whether each account belongs to a group of one of the kinds `names`."""
    codes = np.asarray([KIND[name] for name in names])
    kinds = np.append(groups.kind, -1)  # group -1 (none) reads the sentinel
    return np.isin(kinds[group], codes)


def group_of(n: int, groups: Groups) -> np.ndarray:
    """The group index of each account, -1 for none."""
    out = np.full(n, -1, dtype=np.int64)
    out[groups.members] = np.repeat(np.arange(groups.count), groups.sizes)
    return out


def categories(kind: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The shown category of each account (bad accounts pose as plausible categories)."""
    probs = matrix("categories")[kind]
    cum = np.cumsum(probs / probs.sum(axis=1, keepdims=True), axis=1)
    return (rng.random(len(kind))[:, None] > cum).sum(axis=1).clip(0, 4).astype(np.int8)


def lognormal_by_kind(kind, attribute: str, rng) -> np.ndarray:
    """Heavy-tailed per-account values from a (median, sigma) KindSpec field."""
    median = column(attribute, 0)[kind]
    sigma = column(attribute, 1)[kind]
    return median * np.exp(sigma * rng.standard_normal(len(kind)))


def profile(kind: np.ndarray, created: np.ndarray, horizon: float, rng) -> dict[str, np.ndarray]:
    """Verified flag, follower/following counts and profile completeness per account."""
    age_days = np.maximum(horizon - created, 0) / DAY
    youth = np.minimum(1.0, (age_days + 1) / 90) ** 0.7
    followers = np.round(lognormal_by_kind(kind, "followers", rng) * youth).astype(np.int64)
    following = np.round(lognormal_by_kind(kind, "following", rng) * youth).astype(np.int64)
    a = column("completeness", 0)[kind]
    b = column("completeness", 1)[kind]
    return {
        "verified": rng.random(len(kind)) < column("verified")[kind],
        "followers": followers,
        "following": following,
        "completeness": np.round(rng.beta(a, b), 3),
    }
