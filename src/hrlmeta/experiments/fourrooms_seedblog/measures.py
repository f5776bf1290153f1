"""The named measures of ``fourrooms_seedblog``'s claims (``claims.yaml`` selects one with ``measure:``)."""

from __future__ import annotations

import pandas as pd

from ...claims import Measures, Samples
from .analysis import _last_window, _paired, _per_seed

MEASURES = Measures()


@MEASURES.register("speedup", {
    "episodes": {"type": "array", "minItems": 2, "maxItems": 2, "items": {"type": "integer", "minimum": 0}},
})
def speedup(table: pd.DataFrame, params: dict, cp: dict) -> Samples:
    """Mean steps per episode over episodes [lo, hi) (``episodes``, default all), flat over options,
    seeds paired by index."""
    n_ep = int(table["episode"].max()) + 1
    lo, hi = cp.get("episodes", [0, n_ep])
    flat, opt = _paired(_per_seed(table, "flat_q", "steps", lo, hi),
                        _per_seed(table, "intra_option_q", "steps", lo, hi))
    vals = (flat / opt).to_numpy()
    note = (f"mean steps per episode over episodes [{lo}, {min(hi, n_ep)}) (the chapter's 'Steps to Goal' "
            f"curve), flat_q / intra_option_q, paired by seed; {len(vals)} seeds. Episodes of every "
            f"kind count, as in the listing: options episodes that stop at a room exit without reaching "
            f"the goal included.")
    return Samples(values=vals, statistic="iqm", note=note)


@MEASURES.register("speedup_successful_only")
def speedup_successful_only(table: pd.DataFrame, params: dict, cp: dict) -> Samples:
    """The same ratio over the episodes that reached the goal."""
    succ = table["success"]
    flat, opt = _paired(_per_seed(table, "flat_q", "steps", where=succ),
                        _per_seed(table, "intra_option_q", "steps", where=succ))
    vals = (flat / opt).to_numpy()
    note = (f"mean steps of the episodes that reached the goal, flat_q / intra_option_q, paired by "
            f"seed; {len(vals)} seeds.")
    return Samples(values=vals, statistic="iqm", note=note)


@MEASURES.register("final_success_difference")
def final_success_difference(table: pd.DataFrame, params: dict, cp: dict) -> Samples:
    """Success rate over the last ``final_episodes`` episodes, options minus flat."""
    lo, hi = _last_window(table, params)
    flat, opt = _paired(_per_seed(table, "flat_q", "success", lo, hi),
                        _per_seed(table, "intra_option_q", "success", lo, hi))
    vals = (opt.astype(float) - flat.astype(float)).to_numpy()
    note = (f"success rate (episode reached the goal) over episodes [{lo}, {hi}), intra_option_q minus "
            f"flat_q, paired by seed; {len(vals)} seeds.")
    return Samples(values=vals, statistic="mean", note=note)


@MEASURES.register("options_learn")
def options_learn(table: pd.DataFrame, params: dict, cp: dict) -> Samples:
    """Options agent: mean steps of the last ``final_episodes`` episodes over the mean steps of the first
    ``final_episodes`` (< 1: steps fall with training)."""
    n_ep = int(table["episode"].max()) + 1
    k = int(params["final_episodes"])
    first = _per_seed(table, "intra_option_q", "steps", 0, k)
    last = _per_seed(table, "intra_option_q", "steps", n_ep - k, n_ep)
    first, last = _paired(first, last)
    vals = (last / first).to_numpy()
    note = (f"intra_option_q: mean steps of episodes [{n_ep - k}, {n_ep}) over mean steps of "
            f"episodes [0, {k}), per seed; {len(vals)} seeds.")
    return Samples(values=vals, statistic="iqm", note=note)
