"""Hyperparameter search over several seeds' splits (`python -m rec_core tune`): the search
space (space.py) and the Optuna study with its multi-seed objective (study.py). Optuna is the
`tune` extra (`pip install rec-core[tune]`); importing this package does not import it."""

from rec_core.tune.space import Param, apply_params, parse_space, read_space
from rec_core.tune.study import (
    STUDIES_DIR,
    SeedResult,
    TuneSettings,
    make_objective,
    open_study,
    optimize,
    pipeline_trainer,
    study_path,
    study_record,
    study_report,
)

__all__ = [
    "STUDIES_DIR",
    "Param",
    "SeedResult",
    "TuneSettings",
    "apply_params",
    "make_objective",
    "open_study",
    "optimize",
    "parse_space",
    "pipeline_trainer",
    "read_space",
    "study_path",
    "study_record",
    "study_report",
]
