"""ringwatch detection stage: scoring, reason codes, ring-grouped candidate lists, the review
report, and the composition layer every command (and benchmark) runs through.

    from detection import Settings, build_features, fit, label_features, score_base
"""

from common.exports import lazy_exports

_WHERE = {
    "Settings": "detection.settings",
    "load_settings": "detection.settings",
    "ScoreConfig": "detection.config",
    "Request": "detection.commands",
    "FeaturesRequest": "detection.commands",
    "RingsRequest": "detection.commands",
    "TrainRequest": "detection.commands",
    "ScoreRequest": "detection.commands",
    "DemoRequest": "detection.commands",
    "build_features": "detection.commands",
    "fit": "detection.commands",
    "label_features": "detection.commands",
    "score_base": "detection.pipeline",
    "ScoreResult": "detection.pipeline",
}
__all__ = sorted(_WHERE)
__getattr__, __dir__ = lazy_exports(__name__, _WHERE)
