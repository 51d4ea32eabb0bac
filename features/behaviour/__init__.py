"""Behavioural features: activity, timing, identity, social, money, reports and content.

`build_behaviour_features` is the stage's entry point; `account_buckets` is the stable
account-hash bucketing.
"""

from features.behaviour.buckets import account_buckets
from features.behaviour.build import build_behaviour_features

__all__ = ["account_buckets", "build_behaviour_features"]
