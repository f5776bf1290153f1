"""Torch-free analysis of ``bandits_duan``'s tables, shared by its measures, figures and report."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ... import claims as claims_mod
from ...shared.rl2_budget import rl2_budget  # noqa: F401  (the measures' budget of RL^2's runs)
from .. import declared

KIND, ALGOS, FIGURES = declared(__package__)  # from experiment.yaml
LABELS = {
    "random": "Random", "gittins": "Gittins / Bayes-opt.", "gittins_approx": "Gittins (approx.)",
    "thompson": "TS", "ots": "OTS", "ucb1": "UCB1", "eps_greedy": "ε-Greedy", "greedy": "Greedy",
    "rl2": "RL²",
}


def _cell(n: int, k: int) -> str:
    return f"n{n}_k{k}"


def _eval(table: pd.DataFrame) -> pd.DataFrame:
    return table[table["phase"] == "eval"]


def _published() -> dict:
    """Published values (algo, cell) -> value, read from the claims this experiment declares (claims.yaml)."""
    out = {}
    for c in claims_mod.load_claims(Path(__file__).with_name("claims.yaml"), experiment="bandits_duan"):
        p = c.get("params") or {}
        if "published" in p:
            out[(p["algo"], _cell(p["n"], p["k"]))] = float(p["published"])
    return out


def _ci(vals: np.ndarray) -> tuple[float, float, float]:
    """Mean and CI over seeds, with the claims' bootstrap settings (hrlmeta.stats.report_ci)."""
    from ...stats import report_ci

    if vals.size == 1:
        return float(vals[0]), float(vals[0]), float(vals[0])
    return report_ci(vals, "mean")


def _summary(table: pd.DataFrame) -> pd.DataFrame:
    ev = _eval(table)
    rows = []
    for (algo, n, k), g in ev.groupby(["algo", "n", "k"]):
        est, lo, hi = _ci(g["return"].to_numpy(float))
        rows.append({"algo": algo, "n": int(n), "k": int(k), "cell": _cell(n, k), "mean": est, "lo": lo,
                     "hi": hi, "seeds": len(g), "hparam": ", ".join(sorted(set(g["hparam"]) - {""}))})
    return pd.DataFrame(rows)


def _cells(table) -> list[tuple[int, int]]:
    ev = _eval(table)
    return sorted({(int(n), int(k)) for n, k in zip(ev["n"], ev["k"])})
