"""Typed settings of the feature stage (behaviour, graph, rings): the one place for their knobs."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class BehaviourConfig:
    """Settings of the behavioural feature builder (features.behaviour)."""

    windows_days: tuple[int, ...] = (7, 28)


@dataclass(frozen=True)
class GraphConfig:
    """Settings of the graph stage: relation graphs, shared identifiers, lockstep, rings."""

    hub_max_accounts: int = 50  # identifiers used by more accounts than this are cut as hubs


@dataclass(frozen=True)
class FeatureConfig:
    """All feature-stage settings together."""

    behaviour: BehaviourConfig = field(default_factory=BehaviourConfig)
    graph: GraphConfig = field(default_factory=GraphConfig)
