"""The pages' decisions as plain functions: what an Estimate / Launch click plans and whether a
Launch waits for a confirmation (rec_app.train.plan), and the Error analysis page's choices
about users (rec_app.analysis.users)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rec_app.analysis.users import first_user, metric_pair, per_user_differences
from rec_app.train.plan import launch_gate, plan_launch
from rec_core.errors import ConfigError, RecCoreError
from rec_core.runs import RunStore

BASE = {"data": {"name": "synthetic"}, "split": {"kind": "ratio"}, "model": {"name": "mf"}, "train": {"epochs": 2}}


def test_a_click_plans_one_run_per_seed_or_says_what_to_fix(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    plan = plan_launch(dict(BASE), "0, 7", 1, store, [], "en")
    assert [c.seed for c in plan.configs] == [0, 7] and plan.controls == [] and plan.sources == {}
    assert plan.processes == 1
    with pytest.raises(RecCoreError, match="(?i)csv"):
        plan_launch(dict(BASE), "0", 1, store, [], "en", csv_pending=True)
    with pytest.raises(ConfigError, match="lr"):
        plan_launch({**BASE, "train": {"lr": -1.0}}, "0", 1, store, [], "en")
    with pytest.raises(RecCoreError):
        plan_launch(dict(BASE), "zero", 1, store, [], "en")
    with pytest.raises(ConfigError, match="with_control"):  # a control needs a warm start
        plan_launch(dict(BASE), "0", 1, store, [], "en", with_control=True)


def test_a_launch_waits_for_a_confirmation_only_when_long_or_unknown_and_not_being_measured() -> None:
    limit = 1800.0
    assert launch_gate(10.0, True, False, "ml-100k") == (None, False)
    assert launch_gate(limit + 1, True, False, "ml-100k") == ("long", False)
    assert launch_gate(None, True, False, "ml-100k") == ("unknown", False)
    assert launch_gate(None, True, True, "ml-100k") == (None, True)  # measured meanwhile: no wait
    assert launch_gate(None, True, False, "synthetic") == (None, False)  # seconds long anyway
    assert launch_gate(None, False, False, "csv") == (None, False)  # size unknown: the box says so


def test_the_error_analysis_users() -> None:
    per_a = pd.DataFrame({"user": [0, 1, 2], "ndcg@10": [0.5, 0.2, 0.0]})
    per_b = pd.DataFrame({"user": [1, 2, 3], "ndcg@10": [0.1, 0.4, 0.3]})
    assert np.allclose(per_user_differences(per_a, per_b, "ndcg@10"), [0.1, -0.4])
    assert metric_pair(per_a, per_b, 1, "ndcg@10") == (0.2, 0.1)
    assert metric_pair(per_a, per_b, 0, "ndcg@10") is None
    wins = pd.DataFrame({"id": ["u7"]})
    empty = pd.DataFrame({"id": []})
    assert first_user(wins, empty, per_a, ["a", "b"]) == "u7"
    assert first_user(empty, pd.DataFrame({"id": ["u9"]}), per_a, ["a", "b"]) == "u9"
    assert first_user(empty, empty, per_a, ["a", "b"]) == "a"
