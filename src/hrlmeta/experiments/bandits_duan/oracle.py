"""The exact oracle of ``bandits_duan``: the Bayes-optimal expected total reward per cell by dynamic programming (``hrlmeta oracle --experiment bandits_duan``)."""

from __future__ import annotations

from ...algos import bandit_baselines as bb
from .analysis import _cell


def oracle(params: dict) -> dict:
    """Exact Bayes-optimal expected total reward of every configured cell where the DP is feasible."""
    out = {}
    for c in params["cells"]:
        n, k = int(c["n"]), int(c["k"])
        if n <= params["gittins_exact_max_n"]:
            out[_cell(n, k)] = bb.BayesOptimalDP(n, k).value()
    return {"experiment": "bandits_duan", "bayes_optimal_total_reward": out}
