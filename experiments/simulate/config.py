"""The simulator's knobs: one frozen dataclass, every field typed, defaulted and explained."""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime
from typing import Literal

from common.errors import UserError

Camouflage = Literal["none", "light", "heavy"]
CAMOUFLAGE_LEVELS: tuple[str, ...] = ("none", "light", "heavy")

#: Shares of the bad accounts taken by each abuse kind, in this order.
BAD_MIX_FIELDS = (
    "fake_farm_share",
    "card_fraud_share",
    "clickbait_share",
    "porn_share",
    "violence_share",
    "amplifier_share",
    "takeover_share",
    "follower_farm_share",
    "follower_customer_share",
    "paraphrase_share",
)
#: Shares of all accounts taken by the benign look-alikes of abuse (issue 12).
LOOKALIKE_FIELDS = ("fan_share", "agency_share", "family_share")
#: Group size ranges (low, high), each a knob.
SIZE_FIELDS = (
    "amplifier_sizes",
    "takeover_sizes",
    "follower_farm_sizes",
    "paraphrase_sizes",
    "fan_sizes",
    "agency_sizes",
    "family_sizes",
)


@dataclass(frozen=True)
class WorldConfig:
    """Size, composition and randomness of a simulated platform (defaults: the demo world)."""

    accounts: int = 20_000  # number of accounts in the world
    weeks: int = 4  # length of the observed event window, in weeks
    seed: int = 7  # random seed: the same config and seed give the same bytes
    start: datetime = datetime(2024, 1, 1, tzinfo=UTC)  # first instant of the window (UTC)
    activity: float = 1.0  # multiplier on human-like activity (sessions, payments, camouflage)
    bad_share: float = 0.05  # share of accounts that are bad (any abuse kind)
    fake_farm_share: float = 0.40  # share of bad accounts in fake-account farms
    card_fraud_share: float = 0.15  # share of bad accounts in card-fraud rings
    clickbait_share: float = 0.25  # share of bad accounts in clickbait content farms
    porn_share: float = 0.10  # share of bad accounts posting pornography
    violence_share: float = 0.10  # share of bad accounts posting violence
    solo_share: float = 0.10  # share of farm/fraud/clickbait accounts acting alone (no ring)
    content_ring_share: float = 0.15  # share of porn/violence accounts in small rings
    new_ring_share: float = 0.35  # share of rings created inside the window
    newsroom_share: float = 0.03  # share of accounts in benign newsroom groups (confounder)
    nat_share: float = 0.06  # share of accounts behind public NAT IPs (confounder)
    nat_users_per_ip: int = 400  # mean number of NAT users sharing one public IP
    household_share: float = 0.08  # share of individuals sharing a home IP with 1-4 others
    dormant_share: float = 0.05  # share of benign accounts with no events in the window
    camouflage: Camouflage = "light"  # how hard bad accounts imitate benign ones
    labelled_share: float = 0.5  # share of bad accounts moderators have labelled 1
    cleared_share: float = 0.03  # share of benign accounts reviewed and cleared (label 0)
    label_noise: float = 0.015  # share of labels that are wrong (both directions)
    label_lag_days: float = 7.0  # median days from the start of abuse to a moderator's label
    chunk_accounts: int = 50_000  # accounts whose events are generated (and written) together
    # archetypes of issue 12 (sources in experiments/simulate/archetypes.py); bad-mix shares
    # are relative to the five above, which sum to 1
    amplifier_share: float = 0.10  # bad-mix share: aged bought accounts amplifying a leader
    amplifier_sizes: tuple[int, int] = (8, 30)  # members of one amplification ring (leader too)
    amplifier_posts_per_day: float = 2.0  # leader posts a day that the ring amplifies
    amplifier_participation: float = 0.7  # chance a member amplifies one leader post
    amplifier_delay_minutes: float = 4.0  # median minutes from a leader post to an amplification
    amplifier_device_share: float = 0.4  # share of members also using one of the ring's devices
    takeover_share: float = 0.08  # bad-mix share: old benign accounts taken over by crews
    takeover_sizes: tuple[int, int] = (3, 12)  # accounts one takeover crew holds
    takeover_days: float = 5.0  # takeovers happen within this many last days of the window
    takeover_payments: float = 3.0  # mean payments made from one taken-over account
    takeover_chargeback_share: float = 0.3  # share of those payments charged back (days later)
    follower_farm_share: float = 0.10  # bad-mix share: device-pool follower farms
    follower_customer_share: float = 0.04  # bad-mix share: accounts that bought followers
    follower_farm_sizes: tuple[int, int] = (20, 80)  # accounts one follower farm runs
    follower_orders_per_day: float = 1.0  # follower orders one farm delivers a day
    follower_farm_devices: int = 4  # most phones a farm runs all its accounts on
    paraphrase_share: float = 0.08  # bad-mix share: content farms posting paraphrased stories
    paraphrase_sizes: tuple[int, int] = (6, 25)  # accounts of one paraphrasing farm
    paraphrase_stories_per_day: float = 3.0  # stories a farm rewrites and posts a day
    paraphrase_participation: float = 0.6  # chance a member posts its version of one story
    fan_share: float = 0.03  # share of accounts in fan communities around a celebrity
    fan_sizes: tuple[int, int] = (40, 300)  # fans of one celebrity
    fan_posts_per_day: float = 1.5  # celebrity posts a day the fans react to
    fan_reaction_share: float = 0.12  # mean chance a fan reacts to one post (beta per fan)
    fan_delay_minutes: float = 3.0  # median minutes from a celebrity post to a fan's reaction
    agency_share: float = 0.01  # share of accounts: brands run by agencies from one office
    agency_sizes: tuple[int, int] = (5, 30)  # brands one agency runs
    agency_card_share: float = 0.7  # share of agencies paying clients' ads with agency cards
    family_share: float = 0.03  # share of accounts in families sharing a tablet
    family_sizes: tuple[int, int] = (2, 5)  # members of one family
    family_tablet_share: float = 0.4  # share of a member's sessions on the family tablet

    def check(self) -> WorldConfig:
        """Raise UserError naming the first knob out of range; return self when all are fine."""
        if self.accounts < 100:
            raise UserError(f"--accounts must be at least 100 (got {self.accounts})")
        if not 1 <= self.weeks <= 104:
            raise UserError(f"--weeks must be between 1 and 104 (got {self.weeks})")
        if self.camouflage not in CAMOUFLAGE_LEVELS:
            levels = ", ".join(CAMOUFLAGE_LEVELS)
            raise UserError(f"--camouflage must be one of {levels} (got {self.camouflage})")
        if self.start.tzinfo is None:
            raise UserError("start must be a timezone-aware (UTC) datetime")
        for f in fields(self):
            value = getattr(self, f.name)
            is_share = f.name.endswith(("_share", "_participation")) or f.name == "label_noise"
            if is_share and not 0.0 <= value <= 1.0:
                raise UserError(f"{f.name} must be between 0 and 1 (got {value})")
        if sum(getattr(self, name) for name in BAD_MIX_FIELDS) <= 0:
            raise UserError("the abuse-kind shares must not all be zero")
        special = self.newsroom_share + self.nat_share + self.bad_share
        if special + sum(getattr(self, name) for name in LOOKALIKE_FIELDS) > 0.9:
            raise UserError(
                "bad_share, newsroom_share, nat_share and the look-alike shares "
                "must leave room for others"
            )
        for name in SIZE_FIELDS:
            low, high = getattr(self, name)
            if not 2 <= low <= high:
                raise UserError(f"{name} must be (low, high) with 2 <= low <= high")
        if self.activity <= 0 or self.label_lag_days <= 0:
            raise UserError("activity and label_lag_days must be positive")
        if self.chunk_accounts < 1_000 or self.nat_users_per_ip < 1:
            raise UserError("chunk_accounts must be >= 1000 and nat_users_per_ip >= 1")
        rates = ("amplifier_posts_per_day", "follower_orders_per_day", "fan_posts_per_day")
        rates += ("paraphrase_stories_per_day", "takeover_payments", "takeover_days")
        rates += ("amplifier_delay_minutes", "fan_delay_minutes")
        if any(getattr(self, name) < 0 for name in rates) or self.follower_farm_devices < 1:
            raise UserError(f"{', '.join(rates)} must not be negative; follower_farm_devices >= 1")
        return self

    def only_original_kinds(self) -> WorldConfig:
        """This world without the issue-12 archetypes and look-alikes (the world before them)."""
        zero = dict.fromkeys((*BAD_MIX_FIELDS[5:], *LOOKALIKE_FIELDS), 0.0)
        return replace(self, **zero)

    @property
    def camouflage_level(self) -> int:
        """0 (none), 1 (light) or 2 (heavy)."""
        return CAMOUFLAGE_LEVELS.index(self.camouflage)


def knobs_markdown() -> str:
    """The knobs as a Markdown table (name, default, meaning), read from this class's comments."""
    pattern = re.compile(r"^\s+(\w+): [^=]+= (.+?)\s+# (.+)$")
    rows = ["| knob | default | meaning |", "|---|---|---|"]
    for line in inspect.getsource(WorldConfig).splitlines():
        match = pattern.match(line)
        if match:
            name, default, meaning = match.groups()
            rows.append(f"| `{name}` | `{default}` | {meaning} |")
    return "\n".join(rows)
