"""The named measures of ``fourrooms_discovery``'s claims (``claims.yaml`` selects one with ``measure:``)."""

from __future__ import annotations

import pandas as pd

from ...claims import Measures, Samples
from ...shared.fourrooms import criterion_words as _criterion_words
from ...shared.fourrooms import speedup_samples
from . import LABELS, doorway_fraction

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
