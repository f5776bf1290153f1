"""Torch-free analysis of ``tabular_mdp_duan``'s tables, shared by its measures, figures and report."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ... import claims as claims_mod
from .. import declared

KIND, ALGOS, FIGURES = declared(__package__)  # from experiment.yaml
BASELINES = tuple(a for a in ALGOS if a != "rl2")
LABELS = {"random": "Random", "optimal": "Optimal (MDP known)", "greedy": "Greedy", "psrl": "PSRL",
          "opsrl": "OPSRL", "beb": "BEB", "rl2": "RL²", "best_baseline": "best baseline"}
#: algorithms the "best baseline" is taken over (the paper's learning baselines; not random/optimal)
LEARNERS = ("greedy", "psrl", "opsrl", "beb")


def _eval(table):
    return table[table["phase"] == "eval"]


def _per_seed(table, algo, n) -> np.ndarray:
    ev = _eval(table)
    ev = ev[ev["n"] == n]
    if algo == "best_baseline":
        piv = ev[ev["algo"].isin(LEARNERS)].pivot_table(index="seed", columns="algo", values="return")
        piv = piv.dropna()
        return piv.max(axis=1).to_numpy(float) if piv.shape[1] else np.array([])
    return ev[ev["algo"] == algo].sort_values("seed")["return"].to_numpy(float)


def _summary(table):
    from ...stats import report_ci

    rows = []
    ev = _eval(table)
    for n in sorted(ev["n"].unique()):
        for algo in list(ALGOS) + ["best_baseline"]:
            v = _per_seed(table, algo, int(n))
            if v.size == 0:
                continue
            est, lo, hi = (v[0], v[0], v[0]) if v.size == 1 else report_ci(v, "mean")
            hp = ", ".join(sorted(set(ev[(ev["n"] == n) & (ev["algo"] == algo)]["hparam"]) - {""}))
            rows.append({"algo": algo, "n": int(n), "mean": est, "lo": lo, "hi": hi, "seeds": v.size, "hparam": hp})
    return pd.DataFrame(rows)


def _published() -> dict:
    """Published values (algo, n) -> value, read from the claims this experiment declares (claims.yaml)."""
    out = {}
    for c in claims_mod.load_claims(Path(__file__).with_name("claims.yaml"), experiment="tabular_mdp_duan"):
        p = c.get("params") or {}
        if "published" in p:
            out[(p["algo"], int(p["n"]))] = float(p["published"])
    return out
