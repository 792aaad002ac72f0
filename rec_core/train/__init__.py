"""Training: BPR batches, Adam, early stopping on validation, callbacks."""

from rec_core.train.sampling import NegativeSampler
from rec_core.train.trainer import FitResult, TrainConfig, Trainer, TrainingDiverged, resolve_device

__all__ = ["FitResult", "NegativeSampler", "TrainConfig", "Trainer", "TrainingDiverged", "resolve_device"]
