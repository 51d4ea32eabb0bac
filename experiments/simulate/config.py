"""The simulator's knobs: one frozen dataclass, every field typed, defaulted and explained."""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass, fields
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
            is_share = f.name.endswith("_share") or f.name == "label_noise"
            if is_share and not 0.0 <= value <= 1.0:
                raise UserError(f"{f.name} must be between 0 and 1 (got {value})")
        if sum(getattr(self, name) for name in BAD_MIX_FIELDS) <= 0:
            raise UserError("the abuse-kind shares must not all be zero")
        if self.newsroom_share + self.nat_share + self.bad_share > 0.9:
            raise UserError("bad_share + newsroom_share + nat_share must leave room for others")
        if self.activity <= 0 or self.label_lag_days <= 0:
            raise UserError("activity and label_lag_days must be positive")
        if self.chunk_accounts < 1_000 or self.nat_users_per_ip < 1:
            raise UserError("chunk_accounts must be >= 1000 and nat_users_per_ip >= 1")
        return self

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
