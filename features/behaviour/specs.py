"""The behavioural features: name, plain description, unit and stage of every output column.

The column set is fixed (it does not depend on the data): per-action counts exist for every
core action of the contract, whether or not the data holds any. `behaviour_specs(windows)`
gives the specs for the configured activity windows (features.registry gathers them).
"""

from __future__ import annotations

from features.behaviour.seam import ACTIONS
from features.config import BehaviourConfig
from features.spec import FeatureSpec

STAGE = "behaviour"
Row = tuple[str, str, str, bool]  # name, description, unit, integer-valued


def activity_rows(windows: tuple[int, ...]) -> list[Row]:
    """Counts per action and window, activity span, age."""
    rows: list[Row] = [("events_total", "events of any kind up to the snapshot", "events", True)]
    rows += [
        (f"events_{w}d", f"events of any kind in the last {w} days", "events", True)
        for w in windows
    ]
    for action in ACTIONS:
        rows.append((f"n_{action}", f"'{action}' events up to the snapshot", "events", True))
        rows += [
            (f"n_{action}_{w}d", f"'{action}' events in the last {w} days", "events", True)
            for w in windows
        ]
    rows += [
        ("n_other_actions", "events whose action is not one of the core actions", "events", True),
        ("active_days", "distinct UTC days with at least one event", "days", True),
        ("events_per_active_day", "events per active day", "events/day", False),
        ("days_since_first_event", "days from the first event to the snapshot", "days", False),
        ("days_since_last_event", "days from the last event to the snapshot", "days", False),
        ("account_age_days", "days from account creation to the snapshot", "days", False),
        ("first_post_age_days", "account age when it first posted", "days", False),
    ]
    return rows


TIMING: list[Row] = [
    ("iet_mean_s", "mean time between consecutive events", "seconds", False),
    ("iet_cv", "coefficient of variation of the times between events (std/mean)", "ratio", False),
    (
        "iet_burstiness",
        "burstiness (σ−μ)/(σ+μ) of times between events: −1 clockwork, 0 random, →1 bursty",
        "ratio",
        False,
    ),
    ("iet_entropy_bits", "entropy of log2-binned times between events", "bits", False),
    ("hour_entropy_bits", "entropy of the UTC hour-of-day of events (max 4.58)", "bits", False),
    ("night_share", "share of events in the night hours (UTC, default 00-06)", "share", False),
    ("weekday_share", "share of events on Monday to Friday (UTC)", "share", False),
    (
        "burst_share",
        "share of events inside tight bursts (≥ 5 events within 60 s by default)",
        "share",
        False,
    ),
    (
        "max_events_in_burst_window",
        "most events in any burst window (60 s by default)",
        "events",
        True,
    ),
    (
        "post_period_s",
        "median time between consecutive posts (the posting period)",
        "seconds",
        False,
    ),
    (
        "post_periodicity",
        "share of gaps between posts within ±10 % of the median gap (1 = clockwork bot)",
        "share",
        False,
    ),
]


def identity_rows(prefix: str, what: str) -> list[Row]:
    """Spread and crowding of one kind of identifier."""
    return [
        (f"n_{prefix}s", f"distinct {what}s used", "count", True),
        (
            f"top_{prefix}_share",
            f"share of {what}-tagged events from the top {what}",
            "share",
            False,
        ),
        (f"events_per_{prefix}", f"{what}-tagged events per distinct {what}", "events", False),
        (
            f"{prefix}_crowding_max",
            f"most other accounts sharing one of its {what}s (0 if none)",
            "accounts",
            True,
        ),
        (
            f"{prefix}_crowding_mean",
            f"mean number of other accounts sharing each of its {what}s (0 if none)",
            "accounts",
            False,
        ),
    ]


