"""The world plan: every per-account and per-group decision, drawn once before any event."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from experiments.simulate import coordination as co
from experiments.simulate import population as pop
from experiments.simulate.archetypes import archetype_identity
from experiments.simulate.config import WorldConfig
from experiments.simulate.farms import Timeline, plan_orders, plan_stories
from experiments.simulate.identity import Identity, build_identity
from experiments.simulate.kinds import KIND, N_BENIGN, column
from experiments.simulate.leaders import LeaderPosts, leader_follows, plan_leader_posts
from experiments.simulate.population import DAY, HOUR, MINUTE, Groups
from experiments.simulate.takeover import Takeover, plan_takeover

TIMEZONES = np.array([8.0, 1.0, -5.0, 0.0, 5.0])
TIMEZONE_SHARES = np.array([0.55, 0.15, 0.15, 0.10, 0.05])
CAMOUFLAGED = (0.0, 0.3, 0.7)  # share of bad accounts that camouflage, by level
NEWSROOM_ROUND_THE_CLOCK = 0.6  # share of newsroom accounts whose scheduler never sleeps
OFFICE_SCHEDULERS = 0.15  # share of brands and government bodies posting on a daily schedule


@dataclass(frozen=True)
class Schedule:
    """Scheduler posting: every `period` s from `phase`, gaussian jitter, local active hours."""

    period: np.ndarray  # float64 seconds, 0 = no scheduler
    phase: np.ndarray
    jitter: np.ndarray  # standard deviation, seconds
    first_hour: np.ndarray  # local hour the scheduler starts posting
    last_hour: np.ndarray  # local hour it stops (24 = midnight)
    skip: np.ndarray  # probability of skipping one slot


@dataclass(frozen=True)
class Plan:
    """Everything about the world except its events and edges (which are drawn in chunks)."""

    config: WorldConfig
    horizon: float  # window length in seconds
    kind: np.ndarray  # int8 kind code per account
    category: np.ndarray  # int8 category code per account
    group: np.ndarray  # int64 group index, -1 none
    groups: Groups
    created: np.ndarray  # float64 seconds from window start
    tz: np.ndarray  # float64 hours from UTC
    camo: np.ndarray  # bool: bad account that camouflages
    sessions: np.ndarray  # float64 human sessions a week
    profile: dict[str, np.ndarray]  # verified, followers, following, completeness
    schedule: Schedule
    identity: Identity
    popular: np.ndarray  # cumulative target weights over established accounts
    celebrities: np.ndarray  # cumulative weights over popular benign accounts (camouflage)
    episodes: co.Episodes
    pairs: co.Pairs
    bursts: co.Bursts
    pool_template: np.ndarray  # (G, POOL) recycled headline templates
    pool_u: np.ndarray  # (G, POOL, SLOTS)
    leader_posts: LeaderPosts  # amplification rings and fan communities
    takeover: Takeover  # account-takeover crews
    orders: Timeline  # follower farms' orders
    stories: Timeline  # paraphrasing farms' stories

    @property
    def n(self) -> int:
        return len(self.kind)

    @property
    def n_devices(self) -> int:
        """Device numbers in use (identity slots and takeover kits)."""
        return max(int(self.identity.devices.max()), self.takeover.max_device) + 1

    @property
    def n_instruments(self) -> int:
        """Payment instrument numbers in use."""
        return max(int(self.identity.instruments.max()), self.takeover.max_instrument) + 1


def timezones(group: np.ndarray, groups: Groups, rng) -> np.ndarray:
    """Hours from UTC per account; a group shares one."""
    tz = rng.choice(TIMEZONES, len(group), p=TIMEZONE_SHARES)
    group_tz = rng.choice(TIMEZONES, max(groups.count, 1), p=TIMEZONE_SHARES)
    grouped = group >= 0
    tz[grouped] = group_tz[group[grouped]]
    return tz


def session_rates(kind, camo, config: WorldConfig, rng) -> np.ndarray:
    """Human sessions a week: heavy-tailed, zero for dormant accounts and plain farm bots."""
    rate = column("sessions")[kind] * np.exp(rng.standard_normal(len(kind)))
    dormant = (kind < N_BENIGN) & (kind != KIND["newsroom"])
    dormant &= rng.random(len(kind)) < config.dormant_share
    rate[dormant] = 0.0
    extra = (0.0, 1.0, 3.0)[config.camouflage_level]
    rate[camo] += extra * np.exp(0.5 * rng.standard_normal(int(camo.sum())))
    return rate * config.activity


def schedules(kind, group, camo, tz, config: WorldConfig, rng) -> Schedule:
    """Scheduler parameters: newsrooms on the clock, farms near-periodic, clickbait looser."""
    n = len(kind)
    period, phase, jitter = np.zeros(n), np.zeros(n), np.zeros(n)
    first, last, skip = np.zeros(n), np.full(n, 24.0), np.zeros(n)
    news = kind == KIND["newsroom"]
    period[news] = rng.choice([120, 180, 240, 360], news.sum()) * MINUTE
    phase[news] = np.floor(rng.random(news.sum()) * period[news] / (5 * MINUTE)) * 5 * MINUTE
    jitter[news], skip[news] = 20.0, 0.05
    daytime = news & (rng.random(n) >= NEWSROOM_ROUND_THE_CLOCK)
    first[daytime], last[daytime] = 6.0, 23.0
    office = np.isin(kind, [KIND["brand"], KIND["government"]])
    office &= rng.random(n) < OFFICE_SCHEDULERS
    period[office] = rng.choice([12.0, 24.0], office.sum()) * HOUR
    phase[office] = np.mod((9.0 - tz[office]) * HOUR, period[office])
    jitter[office] = 60.0
    farm = kind == KIND["fake_farm"]
    group_period = rng.uniform(1.5, 6.0, max(group.max() + 1, 1)) * HOUR
    own_period = rng.uniform(1.5, 6.0, n) * HOUR
    base = np.where(group >= 0, group_period[np.maximum(group, 0)], own_period)
    period[farm] = base[farm] * rng.uniform(0.95, 1.05, farm.sum())
    jitter[farm], skip[farm] = 45.0, 0.1
    clickbait = kind == KIND["clickbait_farm"]
    period[clickbait] = rng.uniform(2.0, 6.0, clickbait.sum()) * HOUR
    jitter[clickbait], first[clickbait], skip[clickbait] = 300.0, 7.0, 0.15
    phase[farm | clickbait] = rng.random((farm | clickbait).sum()) * period[farm | clickbait]
    agency = kind == KIND["agency_brand"]  # an agency schedules its clients' posts together
    if agency.any():  # (no draws otherwise: a world without agencies stays as it was)
        slot = rng.uniform(9.0, 11.0, max(group.max() + 1, 1))[np.maximum(group[agency], 0)]
        period[agency], jitter[agency] = DAY, 60.0
        start = (slot - tz[agency]) * HOUR + rng.uniform(0, 1200, agency.sum())
        phase[agency] = np.mod(start, DAY)
    level = config.camouflage_level
    jitter[camo] *= (1.0, 2.0, 15.0)[level]
    if level == 2:
        first[camo & farm] = 8.0
    return Schedule(period, phase, jitter, first, last, skip)


def cumulative(weights: np.ndarray) -> np.ndarray:
    """Cumulative, normalised weights for inverse-CDF sampling."""
    cum = np.cumsum(weights)
    return cum / cum[-1] if cum[-1] > 0 else np.linspace(0, 1, len(weights) + 1)[1:]


def draw(cdf: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """Indices drawn by inverse CDF; sorted queries make the search cache-friendly."""
    found = np.searchsorted(cdf, np.sort(rng.random(size)), side="right")
    return rng.permutation(np.minimum(found, len(cdf) - 1))


def archetype_plans(plan: dict, config: WorldConfig, rng) -> dict:
    """The group-level plans of the issue-12 archetypes (see archetypes.py)."""
    kind, group, groups, created = plan["kind"], plan["group"], plan["groups"], plan["created"]
    horizon, followers = plan["horizon"], plan["profile"]["followers"]
    posts = plan_leader_posts(
        kind, plan["category"], group, groups, created, followers, plan["camo"], config,
        horizon, rng,
    )  # fmt: skip
    follows = leader_follows(group, groups, posts, created, horizon, rng)
    return {
        "leader_posts": posts,
        "pairs": co.merge_pairs(plan["pairs"], follows),
        "takeover": plan_takeover(kind, group, groups, plan["identity"], config, horizon, rng),
        "orders": plan_orders(kind, plan["category"], created, groups, config, horizon, rng),
        "stories": plan_stories(groups, config, horizon, rng),
    }


def plan_world(config: WorldConfig) -> Plan:
    """Draw the population, its identifiers and all group-level coordination."""
    config.check()
    rng = np.random.default_rng(np.random.SeedSequence([config.seed, 0]))
    horizon = config.weeks * 7 * DAY
    kind = pop.assign_kinds(config, rng)
    groups = pop.form_groups(kind, config, rng)
    group = pop.group_of(len(kind), groups)
    created = pop.creation_times(kind, groups, config, rng)
    category = pop.categories(kind, rng)
    profile = pop.profile(kind, created, horizon, rng)
    bad = kind >= N_BENIGN
    camo = bad & (rng.random(len(kind)) < CAMOUFLAGED[config.camouflage_level])
    established = created < 0
    tz = timezones(group, groups, rng)
    followers = profile["followers"].astype(np.float64)
    celebrity = np.where(~bad & established, followers**1.3, 0.0)
    fields = dict(
        config=config,
        horizon=horizon,
        kind=kind,
        category=category,
        group=group,
        groups=groups,
        created=created,
        tz=tz,
        camo=camo,
        sessions=session_rates(kind, camo, config, rng),
        profile=profile,
        schedule=schedules(kind, group, camo, tz, config, rng),
        identity=build_identity(kind, category, group, groups, camo, config, rng),
        popular=cumulative(np.where(established, (followers + 1) ** 0.8, 0.0)),
        celebrities=cumulative(celebrity),
        episodes=co.plan_episodes(groups, created, kind, category, horizon, rng),
        pairs=co.plan_pairs(groups, created, horizon, rng),
        bursts=co.plan_bursts(kind, category, created, horizon, config.weeks, rng),
        **dict(zip(("pool_template", "pool_u"), co.headline_pools(groups, rng), strict=True)),
    )
    extra = np.random.default_rng(np.random.SeedSequence([config.seed, 3]))
    fields["identity"] = archetype_identity(
        fields["identity"], kind, group, groups, camo, config, extra
    )
    return Plan(**(fields | archetype_plans(fields, config, extra)))
