"""What ``chain_hdqn``'s report section (``report.md``) shows: ``context(table, params)``."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...stats import iqm
from ...tidy import present
from .analysis import ALGOS, LABELS, budget_episodes, final_greedy, final_reward, is_sweep, main_rows
from .oracle import oracle


def _sweep_rows(table: pd.DataFrame, sweep: pd.DataFrame, params: dict, opt: float) -> list[dict]:
    """The rows of the report's step-size x budget table of the tabular agents (the sweep rows and the runs
    themselves)."""
    full = pd.concat([table, sweep])
    final = int(params["final_episodes"])
    factors = sorted({float(f) for f in (params.get("sweep") or {}).get("budget_factors") or [1]} | {1.0})
    alphas = sorted({float(a) for a in sweep["alpha"].dropna()})
    out = []
    for algo in present(sweep, ("q_learning", "hdqn_tabular")):
        for a in alphas:
            for f in factors:
                fr = final_reward(full, algo, final, params, a, f)
                gr = final_greedy(full, algo, params, a, f)
                if fr.empty:
                    continue
                r = float(iqm(fr.to_numpy()[:, None]))
                g = float(iqm(gr.to_numpy()[:, None])) if len(gr) else float("nan")
                share = float((gr > opt - 1e-9).mean()) if len(gr) else float("nan")
                out.append({"label": LABELS[algo], "alpha": f"{a:g}", "episodes": budget_episodes(params, f),
                            "reward": f"{r:.4f}", "greedy": f"{g:.4f}", "share": f"{share:.2f}"})
    return out


def context(table: pd.DataFrame, params: dict) -> dict:
    from ...envs import chain

    orc = oracle(params)
    opt = orc["optimal_expected_return"]
    final = int(params["final_episodes"])
    sweep = table[is_sweep(table)]
    table = main_rows(table)
    rows = []
    for a in present(table, ALGOS):
        fr = final_reward(table, a, final)
        gr = final_greedy(table, a)
        steps = table.loc[table["algo"] == a].groupby("seed")["steps"].sum().mean()
        r = float(iqm(fr.to_numpy()[:, None]))
        g = float(iqm(gr.to_numpy()[:, None])) if len(gr) else float("nan")
        share = float((gr > opt - 1e-9).mean()) if len(gr) else float("nan")
        rows.append({"label": LABELS[a], "reward": f"{r:.4f}", "fraction": f"{r / opt:.3f}", "greedy": f"{g:.4f}",
                     "share": f"{share:.2f}", "steps": f"{steps:.0f}"})
    env = params["env"]
    always_right = chain.flat_policy_return(np.tile([0.0, 1.0], (chain.N_STATES, 1)), p_right=env["p_right"],
                                            reward_visited=env["reward_visited"],
                                            reward_unvisited=env["reward_unvisited"])
    return {
        "n_seeds": table["seed"].nunique(),
        "final": final,
        "optimum": opt,
        "closed_form": orc["closed_form_right_until_s6_then_left"],
        "two_level_at_final_epsilon": orc["optimal_two_level_return_at_final_epsilon"]["value"],
        "rows": rows,
        "always_right": always_right,
        "sweep_rows": _sweep_rows(table, sweep, params, opt) if len(sweep) else None,
    }
