"""Torch-free analysis of ``chain_hdqn``'s tables, shared by its training, measures, figures and report: which
rows a claim reads (the runs themselves or the step-size / budget sweep, see the package's docstring) and the
per-seed final reward and greedy return."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import declared

KIND, ALGOS, FIGURES = declared(__package__)  # from experiment.yaml
EXPERIMENT = "chain_hdqn"
LABELS = {"q_learning": "Q-learning (flat)", "hdqn": "h-DQN (neural)", "hdqn_tabular": "h-DQN (tabular)"}
#: the paper's Sec. 4.1 values (text): h-DQN "around 0.13", Q-learning "a reward of 0.01"
PAPER_VALUES = {"hdqn": 0.13, "q_learning": 0.01}


def budget_episodes(params: dict, factor: float) -> int:
    """Training episodes of the budget ``factor`` x ``n_episodes`` (the sweep's and the claims' unit)."""
    return int(round(float(factor) * int(params["n_episodes"])))


def optimal_return(params: dict) -> float:
    from .oracle import value_iteration

    env = params["env"]
    V, _ = value_iteration(env["p_right"], env["reward_visited"], env["reward_unvisited"], gamma=1.0)
    return float(V[1, 0])


def is_sweep(table: pd.DataFrame) -> pd.Series:
    """Which rows are step-size / budget sweep rows (module doc); none in a table without ``phase``."""
    if "phase" not in table.columns:
        return pd.Series(False, index=table.index)
    return table["phase"].eq("sweep")


def main_rows(table: pd.DataFrame) -> pd.DataFrame:
    """The rows of the runs themselves (every row but the sweep's)."""
    return table[~is_sweep(table)]


def _same(a: float, b: float) -> bool:
    return abs(float(a) - float(b)) <= 1e-12 * max(abs(float(a)), abs(float(b)))


def reads(table: pd.DataFrame, params: dict | None, algo: str, alpha: float | None = None,
          budget_factor: float | None = None) -> tuple[pd.DataFrame, int | None, str]:
    """The rows of ``algo`` a claim reads, the last training episode they reach and the words for them.

    Without ``alpha`` / ``budget_factor`` (or with the run's own: ``tabular.alpha`` -- for ``hdqn_tabular``
    only where ``alpha_meta`` equals it -- and 1) the runs themselves; otherwise the sweep runs of that step
    size, read at ``round(budget_factor x n_episodes)`` episodes. The neural h-DQN has no tabular step size
    (``alpha`` does not apply to it) and no sweep (any budget but 1 reads nothing). Empty rows where the
    table holds no such run."""
    factor = 1 if budget_factor is None else budget_factor
    sub = main_rows(table)
    sub = sub[sub["algo"] == algo]
    own = "its runs"
    if algo != "hdqn" and params is not None:
        tab = params["tabular"]
        own_alpha = alpha is None or (_same(alpha, tab["alpha"])
                                      and (algo == "q_learning" or _same(tab["alpha_meta"], tab["alpha"])))
        if not (own_alpha and _same(factor, 1)):
            a = float(tab["alpha"] if alpha is None else alpha)
            end = budget_episodes(params, factor)
            sw = table[is_sweep(table) & (table["algo"] == algo)]
            sw = sw[np.isclose(sw["alpha"].to_numpy(dtype=float), a, rtol=1e-12, atol=0.0)]
            sw = sw[sw["episode"] <= end]
            words = f"step size {a:g}, {end} training episodes (sweep runs)"
            if not (sw["episode"] == end).any():
                return sw.iloc[0:0], end, words + ": not trained in this table"
            return sw, end, words
    elif algo == "hdqn" and not _same(factor, 1):
        return sub.iloc[0:0], None, "the neural h-DQN is trained at the run's budget only"
    return sub, (int(sub["episode"].max()) if len(sub) else None), own


def final_reward(table: pd.DataFrame, algo: str, final_episodes: int, params: dict | None = None,
                 alpha: float | None = None, budget_factor: float | None = None) -> pd.Series:
    """Per seed: mean extrinsic reward over the last ``final_episodes`` episodes of ``algo`` (of the runs
    :func:`reads` selects; by default the runs themselves)."""
    sub, end, _ = reads(table, params, algo, alpha, budget_factor)
    if sub.empty:
        return pd.Series(dtype=float)
    last = sub[sub["episode"] > end - final_episodes]
    n = last.groupby("seed")["episode"].nunique()
    if is_sweep(sub).any() and (n < final_episodes).any():
        raise ValueError(f"final_episodes: {final_episodes} exceeds the sweep's window of "
                         f"{int(n.min())} episodes before each budget (the run's final_episodes)")
    return last.groupby("seed")["return"].mean()


def final_greedy(table: pd.DataFrame, algo: str, params: dict | None = None, alpha: float | None = None,
                 budget_factor: float | None = None) -> pd.Series:
    """Per seed: the exact expected return of the greedy policy at the last evaluation episode (of the runs
    :func:`reads` selects: at the budget's last episode for sweep runs)."""
    sub, end, _ = reads(table, params, algo, alpha, budget_factor)
    sub = sub.dropna(subset=["greedy_return"])
    sub = sub[sub["episode"] <= end] if end is not None else sub
    if sub.empty:
        return pd.Series(dtype=float)
    last = sub[sub["episode"] == sub["episode"].max()]
    return last.set_index("seed")["greedy_return"]


def _iqm(s: pd.Series) -> str:
    from ...stats import iqm

    return f"{float(iqm(s.to_numpy()[:, None])):.4g}" if len(s) else "–"
