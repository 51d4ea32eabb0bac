"""ringwatch training stage: LightGBM models with calibration and per-reason heads, leak-free
splits and out-of-fold label features, evaluation, MLflow tracking and the model registry.

    from training import TrainConfig, fit_model
    fitted = fit_model(table.frame, ds.labels, table.rings.components, TrainConfig(), table.graphs)
"""

from common.exports import lazy_exports

_WHERE = {
    "TrainConfig": "training.config",
    "SplitConfig": "training.config",
    "ModelConfig": "training.config",
    "load_train_config": "training.config",
    "FitResult": "training.fit",
    "fit_model": "training.fit",
    "RingwatchModel": "training.model",
    "TrainResult": "training.run",
    "train_run": "training.run",
    "RunRequest": "training.run",
    "TrainData": "training.run",
    "load_model": "training.registry",
    "register": "training.registry",
    "promote": "training.registry",
    "PromotionRefused": "training.registry",
}
__all__ = sorted(_WHERE)
__getattr__, __dir__ = lazy_exports(__name__, _WHERE)
