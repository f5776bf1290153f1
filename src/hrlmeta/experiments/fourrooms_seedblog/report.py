"""What ``fourrooms_seedblog``'s report section (``report.md``) shows: ``context(table, params)``."""

from __future__ import annotations

import pandas as pd

from .analysis import ALGOS, _paired, _per_seed, _ratio_ci, audit_summary, random_policy_reference


def context(table: pd.DataFrame, params: dict) -> dict:
    """The audit's numbers: ``f`` / ``o`` (the flat / options agent's row of :func:`audit_summary`), the
    per-seed step ratio flat/options (IQM and CI), the exact random-policy reference ``rp`` and the table's
    rows; ``both`` is False (and nothing else is given) unless both agents are in the table."""
    ref = random_policy_reference(int(params["size"]), int(params["max_steps"]))
    s = audit_summary(table, params).set_index("algo")
    if not {"flat_q", "intra_option_q"} <= set(s.index):
        return {"both": False}
    f, o = s.loc["flat_q"], s.loc["intra_option_q"]
    flat_m, opt_m = _paired(_per_seed(table, "flat_q", "steps"), _per_seed(table, "intra_option_q", "steps"))
    est, lo, hi = _ratio_ci((flat_m / opt_m).to_numpy())
    rp = ref["random_policy"]
    rows = []
    for a in ALGOS:
        r = s.loc[a]
        rows.append([a, f"{r['mean_steps']:.1f}", f"{r['steps_successful']:.1f}", f"{100 * r['success_rate']:.1f}%",
                     f"{100 * r['end_goal']:.1f}% / {100 * r['end_no_option']:.1f}% / {100 * r['end_step_cap']:.1f}%",
                     f"{r['random_expected_steps']:.1f}, {100 * r['random_success_prob']:.1f}%"])
    return {
        "both": True,
        "seeds": int(s["seeds"].max()),
        "episodes": int(table["episode"].max()) + 1,
        "f": f.to_dict(),
        "o": o.to_dict(),
        "ratio": {"est": est, "lo": lo, "hi": hi},
        "successful_ratio": f["steps_successful"] / o["steps_successful"],
        "rp": rp,
        "rand_ratio": rp["flat_q"]["expected_steps"] / rp["intra_option_q"]["expected_steps"],
        "optimal_steps": ref["goal_aware_optimal_expected_steps"],
        "k": int(params["final_episodes"]),
        "rows": rows,
    }
