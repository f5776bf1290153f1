"""What ``fourrooms_sutton``'s report section (``report.md``) shows: ``context(table, params)``."""

from __future__ import annotations

import pandas as pd

from ...shared.criterion import censored_iqm_text
from ...stats import iqm
from ...tidy import present
from .analysis import ALGOS, LABELS, _criterion_words, criterion_table, speedup_samples


def _floor_effect(table: pd.DataFrame, params: dict, algos: list) -> list[dict] | None:
    """How often each agent meets its criterion at its first possible episode (episode 1 with partial
    windows, episode ``window`` with full ones) on the main goals, under the config's criterion and with
    full 20- and 50-episode windows: the floor that bounds the speed-up ratios. None unless the criterion
    reads the behaviour."""
    crit = params["criterion"]
    if crit["measure"] != "behaviour":
        return None
    goals = list(params["main_goals"])
    variants = [("config", crit)] + [(f"full {w}-episode window", {**crit, "window": w, "full_window": True})
                                      for w in (20, 50) if (w, True) != (crit["window"], crit.get("full_window"))]
    rows = []
    for name, c in variants:
        first = int(c["window"]) if c.get("full_window") else 1
        ct = criterion_table(table, {**params, "criterion": c})
        ct = ct[ct["goal"].isin(goals)]
        cells = []
        for a in algos:
            e = ct.loc[ct["algo"] == a, "etc"]
            cells.append("–" if e.empty else f"{(e == first).mean():.0%} (median {e.median():.0f})")
        rows.append({"name": name, "window": c["window"], "full": bool(c.get("full_window")), "first": first,
                     "cells": cells})
    return rows


def context(table: pd.DataFrame, params: dict) -> dict:
    goals = list(params["main_goals"])
    ct = criterion_table(table, params)
    algos = present(table, ALGOS)
    goal_rows = []
    for g in dict.fromkeys(table.sort_values("block")["goal"]):
        sub = ct[ct["goal"] == g]
        opt = float(table.loc[table["goal"] == g, "optimal_steps"].iloc[0])
        cells = []
        for a in algos:
            s = sub[sub["algo"] == a]
            cells.append(censored_iqm_text(s, "etc"))
        goal_rows.append({"goal": g, "optimal": f"{opt:.2f}", "cells": cells})
    speedups = []
    for agent in [a for a in algos if a != "flat_q"]:
        vals, _ = speedup_samples(table, params, "flat_q", agent, goals)
        if vals.size:
            speedups.append({"label": LABELS[agent], "per": ", ".join(
                f"{g}: {float(iqm(vals[:, [j]])):.2f}x" for j, g in enumerate(goals[: vals.shape[1]]))})
    last = table[table["episode"] > 0.9 * table["episode"].max()]
    last_steps = []
    for g in goals:
        s = last[last["goal"] == g].groupby("algo")["steps"].mean()
        last_steps.append({"goal": g, "means": ", ".join(f"{LABELS[a]} {s[a]:.1f}" for a in algos if a in s)})
    return {
        "start": str(tuple(params["start"])),
        "n_seeds": table["seed"].nunique(),
        "criterion_words": _criterion_words(params),
        "labels": [LABELS[a] for a in algos],
        "goal_rows": goal_rows,
        "speedups": speedups,
        "floor": _floor_effect(table, params, algos),
        "last_steps": last_steps,
    }
