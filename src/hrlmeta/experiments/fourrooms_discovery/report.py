"""What ``fourrooms_discovery``'s report section (``report.md``) shows: ``context(table, params)``."""

from __future__ import annotations

import pandas as pd

from ...shared.criterion import censored_iqm_text
from ...tidy import present
from .analysis import (ALGOS, GOAL_RATIO, LABELS, _env, doorway_fraction, goal_ratios, goal_sample, known_graph,
                       main_rows, near_known_subgoals, per_goal_summary)

#: the rooms of the goal sample's table, in the environment's order
ROOM_NAMES = ("upper left (start)", "upper right", "lower left", "lower right")


def context(table: pd.DataFrame, params: dict) -> dict:
    """The known-dynamics graph and its subgoal cells, the empirical graphs' doorway fractions, the bottleneck
    options per seed, the main goals' table (IQM episodes-to-criterion, censored runs) and the goal sample's
    summary (``sample``: None where there is no goal sample)."""
    from ...algos import bottleneck as B
    from ...shared.fourrooms import criterion_table
    from ...shared.fourrooms import criterion_words as _criterion_words

    sp = float(params["success_prob"])
    env = _env(sp)[0]
    G, bc = known_graph(sp)
    lm = B.local_maxima(G, bc, int(params["discovery"]["radius"]))
    doorways = []
    for k in (4, int(params["discovery"]["max_subgoals"])):
        f = doorway_fraction(table, params, k, 1)
        if f.size:
            doorways.append({"k": k, "mean": f.mean(), "seeds": f.size})
    main = main_rows(table)
    n_sg = main[main["algo"] == "bottleneck_options"].groupby("seed")["n_options"].first()
    ct = criterion_table(table, params)
    algos = present(table, ALGOS)
    goals = []
    for g in params["main_goals"]:
        sub = ct[ct["goal"] == g]
        opt = float(table.loc[table["goal"] == g, "optimal_steps"].iloc[0])
        cells_ = []
        for a in algos:
            s = sub[sub["algo"] == a]
            cells_.append(censored_iqm_text(s, "etc"))
        goals.append([g, f"{opt:.2f}", *cells_])
    return {
        "graph": {"nodes": G.number_of_nodes(), "edges": G.number_of_edges()},
        "subgoals": [f"({int(env.cells[s][0])}, {int(env.cells[s][1])})" for s in lm],
        "doorways": doorways,
        "n_options": {"mean": n_sg.mean(), "min": n_sg.min(), "max": n_sg.max()} if n_sg.size else None,
        "criterion": _criterion_words(params),
        "labels": [LABELS[a] for a in algos],
        "goals": goals,
        "sample": _goal_sample(table, params),
    }


def _goal_sample(table: pd.DataFrame, params: dict) -> dict | None:
    """The goal sample: its goals, their runs, the per-goal ratios by room (``rooms``: None where the table
    has no run of it)."""
    from ...stats import iqm

    goals = goal_sample(params)
    if not goals:
        return None
    gs = params["goal_sample"]
    summ = per_goal_summary(table, params)
    near = near_known_subgoals(params, 1)
    out = {"goals": len(goals), "near": sum(cell in near for _, cell in goals),
           "per_seed": min(int(gs["per_seed"]), len(goals)), "rooms": None}
    if summ.empty:
        return out
    r = goal_ratios(table, params, *GOAL_RATIO)
    env = _env(float(params["success_prob"]))[0]
    room_of = {tuple(int(c) for c in env.cells[s]): i for i, room in enumerate(env.rooms) for s in room}
    summ = summ.assign(room=[room_of[(int(a), int(b))] for a, b in zip(summ["row"], summ["col"])])
    r = r.assign(room=[room_of[(int(a), int(b))] for a, b in zip(r["row"], r["col"])])
    rooms = []
    for i in sorted(summ["room"].unique()):
        s_, rr = summ[summ["room"] == i], r[r["room"] == i]
        inside = int(((s_["iqm"] >= 0.8) & (s_["iqm"] <= 1.25)).sum())
        rooms.append([f"{ROOM_NAMES[i] if i < len(ROOM_NAMES) else i}", str(len(s_)), str(len(rr)),
                      f"{float(iqm(rr['ratio'].to_numpy()[:, None])):.2f}", str(inside)])
    far = r[~r.apply(lambda x: (int(x["row"]), int(x["col"])) in near, axis=1)]
    out.update({
        "rooms": rooms,
        "all_iqm": float(iqm(r["ratio"].to_numpy()[:, None])),
        "runs": len(r),
        "far_iqm": float(iqm(far["ratio"].to_numpy()[:, None])) if len(far) else None,
        "far_runs": len(far),
        "censored_baseline": int(r["censored_baseline"].sum()),
        "censored_agent": int(r["censored_agent"].sum()),
    })
    return out
