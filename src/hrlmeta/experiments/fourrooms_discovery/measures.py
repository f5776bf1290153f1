"""The named measures of ``fourrooms_discovery``'s claims (``claims.yaml`` selects one with ``measure:``)."""

from __future__ import annotations

import pandas as pd

from ...claims import Measures, Samples
from ...shared.fourrooms import criterion_words as _criterion_words
from ...shared.fourrooms import speedup_samples
from .analysis import LABELS, doorway_fraction, goal_ratios, goal_sample, near_known_subgoals, stratified_by_goal

MEASURES = Measures()

ALGO = {"type": "string"}
CRITERION = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "measure": {"enum": ["behaviour", "greedy"]},
        "tolerance": {"type": "number", "minimum": 0},
        "window": {"type": "integer", "minimum": 1},
        "full_window": {"type": "boolean"},
        "reference": {"enum": ["primitive", "own"]},
    },
}


@MEASURES.register("doorways", {"top_k": {"type": "integer", "minimum": 1},
                                "radius": {"type": "integer", "minimum": 0}})
def doorways(table: pd.DataFrame, params: dict, cp: dict) -> Samples:
    """Per seed: fraction of the ``top_k`` highest-betweenness subgoals within ``radius`` moves of a hallway."""
    budget = float(params["n_episodes"])
    k, r = int(cp.get("top_k", 4)), int(cp.get("radius", 1))
    v = doorway_fraction(table, params, k, r)
    note = (f"per seed: fraction of the {k} highest-betweenness subgoals (local maxima, "
            f"{params['discovery']['graph']} graph, {params['discovery']['walk_steps']} random-walk steps) "
            f"within {r} move(s) of a hallway")
    return Samples(values=v.to_numpy(dtype=float), statistic="iqm", note=note, budget=budget)


@MEASURES.register("speedup", {"baseline": ALGO, "agent": ALGO, "criterion": CRITERION,
                               "goals": {"type": "array", "minItems": 1, "items": {"type": "string"}}},
                   required=["baseline", "agent"])
def speedup(table: pd.DataFrame, params: dict, cp: dict) -> Samples:
    """Per-seed ratio of episodes-to-criterion, baseline / agent; strata = ``goals`` (default: the main
    goals)."""
    budget = float(params["n_episodes"])
    if "criterion" in cp:
        params = {**params, "criterion": {**params["criterion"], **cp["criterion"]}}
    baseline, agent = cp["baseline"], cp["agent"]
    goals = list(cp.get("goals") or params["main_goals"])
    unknown = [g for g in goals if g not in params["main_goals"]]
    if unknown:
        raise KeyError(f"params.goals {unknown} are not among params.main_goals {list(params['main_goals'])}")
    vals, info = speedup_samples(table, params, baseline, agent, goals)
    note = (f"per-seed ratio of episodes-to-criterion, {LABELS.get(baseline, baseline)} / "
            f"{LABELS.get(agent, agent)} ({_criterion_words(params)}; fourrooms_sutton's criterion code), "
            f"strata = goals {info.get('goals', goals)}; censored blocks count as their length "
            f"({params['n_episodes']} episodes): {info.get('censored', {})}")
    return Samples(values=vals, statistic="iqm", note=note, budget=budget)


@MEASURES.register("speedup_over_goals", {"baseline": ALGO, "agent": ALGO, "criterion": CRITERION,
                                          "exclude_near_subgoals": {"type": "boolean"}},
                   required=["baseline", "agent"])
def speedup_over_goals(table: pd.DataFrame, params: dict, cp: dict) -> Samples:
    """Per (seed, goal) ratio of episodes-to-criterion, baseline / agent, over the goal sample
    (``goal_sample``); shaped (runs, goals): one stratum per goal, so the bootstrap resamples each goal's
    runs on its own. ``exclude_near_subgoals``: leave out the goals within one move of a subgoal of the
    known-dynamics graph (default: keep every goal)."""
    budget = float(params["n_episodes"])
    if "criterion" in cp:
        params = {**params, "criterion": {**params["criterion"], **cp["criterion"]}}
    baseline, agent = cp["baseline"], cp["agent"]
    sample = goal_sample(params)
    if not sample:
        raise KeyError("measure speedup_over_goals needs params.goal_sample with per_room >= 1")
    r = goal_ratios(table, params, baseline, agent)
    excluded = []
    if cp.get("exclude_near_subgoals", False):
        near = near_known_subgoals(params, 1)
        excluded = [g for g, cell in sample if cell in near]
        r = r[~r["goal"].isin(excluded)]
    vals, goals, dropped = stratified_by_goal(r)
    n_seeds = int(r["seed"].nunique()) if len(r) else 0
    note = (f"per (seed, goal) ratio of episodes-to-criterion, {LABELS.get(baseline, baseline)} / "
            f"{LABELS.get(agent, agent)} ({_criterion_words(params)}; fourrooms_sutton's criterion code), over "
            f"{len(goals)} goals of the goal sample ({params['goal_sample']['per_room']} per room, seed "
            f"{params['goal_sample']['seed']}), {vals.shape[0]} runs per goal from {n_seeds} seeds; strata = "
            f"goals; censored blocks count as their length ({params['n_episodes']} episodes): "
            f"{baseline} {int(r['censored_baseline'].sum()) if len(r) else 0}, "
            f"{agent} {int(r['censored_agent'].sum()) if len(r) else 0} of {len(r)} runs"
            + (f"; left out (within one move of a known-graph subgoal): {excluded}" if excluded else "")
            + (f"; runs beyond the fewest per goal dropped: {dropped}" if dropped else ""))
    return Samples(values=vals, statistic="iqm", note=note, budget=budget, n_seeds=n_seeds,
                   extra={"goals": goals, "runs_per_goal": int(vals.shape[0])})
