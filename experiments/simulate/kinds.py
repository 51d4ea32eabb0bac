"""Account kinds, categories and actions, with the per-kind numbers that shape behaviour."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from features.io.contract import CORE_ACTIONS

#: Benign kinds: the five plain categories, then confounders and look-alikes of abuse (fans
#: reacting to a celebrity within minutes, brands an agency runs from one office, families
#: sharing a tablet).
BENIGN_KINDS = (
    "individual",
    "brand",
    "media",
    "government",
    "creator",
    "newsroom",
    "nat_user",
    "fan",
    "agency_brand",
    "family",
)
#: Bad kinds: the original five, then the archetypes of issue 12 (see archetypes.py for each
#: one's source): aged-account amplification rings, account-takeover crews, device-pool
#: follower farms and their customers, paraphrasing content farms.
BAD_KINDS = (
    "fake_farm",
    "card_fraud",
    "clickbait_farm",
    "porn",
    "violence",
    "aged_amplifier",
    "account_takeover",
    "follower_farm",
    "follower_customer",
    "paraphrase_farm",
)
KINDS = BENIGN_KINDS + BAD_KINDS
KIND = {name: code for code, name in enumerate(KINDS)}
N_BENIGN = len(BENIGN_KINDS)

CATEGORIES = ("individual", "brand", "media", "government", "creator")
CATEGORY = {name: code for code, name in enumerate(CATEGORIES)}

#: Plain benign accounts (not confounders) by category: individual, brand, media, gov, creator.
PLAIN_MIX = (0.62, 0.12, 0.06, 0.03, 0.17)

#: Moderators' reason for closing each bad kind.
REASON = {
    "fake_farm": "fake",
    "card_fraud": "card_fraud",
    "clickbait_farm": "clickbait",
    "porn": "porn",
    "violence": "violence",
    "aged_amplifier": "fake",
    "account_takeover": "account_takeover",
    "follower_farm": "fake",
    "follower_customer": "bought_followers",
    "paraphrase_farm": "clickbait",
}

ACTIONS = CORE_ACTIONS
ACTION = {name: code for code, name in enumerate(ACTIONS)}

#: Actions a human session draws from (login is added at session starts), in this order.
SESSION_ACTIONS = np.array(
    [ACTION[a] for a in ("post", "like", "comment", "share", "follow", "profile_edit")],
    dtype=np.int8,
)


@dataclass(frozen=True)
class KindSpec:
    """How accounts of one kind look and behave when acting like humans."""

    categories: tuple[float, ...]  # shown category probabilities (order of CATEGORIES)
    verified: float  # probability of being verified
    followers: tuple[float, float]  # follower count: lognormal median, sigma
    following: tuple[float, float]  # accounts followed: lognormal median, sigma
    completeness: tuple[float, float]  # profile completeness: beta(a, b)
    sessions: float  # median human sessions a week (lognormal, sigma 1)
    session_len: float  # mean events in a session
    mix: tuple[float, ...]  # post, like, comment, share, follow, profile_edit
    style: str  # headline style of its posts (see words.STYLES)
    profile: str  # daily rhythm (see HOURS)
    card: float  # probability of owning a payment instrument (benign payers)


SPECS: dict[str, KindSpec] = {
    "individual": KindSpec(
        (1, 0, 0, 0, 0),
        0.01,
        (150, 1.3),
        (120, 1.0),
        (4, 3),
        1.3,
        3.0,
        (0.12, 0.45, 0.15, 0.12, 0.15, 0.01),
        "personal",
        "personal",
        0.05,
    ),
    "brand": KindSpec(
        (0, 1, 0, 0, 0),
        0.30,
        (8000, 1.8),
        (60, 1.2),
        (8, 2),
        2.0,
        3.0,
        (0.35, 0.25, 0.15, 0.15, 0.08, 0.02),
        "brand",
        "office",
        0.8,
    ),
    "media": KindSpec(
        (0, 0, 1, 0, 0),
        0.40,
        (20000, 1.8),
        (40, 1.2),
        (8, 2),
        2.8,
        3.0,
        (0.45, 0.15, 0.10, 0.20, 0.08, 0.02),
        "news",
        "office",
        0.5,
    ),
    "government": KindSpec(
        (0, 0, 0, 1, 0),
        0.60,
        (15000, 1.5),
        (30, 1.0),
        (9, 2),
        1.2,
        2.5,
        (0.40, 0.20, 0.10, 0.20, 0.08, 0.02),
        "notice",
        "office",
        0.2,
    ),
    "creator": KindSpec(
        (0, 0, 0, 0, 1),
        0.10,
        (3000, 1.8),
        (300, 1.0),
        (6, 2),
        2.4,
        3.5,
        (0.30, 0.30, 0.20, 0.10, 0.08, 0.02),
        "personal",
        "personal",
        0.4,
    ),
    "newsroom": KindSpec(
        (0, 0, 1, 0, 0),
        0.50,
        (30000, 1.5),
        (40, 1.0),
        (8, 2),
        1.5,
        2.5,
        (0.20, 0.20, 0.10, 0.40, 0.08, 0.02),
        "news",
        "office",
        0.6,
    ),
    "nat_user": KindSpec(
        (1, 0, 0, 0, 0),
        0.005,
        (120, 1.2),
        (120, 1.0),
        (4, 3),
        1.3,
        3.0,
        (0.12, 0.45, 0.15, 0.12, 0.15, 0.01),
        "personal",
        "personal",
        0.05,
    ),
    "fake_farm": KindSpec(
        (0.5, 0.2, 0, 0, 0.3),
        0.002,
        (80, 1.0),
        (800, 0.8),
        (3, 4),
        0.0,
        3.0,
        (0.10, 0.45, 0.05, 0.10, 0.30, 0.0),
        "farm",
        "personal",
        0.0,
    ),
    "card_fraud": KindSpec(
        (0.3, 0.7, 0, 0, 0),
        0.0,
        (30, 1.0),
        (50, 1.0),
        (5, 3),
        2.0,
        3.0,
        (0.30, 0.30, 0.10, 0.10, 0.20, 0.0),
        "shop",
        "night",
        0.0,
    ),
    "clickbait_farm": KindSpec(
        (0, 0, 0.6, 0, 0.4),
        0.002,
        (2000, 1.5),
        (200, 1.0),
        (4, 3),
        2.0,
        3.0,
        (0.40, 0.20, 0.0, 0.30, 0.10, 0.0),
        "clickbait",
        "personal",
        0.0,
    ),
    "porn": KindSpec(
        (0.3, 0, 0, 0, 0.7),
        0.0,
        (800, 1.5),
        (300, 1.0),
        (3, 3),
        5.0,
        3.5,
        (0.50, 0.20, 0.10, 0.10, 0.10, 0.0),
        "porn",
        "night",
        0.0,
    ),
    "violence": KindSpec(
        (0.5, 0, 0.2, 0, 0.3),
        0.0,
        (200, 1.3),
        (150, 1.0),
        (2, 4),
        4.0,
        3.5,
        (0.45, 0.15, 0.15, 0.15, 0.10, 0.0),
        "violence",
        "personal",
        0.0,
    ),
}


#: The kinds of issue 12, one line each (fields in KindSpec order).
SPECS |= {
    "fan": KindSpec((1, 0, 0, 0, 0), 0.005, (150, 1.2), (200, 1.0), (4, 3), 2.0, 3.0,
                    (0.08, 0.50, 0.20, 0.12, 0.09, 0.01), "personal", "personal", 0.05),
    "agency_brand": KindSpec((0, 1, 0, 0, 0), 0.15, (5000, 1.6), (60, 1.2), (8, 2), 1.5, 3.0,
                             (0.35, 0.25, 0.15, 0.15, 0.08, 0.02), "brand", "office", 0.8),
    "family": KindSpec((1, 0, 0, 0, 0), 0.005, (120, 1.2), (120, 1.0), (4, 3), 1.5, 3.0,
                       (0.12, 0.45, 0.15, 0.12, 0.15, 0.01), "personal", "personal", 0.05),
    "aged_amplifier": KindSpec((0.6, 0, 0.1, 0, 0.3), 0.0, (300, 1.3), (400, 1.0), (5, 3), 2.0,
                               3.0, (0.15, 0.40, 0.20, 0.15, 0.09, 0.01), "personal",
                               "personal", 0.0),
    "account_takeover": KindSpec((0.8, 0, 0, 0, 0.2), 0.02, (200, 1.3), (150, 1.0), (4, 3), 1.3,
                                 3.0, (0.12, 0.45, 0.15, 0.12, 0.15, 0.01), "personal",
                                 "personal", 0.05),
    "follower_farm": KindSpec((0.7, 0, 0, 0, 0.3), 0.0, (20, 1.0), (900, 0.8), (2, 5), 0.0, 3.0,
                              (0.05, 0.45, 0.0, 0.05, 0.45, 0.0), "farm", "personal", 0.0),
    "follower_customer": KindSpec((0.3, 0.4, 0, 0, 0.3), 0.02, (4000, 1.5), (150, 1.0), (6, 2),
                                  2.0, 3.0, (0.35, 0.25, 0.15, 0.15, 0.08, 0.02), "brand",
                                  "personal", 0.5),
    "paraphrase_farm": KindSpec((0, 0, 0.6, 0, 0.4), 0.0, (1500, 1.5), (200, 1.0), (5, 3), 1.5,
                                3.0, (0.30, 0.25, 0.05, 0.30, 0.10, 0.0), "clickbait",
                                "personal", 0.0),
}  # fmt: skip


def column(attribute: str, index: int | None = None, dtype: type = np.float64) -> np.ndarray:
    """One KindSpec field as an array indexed by kind code (element `index` of tuple fields)."""
    values = [getattr(SPECS[k], attribute) for k in KINDS]
    if index is not None:
        values = [v[index] for v in values]
    return np.asarray(values, dtype=dtype)


def matrix(attribute: str) -> np.ndarray:
    """A tuple-valued KindSpec field as a (kinds, len) float array."""
    return np.asarray([getattr(SPECS[k], attribute) for k in KINDS], dtype=np.float64)
