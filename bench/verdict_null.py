"""How often the Compare verdict is wrong, simulated through `compare_seeds` at 1 to 5 seeds.

    python bench/verdict_null.py            # 200 simulations per seed count -> results/verdict_null.json

Two configurations measured on the same 500 users per seed: each user's quality (uniform on
[0.1, 0.5], mean 0.3) plus per-user noise (sd 0.06) on each side; b also differs by a per-seed
shift (sd 0.01), the seed noise. Under the null that is all; with an effect, b is also a
consistent +7.5% better. "Significant" is the verdict (`better`/`worse`); "CI excludes 0" is the
seed-level interval. A second null, `shift_both`, gives each side its own per-seed shift (seed
noise sd 0.014 on the difference), the harder case for power.

This is the simulation of tests/test_eval_compare_null.py (which asserts the bounds); here the
rates are recorded for the README.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd

from rec_core.evaluate.compare import compare_seeds

HERE = Path(__file__).resolve().parent
N_USERS, SEED_SHIFT_SD, USER_NOISE_SD, EFFECT = 500, 0.01, 0.06, 0.075


def _table(values: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({"user": np.arange(len(values)), "ndcg@10": values})


def simulate(n_seeds: int, effect: float, rng: np.random.Generator, shift_both: bool) -> tuple[dict, dict]:
    a, b = {}, {}
    for s in range(n_seeds):
        quality = rng.uniform(0.1, 0.5, N_USERS)
        shift_a = rng.normal(0.0, SEED_SHIFT_SD) if shift_both else 0.0
        shift_b = rng.normal(0.0, SEED_SHIFT_SD)
        a[s] = _table(quality + shift_a + rng.normal(0.0, USER_NOISE_SD, N_USERS))
        b[s] = _table(quality * (1 + effect) + shift_b + rng.normal(0.0, USER_NOISE_SD, N_USERS))
    return a, b


def rates(n_seeds: int, effect: float, n_sims: int, seed: int, shift_both: bool) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    significant = excludes = user_level = 0
    for _ in range(n_sims):
        c = compare_seeds(*simulate(n_seeds, effect, rng, shift_both), "ndcg@10", n_boot=200)
        significant += c.significant and (effect == 0 or c.diff > 0)
        excludes += bool(c.ci_low > 0 or c.ci_high < 0)
        user_level += bool(c.user_p_value < 0.05)  # what a test over users alone would have said
    return {
        "significant": significant / n_sims,
        "ci_excludes_0": excludes / n_sims,
        "user_level_p_below_0.05": user_level / n_sims,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sims", type=int, default=200)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "verdict_null.json")
    args = parser.parse_args()
    start, load_start = time.perf_counter(), list(os.getloadavg())
    out: dict[str, object] = {
        "what": __doc__.split("\n")[0],
        "setting": {
            "users_per_seed": N_USERS,
            "seed_shift_sd": SEED_SHIFT_SD,
            "user_noise_sd": USER_NOISE_SD,
            "effect": EFFECT,
            "simulations_per_seed_count": args.sims,
        },
        "former_method_significant_under_null": {"1": 0.41, "2": 0.26, "3": 0.15, "4": 0.21, "5": 0.06},
        "former_method_note": "two-level bootstrap, p floored at 1/n_boot (measured in the review that filed the issue)",
    }
    for shift_both in (False, True):
        key = "shift_both" if shift_both else "shift_b"
        out[key] = {
            str(s): {
                "null": rates(s, 0.0, args.sims, 1000 + s, shift_both),
                "effect_7.5%": rates(s, EFFECT, args.sims, 2000 + s, shift_both),
            }
            for s in (1, 2, 3, 4, 5)
        }
        for s, r in out[key].items():  # type: ignore[union-attr]
            print(key, s, r)
    out["seconds"] = time.perf_counter() - start
    out["load_average"] = {"start": load_start, "end": list(os.getloadavg())}
    args.out.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