SOCIAL: list[Row] = [
    ("follows_given", "distinct known accounts it follows", "accounts", True),
    ("follows_received", "distinct known accounts following it (follow events)", "accounts", True),
    ("follow_back_ratio", "share of the accounts it follows that follow it back", "share", False),
    (
        "followers_per_day",
        "followers (accounts table) per day of account age",
        "followers/day",
        False,
    ),
    (
        "engage_distinct_targets",
        "distinct targets of its likes, comments and shares",
        "count",
        True,
    ),
    (
        "engage_top_target_share",
        "share of its likes/comments/shares on the top target",
        "share",
        False,
    ),
    (
        "engage_target_hhi",
        "Herfindahl concentration of likes/comments/shares over targets (1 = one target)",
        "ratio",
        False,
    ),
]
MONEY: list[Row] = [
    ("payment_total", "sum of payment amounts", "amount", False),
    ("payment_mean", "mean payment amount", "amount", False),
    ("payment_max", "largest payment amount", "amount", False),
    ("payment_std", "standard deviation of payment amounts", "amount", False),
    ("chargeback_rate", "chargebacks per payment", "ratio", False),
]
REPORTS: list[Row] = [
    ("report_days", "distinct UTC days on which it was reported", "days", True),
    ("reports_per_post", "reports received per post", "ratio", False),
]
CONTENT: list[Row] = [
    ("headlines", "posts with a non-blank headline", "posts", True),
    ("headline_empty_share", "share of posts without a headline", "share", False),
    ("headline_len_mean", "mean headline length", "characters", False),
    (
        "headline_caps_share",
        "share of headline characters that are capital letters",
        "share",
        False,
    ),
    ("headline_digit_share", "share of headline characters that are digits", "share", False),
    ("headline_exclaim_mean", "exclamation marks per headline", "marks", False),
    ("headline_question_mean", "question marks per headline", "marks", False),
    ("clickbait_hits_mean", "clickbait-lexicon phrases per headline", "phrases", False),
    ("clickbait_share", "share of headlines with a clickbait-lexicon phrase", "share", False),
    ("headline_unique_ratio", "distinct headline signatures per headline", "ratio", False),
    (
        "headline_dup_other_share",
        "share of its headlines whose normalised signature another account also posted",
        "share",
        False,
    ),
]

NOVELTY: list[Row] = [
    *(
        (
            f"new_{prefix}_share",
            f"share of its {what}-tagged events in the last {{days}} days on {what}s it never "
            "used before (null without earlier events)",
            "share",
            False,
        )
        for prefix, what in (("device", "device"), ("ip", "IP"), ("instrument", "instrument"))
    ),
    *(
        (
            f"new_{prefix}_sharers",
            f"most other accounts with earlier events that also first used one of its new "
            f"{what}s in the last {{days}} days (0 if none)",
            "accounts",
            True,
        )
        for prefix, what in (("device", "device"), ("ip", "IP"), ("instrument", "instrument"))
    ),
    (
        "new_action_share",
        "share of its events in the last {days} days of actions it never took before "
        "(null without earlier events)",
        "share",
        False,
    ),
    (
        "activity_change_ratio",
        "events per day in the last {days} days over events per day before them "
        "(null without earlier events)",
        "ratio",
        False,
    ),
    ("days_since_first_payment", "days from its first payment to the snapshot", "days", False),
    (
        "history_days_before_payment",
        "days from its first event to its first payment (a first payment after a long history)",
        "days",
        False,
    ),
    (
        "edit_to_payment_hours",
        "shortest time from a profile edit to a payment at or after it",
        "hours",
        False,
    ),
]


def novelty_rows(days: int) -> list[Row]:
    """Change and novelty against the account's own past, for a recent window of `days`."""
    return [(name, text.format(days=days), unit, integer) for name, text, unit, integer in NOVELTY]


def families(
    windows: tuple[int, ...], novelty_days: int = BehaviourConfig().novelty_days
) -> list[tuple[str, list[Row]]]:
    """Every behavioural column in output order, grouped by what it describes."""
    identity: list[Row] = []
    for prefix, what in (("device", "device"), ("ip", "IP"), ("instrument", "payment instrument")):
        identity += identity_rows(prefix, what)
    return [
        ("activity", activity_rows(windows)),
        ("timing", TIMING),
        ("identity", identity),
        ("social", SOCIAL),
        ("money", MONEY),
        ("reports", REPORTS),
        ("content", CONTENT),
        ("novelty", novelty_rows(novelty_days)),
    ]


def rows(windows: tuple[int, ...], novelty_days: int = BehaviourConfig().novelty_days) -> list[Row]:
    """Every behavioural column in output order."""
    return [row for _, group in families(windows, novelty_days) for row in group]


def behaviour_specs(
    windows: tuple[int, ...], novelty_days: int = BehaviourConfig().novelty_days
) -> tuple[FeatureSpec, ...]:
    """The registry entries for the given activity windows and novelty window."""
    return tuple(
        FeatureSpec(name, text, unit, STAGE, family)
        for family, group in families(windows, novelty_days)
        for name, text, unit, _ in group
    )


def integer_columns(windows: tuple[int, ...]) -> frozenset[str]:
    """Integer-valued columns (Int64; 0 for accounts without events)."""
    return frozenset(name for name, _, _, integer in rows(windows) if integer)
