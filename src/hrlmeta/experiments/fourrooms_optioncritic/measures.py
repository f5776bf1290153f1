"""The named measures of ``fourrooms_optioncritic``'s claims (``claims.yaml`` selects one with ``measure:``)."""

from __future__ import annotations

import pandas as pd

from ...claims import Measures, Samples
from ...tidy import present
from .analysis import LABELS, recovery_ratio, termination_lift, termination_ratio

MEASURES = Measures()

ALGO = {"type": "string"}


@MEASURES.register("terminations", {"radius": {"type": "integer", "minimum": 0},
                                    "agents": {"type": "array", "minItems": 1, "items": ALGO}})
def terminations(table: pd.DataFrame, params: dict, cp: dict) -> Samples:
    """Per seed: mean final termination probability near a hallway over the same elsewhere; strata = agents."""
    budget = float(params["n_episodes"])
    radius = int(cp.get("radius", params["doorway_radius"]))
    agents = present(table, cp.get("agents", ["option_critic_4"]))
    cols = [termination_ratio(table, params, a, radius) for a in agents]
    mat = pd.concat(cols, axis=1).dropna() if cols else pd.DataFrame()
    note = (f"per seed: mean final termination probability over options x cells within {radius} move(s) "
            f"of a hallway / the same over all other non-goal cells; strata = {agents}")
    return Samples(values=mat.to_numpy(), statistic="iqm", note=note, budget=budget)


@MEASURES.register("termination_events", {"radius": {"type": "integer", "minimum": 0},
                                          "agents": {"type": "array", "minItems": 1, "items": ALGO}})
def termination_events(table: pd.DataFrame, params: dict, cp: dict) -> Samples:
    """Per seed: lift of the termination events near a doorway over the evaluation episodes after training
    (share of events within ``radius`` of a hallway / share of visits there); strata = agents."""
    budget = float(params["n_episodes"])
    radius = int(cp.get("radius", params["doorway_radius"]))
    agents = present(table, cp.get("agents", ["option_critic_4"]))
    cols = [termination_lift(table, params, a, radius) for a in agents]
    mat = pd.concat(cols, axis=1) if cols else pd.DataFrame()
    dropped = int(mat.isna().any(axis=1).sum()) if cols else 0
    mat = mat.dropna()
    note = (f"per seed: (share of the termination events within {radius} move(s) of a hallway) / (share of "
            f"the visits there, i.e. arrivals where the running option's termination was drawn), over "
            f"{params['eval_episodes']} evaluation episodes with the final options (frozen) to the final "
            f"goal; strata = {agents}; 1 = terminations spread in proportion to visits"
            + (f"; {dropped} seed(s) without an event or a visit near a hallway left out" if dropped else ""))
    return Samples(values=mat.to_numpy(), statistic="iqm", note=note, budget=budget)


@MEASURES.register("recovery", {"baseline": ALGO, "agent": ALGO, "window": {"type": "integer", "minimum": 1},
                                "per_seed": {"enum": ["mean", "median"]},
                                "phase": {"enum": ["after_switch", "before_switch"]}})
def recovery(table: pd.DataFrame, params: dict, cp: dict) -> Samples:
    """Per seed: steps per episode of the baseline over the agent's, right after the goal moved (or in the
    first episodes, ``phase: before_switch``)."""
    budget = float(params["n_episodes"])
    baseline, agent = cp.get("baseline", "sarsa0"), cp.get("agent", "option_critic_4")
    window, per_seed = int(cp.get("window", params["recovery_window"])), cp.get("per_seed", "mean")
    phase = cp.get("phase", "after_switch")
    r = recovery_ratio(table, params, baseline, agent, window, per_seed, phase)
    where = ("right after the goal moved (episodes "
             f"{int(params['switch_episode']) + 1}-{int(params['switch_episode']) + window})"
             if phase == "after_switch" else
             f"in the first {min(window, int(params['switch_episode']))} episodes (learning from scratch)")
    note = (f"per seed: {per_seed} steps per episode of {LABELS.get(baseline, baseline)} / of "
            f"{LABELS.get(agent, agent)} {where}; seeds paired (same moved goal); "
            f"episodes cut at {params['max_steps']} steps count as {params['max_steps']}")
    return Samples(values=r.to_numpy(), statistic="iqm", note=note, budget=budget)
