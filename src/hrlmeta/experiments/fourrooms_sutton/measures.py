"""The named measures of ``fourrooms_sutton``'s claims (``claims.yaml`` selects one with ``measure:``)."""

from __future__ import annotations

import pandas as pd

from ...claims import Measures, Samples
from .analysis import LABELS, _criterion_words, goal_sequence, speedup_samples

MEASURES = Measures()

#: a claim's own episodes-to-criterion rule (same keys as params.criterion; given keys override it)
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
ALGO = {"type": "string"}


@MEASURES.register("speedup", {
    "baseline": ALGO, "agent": ALGO,
    "goals": {"oneOf": [{"enum": ["main", "switch"]}, {"type": "array", "items": {"type": "string"}}]},
    "criterion": CRITERION,
})
def speedup(table: pd.DataFrame, params: dict, cp: dict) -> Samples:
    """Per-seed ratio of episodes-to-criterion, baseline / agent; strata = goals (``main``: the main goals,
    ``switch``: the goals learned after the first, or a list)."""
    baseline, agent = cp.get("baseline", "flat_q"), cp.get("agent", "smdp_q_mixed")
    which = cp.get("goals", "main")
    if which == "main":
        goals = list(params["main_goals"])
    elif which == "switch":
        goals = [g for g, ph in goal_sequence(params, agent) if ph == "switch"]
    else:
        goals = list(which)
    if "criterion" in cp:  # a claim may measure with its own criterion (same keys as params.criterion)
        params = {**params, "criterion": {**params["criterion"], **cp["criterion"]}}
    vals, info = speedup_samples(table, params, baseline, agent, goals)
    note = (f"{LABELS.get(baseline, baseline)} vs {LABELS.get(agent, agent)}: per-seed ratio of "
            f"episodes-to-criterion ({_criterion_words(params)}), strata = goals {info.get('goals', goals)}; "
            f"a block not meeting the criterion by its last episode counts as its block length "
            f"({params['n_episodes']} episodes, a lower bound), censored blocks: {info.get('censored', {})}. "
            f"Censoring the baseline lowers the ratio, censoring the options agent raises it.")
    # training budget: episodes per goal (paper_budget in claims.yaml: the paper's Fig. 5 runs)
    # it binds only where some block of the claim was censored at its last episode
    binds = any(n > 0 for n in info.get("censored", {}).values())
    return Samples(values=vals, statistic="iqm", note=note,
                   budget=float(params["n_episodes"]), extra={"budget_binds": binds})
