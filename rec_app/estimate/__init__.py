"""How long a run will take before it is launched, and when it will be done behind the queue.

Every number comes from seconds measured on this machine. `costs`: a `Profile` of what one run
of a cost signature spends on each part and `estimate`, which prices it for a config and the
load now; `queue`: the queue simulated, a running run's time left, when a launch needs a
confirmation. Profiles come from two sources, the first that applies winning: finished runs
with the same signature (`observed`), else a short `calibration` of these settings on the
target dataset, in a background process. The Train page's box around them is
`rec_app.ui.estimates`. Everything of `costs` and `queue` is importable from here.
"""

from rec_app.estimate.costs import (
    CLOSED_FORM_MODELS,
    COLD_STARTUP_S,
    TEXT_MODELS,
    WARM_STARTUP_S,
    Estimate,
    Profile,
    busy_for,
    cost_signature,
    data_key,
    encode_signature,
    estimate,
    fits_per_run,
    phase_plan,
    prior_profile,
    rescale,
    run_threads,
    train_fraction,
    validations,
    with_processes,
)
from rec_app.estimate.queue import (
    PACE_MIN_S,
    confirm_over_s,
    needs_confirmation,
    remaining_s,
    schedule,
    trained_s,
    worker_starts,
)
from rec_core.data.sizes import KNOWN_SIZES, DatasetSize, dataset_size

__all__ = [
    "CLOSED_FORM_MODELS",
    "COLD_STARTUP_S",
    "KNOWN_SIZES",
    "PACE_MIN_S",
    "TEXT_MODELS",
    "WARM_STARTUP_S",
    "DatasetSize",
    "Estimate",
    "Profile",
    "busy_for",
    "confirm_over_s",
    "cost_signature",
    "data_key",
    "dataset_size",
    "encode_signature",
    "estimate",
    "fits_per_run",
    "needs_confirmation",
    "phase_plan",
    "prior_profile",
    "remaining_s",
    "rescale",
    "run_threads",
    "schedule",
    "train_fraction",
    "trained_s",
    "validations",
    "with_processes",
    "worker_starts",
]
