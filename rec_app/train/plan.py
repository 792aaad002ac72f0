"""What a click on the Train page's Estimate or Launch decides, as plain functions.

`plan_launch` turns the form's config dict and fields into the runs to queue (one per seed,
each warm start's MF source, the equal-budget controls) or raises the `RecCoreError` the page
shows; `launch_gate` says whether a Launch must wait for a confirmation, given the estimate.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from rec_app.estimate.queue import needs_confirmation
from rec_app.i18n import t
from rec_app.train.form_checks import check_backbone_depth
from rec_app.train.launch import (
    build_configs,
    check_launch_processes,
    control_configs,
    parse_seeds,
    warm_start_sources,
)
from rec_core.errors import RecCoreError
from rec_core.runs import RunStore

if TYPE_CHECKING:
    from rec_core.experiment import RunConfig

__all__ = ["LaunchPlan", "launch_gate", "plan_launch"]


@dataclass(frozen=True)
class LaunchPlan:
    configs: list[RunConfig]  # one run per seed, validated
    controls: list[RunConfig] = field(default_factory=list)  # MF continued beside each warm-started run
    sources: dict[int, str] = field(default_factory=dict)  # seed -> the MF run it starts from
    processes: int = 1  # processes per run (queue slots)
    base: dict[str, Any] = field(default_factory=dict)  # the form's config dict the runs were made from


def plan_launch(
    config: dict[str, Any],
    seeds: str,
    processes: object,
    store: RunStore,
    backbones: Sequence[Mapping[str, Any]],
    lang: str,
    *,
    with_control: bool = False,
    csv_pending: bool = False,
) -> LaunchPlan:
    """The runs a click queues for `config` (the form's dict) over the seeds in `seeds`, each in
    `processes` processes; `csv_pending`: the CSV files were not validated yet. Raises the
    `RecCoreError` that says what to fix first."""
    check_backbone_depth(config["model"], backbones)
    if csv_pending:
        raise RecCoreError(t("csv.validate_first", lang))
    parsed = parse_seeds(seeds)
    n_processes = check_launch_processes(processes)
    configs = build_configs(config, parsed, store)
    sources = warm_start_sources(configs, store)
    controls = control_configs(configs, store) if with_control else []
    return LaunchPlan(configs, controls, sources, n_processes, config)


def launch_gate(own_s: float | None, size_known: bool, pending: bool, dataset: str) -> tuple[str | None, bool]:
    """(why a Launch needs a confirmation first: "long", "unknown" or None; whether the settings
    are being measured meanwhile). A launch whose estimate is still being measured in the
    background does not wait for it."""
    reason = needs_confirmation(own_s, dataset) if size_known else None
    measuring = reason == "unknown" and pending
    return (None if measuring else reason), measuring
