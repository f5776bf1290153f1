"""What ``fourrooms_optioncritic``'s report section (``report.md``) shows: ``context(table, params)``."""

from __future__ import annotations

import pandas as pd

from ...tidy import present
from .analysis import (ALGOS, LABELS, N_OPTIONS, _env, doorway_cells, eval_terminations, final_terminations,
                       recovery_ratio, termination_lift, termination_ratio)
from .oracle import oracle


def context(table: pd.DataFrame, params: dict) -> dict:
    """The table's rows (steps per episode by phase, share cut at the cap), the oracle's optimum, the per-seed
    recovery ratios, per option-critic agent its termination ratio and event lift (IQM over seeds), and per
    hallway the mean final termination probability near it over the same away from every hallway."""
    from ...envs.fourrooms import states_within
    from ...stats import iqm

    algos = present(table, ALGOS)
    k, w = int(params["switch_episode"]), int(params["recovery_window"])
    rows = []
    for a in algos:
        sub = table[table["algo"] == a]
        e = sub["episode"]

        def m(mask):
            return float(sub.loc[mask, "steps"].mean())

        rows.append([LABELS[a], f"{m(e <= 100):.1f}", f"{m((e > k - 100) & (e <= k)):.1f}",
                     f"{m((e > k) & (e <= k + w)):.1f}", f"{m(e > e.max() - 100):.1f}",
                     f"{100 * float((~sub['success']).mean()):.2f}%"])
    opt = oracle(params)["optimal_expected_steps"]["first_goal"]
    oc = [a for a in algos if a in N_OPTIONS]
    recovery = []
    for base in ("sarsa0", "ac_pg"):
        for agent in oc:
            r = recovery_ratio(table, params, base, agent, w)
            if r.size:
                recovery.append({"baseline": LABELS[base], "agent": LABELS[agent],
                                 "iqm": float(iqm(r.to_numpy()[:, None])), "seeds": r.size})
    agents = []
    for agent in oc:
        entry = {"label": LABELS[agent], "ratio": None, "lift": None}
        t = termination_ratio(table, params, agent, int(params["doorway_radius"]))
        if t.size:
            entry["ratio"] = {"iqm": float(iqm(t.to_numpy()[:, None])), "seeds": t.size}
        lift = termination_lift(table, params, agent, int(params["doorway_radius"])).dropna()
        if lift.size:
            ev = eval_terminations(table[table["algo"] == agent])
            entry["lift"] = {"iqm": float(iqm(lift.to_numpy()[:, None])), "seeds": lift.size,
                             "events": int(ev["terminations"].sum()), "visits": int(ev["visits"].sum())}
        agents.append(entry)
    hallways = []
    ft = final_terminations(table)
    if not ft.empty:
        env = _env(float(params["success_prob"]), params["dynamics"])
        r = int(params["doorway_radius"])
        near_any = doorway_cells(params, r)
        far = ft[~ft["state"].isin(near_any)].groupby("algo")["beta"].mean()
        for h in env.hallways:
            near = states_within(env, [h], r)
            m = ft[ft["state"].isin(near)].groupby("algo")["beta"].mean()
            hallways.append(f"({int(env.cells[h][0])}, {int(env.cells[h][1])}): "
                            + ", ".join(f"{N_OPTIONS[a]} options {m[a] / far[a]:.2f}" for a in m.index))
    return {
        "switch": k,
        "window": w,
        "seeds": table["seed"].nunique(),
        "rows": rows,
        "optimal_steps": opt,
        "recovery": recovery,
        "agents": agents,
        "hallways": hallways,
    }
