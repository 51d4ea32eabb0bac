"""Typed settings of the feature stage (behaviour, graph, rings): the one place for their knobs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from common.settings import build


@dataclass(frozen=True)
class BehaviourConfig:
    """Settings of the behavioural feature builder (features.behaviour)."""

    windows_days: tuple[int, ...] = (7, 28)  # recent-activity windows (column names follow)
    burst_window_s: int = 60  # a tight burst: at least burst_min_events within this many seconds
    burst_min_events: int = 5
    night_hours: tuple[int, int] = (0, 6)  # UTC hours [start, end) counted as night
    period_tolerance: float = 0.1  # inter-post gaps within ±10 % of the median count as regular
    novelty_days: int = 7  # the recent window that change and novelty features compare with
    n_buckets: int = 0  # account-hash buckets processed one at a time; 0 = auto from event count
    bucket_events: int = 12_000_000  # auto mode: about this many events per bucket
    spill_chunk_events: int = 3_000_000  # lazy input: rows read per slice when spilling buckets


@dataclass(frozen=True)
class GraphConfig:
    """Settings of the graph stage: relation graphs, shared identifiers, lockstep, rings."""

    # explicit relations (edges table)
    relations: tuple[str, ...] = ("follows", "interacts")  # relations with their own columns
    binding_relations: tuple[str, ...] = ("same_phone",)  # relations that are identity links
    # shared identifiers (events.device / ip / instrument)
    hub_max_accounts: int = 50  # identifiers used by more accounts than this are cut as hubs
    # lockstep (SynchroTrap/CopyCatch): same target, same time window, again and again
    lockstep_actions: tuple[str, ...] = ("follow", "like", "share", "comment")  # acts compared
    lockstep_window_s: int = 600  # width of a time bucket, in seconds
    lockstep_bucket_cap: int = 50  # (target, window) buckets with more accounts are dropped
    lockstep_min_repeat: int = 3  # a pair must share at least this many buckets to link
    lockstep_min_weight: float = 0.9  # and their summed weights 1/log(target popularity + c)
    # kernels
    pagerank_alpha: float = 0.85  # PageRank damping factor
    pagerank_tol: float = 1e-8  # stop when the L1 change of the rank vector is below this
    pagerank_max_iter: int = 100  # PageRank iteration cap
    trust_steps: int = 0  # SybilRank power-iteration steps; 0 = ceil(log2(accounts))
    # GADBench graph-tree aggregates: behaviour columns whose neighbour mean/max are taken
    neighbour_columns: tuple[str, ...] = ()  # empty = DEFAULT_NEIGHBOUR_COLUMNS (graph/specs.py)
    # and the accounts table's own numbers (followers, verified and every attribute column)
    # over explicit-relation neighbours: 4 columns per attribute (n x 4 floats each in memory)
    neighbour_attributes: bool = True
    # rings: FRAUDAR peeling of candidate components, then acceptance of the dense cores
    fraudar_c: float = 5.0  # column weight 1 / log(accounts using the key + c) (FRAUDAR: 5; >= 1)
    # ring candidates: every binding relation, each pair weighted by exclusivity (FRAUDAR's
    # 1 / log(d + c) per shared key, summed, times the kind's scale); a pair links when its
    # strength reaches ring_pair_min_weight (0.25: any one non-hub device or instrument).
    # Addresses are shared by design (NAT, carrier pools, offices, households) and following
    # back is ordinary social life, so IPs and mutual relations count half: alone they link
    # only accounts with very few of them; beside other keys they add up.
    ring_link_kinds: tuple[str, ...] = (
        "device",
        "ip",
        "instrument",
        "novelty",
        "relation",
        "lockstep",
        "mutual",
    )
    ring_ip_scale: float = 0.5  # an IP's exclusivity weight counts this much (others: 1)
    ring_mutual_scale: float = 0.5  # and a mutual relation's
    ring_pair_min_weight: float = 0.25
    # co-timed novelty (account takeover crews): identifiers an account picks up after this
    # much history of its own in the data, this long after registration, that the base had
    # not seen before, adopted by two or more accounts within the window
    novelty_identifiers: tuple[str, ...] = ("device", "ip")
    novelty_history_days: float = 7.0
    novelty_min_age_days: float = 30.0
    novelty_window_days: float = 3.0
    ring_max_blocks: int = 200  # most FRAUDAR blocks peeled out of one component (densest first)
    ring_merge_share: float = 0.5  # a later block joins a ring holding this share of its links
    ring_min_size: int = 3  # fewest accounts in a ring
    ring_min_density: float = 0.0  # lowest FRAUDAR density g of a ring's core
    ring_kind_min_coverage: float = 0.5  # a binding kind counts when it binds this share of a ring
    ring_burst_share: float = 0.8  # registration burst: this share of the members was created
    ring_burst_hours: float = 24.0  # within this many hours
    ring_max_verified_share: float = 0.2  # candidates with more verified members are organisations
    # established accounts: more accounts outside every candidate component (so not bought
    # follows from farms) follow or interact with them than with this share of the base
    ring_audience_quantile: float = 0.8
    ring_max_established_share: float = 0.5  # a candidate whose only fabrication evidence is
    # a registration burst is an organisation, not a ring, when this share is established
    ring_example_targets: int = 5  # lockstep targets listed as evidence per ring
    ring_max_identifiers: int = 25  # shared identifiers listed as evidence per ring (most shared)
    # ring verdict: "learned" (a ring scorer trained from labelled members, features.graph.
    # verdict), "rules" (the hand-written verdict of features.graph.evidence; comparison only)
    ring_verdict: str = "learned"
    ring_report_score: float = 0.5  # a candidate is reported when its ring score reaches this
    ring_folds: int = 5  # ring-aware folds of the out-of-fold ring scores
    # structural ring scorer, chosen per fold by leave-one-shape-out cross-validation
    # (features.graph.ring_scorer): weights of an unlabelled candidate as a negative, leaf
    # sizes and numbers of trees tried
    ring_unlabelled_weights: tuple[float, ...] = (0.0, 0.05, 0.2)
    ring_unlabelled_cost: float = 0.2  # weight of an unlabelled candidate scored as benign there
    ring_scorer_leaves: tuple[int, ...] = (2, 8)
    ring_scorer_trees: tuple[int, ...] = (60,)
    # Beta priors (a, b) of the share of a ring's labelled members that are bad: a ring's
    # (mean 0.8: customers and mislabels among them) and a benign group's (mean 0.05: label
    # noise); the ring's labelled members update its structural score by their likelihoods
    ring_bad_members: tuple[float, float] = (4.0, 1.0)
    ring_benign_members: tuple[float, float] = (1.0, 19.0)
    ring_density_half: float = 1.0  # unsupervised score: density part g / (g + this)


@dataclass(frozen=True)
class AnomalyConfig:
    """Settings of the unsupervised anomaly score (features.anomaly: an isolation forest)."""

    enabled: bool = True
    n_estimators: int = 100  # trees in the forest (the paper's default)
    max_samples: int = 256  # accounts drawn per tree (the paper's default; fixes the score scale)
    fit_rows: int = 200_000  # the forest is fit on a seeded sample of at most this many accounts
    seed: int = 7


@dataclass(frozen=True)
class FeatureConfig:
    """All feature-stage settings together."""

    behaviour: BehaviourConfig = field(default_factory=BehaviourConfig)
    graph: GraphConfig = field(default_factory=GraphConfig)
    anomaly: AnomalyConfig = field(default_factory=AnomalyConfig)


def feature_config_of(stored: dict[str, Any] | None) -> FeatureConfig:
    """The feature settings saved with a model (`model.info["features"]`; None: defaults)."""
    return (
        FeatureConfig() if stored is None else build(FeatureConfig, stored, "the model's settings")
    )
