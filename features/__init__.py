"""ringwatch features stage: the input contract and loading (features.io), behavioural and
graph features, rings, the anomaly score and the feature registry.

    from features import load_dataset, build_feature_table
    ds = load_dataset("ringwatch-demo/data")
    table = build_feature_table(ds)          # table.frame: one row per account
"""

from common.exports import lazy_exports

_WHERE = {
    "Dataset": "features.io.contract",
    "load_dataset": "features.io.load",
    "labels_known_at": "features.io.load",
    "summarise": "features.io.summary",
    "FeatureConfig": "features.config",
    "BehaviourConfig": "features.config",
    "GraphConfig": "features.config",
    "AnomalyConfig": "features.config",
    "FeatureTable": "features.pipeline",
    "build_feature_table": "features.pipeline",
    "feature_table": "features.pipeline",
    "Graphs": "features.graph",
    "build_graphs": "features.graph",
    "find_rings": "features.graph",
    "FeatureSpec": "features.spec",
    "all_specs": "features.registry",
    "describe": "features.registry",
}
__all__ = sorted(_WHERE)
__getattr__, __dir__ = lazy_exports(__name__, _WHERE)
