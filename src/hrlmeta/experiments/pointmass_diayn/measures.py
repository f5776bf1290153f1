"""The named measures of ``pointmass_diayn``'s claims (``claims.yaml`` selects one with ``measure:``)."""

from __future__ import annotations

import pandas as pd

from ...claims import Measures, Samples
from ...tidy import present
from .analysis import (EVAL_MODE, LABELS, _per_seed_layout, final_rows, final_spread, for_skill_count, layouts,
                       select_skill_count, final_coverage, random_policy_spread, passage_skills)

MEASURES = Measures()

COMMON = {"algo": {"type": "string"},
          "layouts": {"type": "array", "minItems": 1, "items": {"enum": ["open", "passage"]}},
          "eval_mode": {"enum": ["stochastic", "deterministic"]},
          # which trained skill count: agent.num_skills (primary) or the first of agent.other_num_skills
          "skill_count": {"enum": ["primary", "other"]}}


def _skills(table: pd.DataFrame, params: dict, cp: dict):
    """The rows of the skill count the claim reads, and that count (None where the run has none)."""
    K = select_skill_count(table, params, cp.get("skill_count", "primary"))
    return for_skill_count(table, K), K


def _common(table: pd.DataFrame, params: dict, cp: dict):
    lays = present(table, cp.get("layouts", layouts(params)), "layout")
    mode = cp.get("eval_mode", EVAL_MODE)
    total = int(params["agent"]["total_steps"])
    return lays, mode, total


def discriminability(table: pd.DataFrame, algo: str, measure: str, mode: str, lays: list[str]) -> pd.DataFrame:
    """Per (seed, layout): ``algo``'s final-evaluation accuracy (``measure``: ``learned`` = the discriminator
    on the states s_1..s_T, ``final_state``, ``fresh`` = a classifier trained from scratch) in ``mode``
    rollouts, minus chance 1/K."""
    col = {"learned": "acc", "final_state": "success", "fresh": "fresh_acc"}[measure]
    f = final_rows(table)
    f = f[(f["algo"] == algo) & (f["eval_mode"] == mode)]
    f = f.assign(above=f[col].astype(float) - 1.0 / f["num_skills"].astype(float))
    return f.groupby(["seed", "layout"])["above"].mean().unstack("layout").reindex(columns=lays).dropna()


@MEASURES.register("discriminable", {**COMMON, "measure": {"enum": ["learned", "final_state", "fresh"]},
                                     "baseline": {"type": "string"}})
def discriminable(table: pd.DataFrame, params: dict, cp: dict) -> Samples:
    """Per seed and layout: skill-classification accuracy on fresh evaluation rollouts minus that of
    ``baseline`` (an algorithm, paired by seed: the reward-0 control) or, with ``baseline: chance`` (the
    default), minus chance 1/K."""
    table, K = _skills(table, params, cp)
    lays, mode, total = _common(table, params, cp)
    algo = cp.get("algo", "diayn")
    measure = cp.get("measure", "learned")
    baseline = cp.get("baseline") or "chance"
    v = discriminability(table, algo, measure, mode, lays)
    if baseline != "chance":
        b = discriminability(table, baseline, measure, mode, lays)
        seeds = v.index.intersection(b.index)
        v = (v.loc[seeds] - b.loc[seeds]).dropna()
    what = {"learned": "the learned discriminator's accuracy on the states s_1..s_T",
            "final_state": "the learned discriminator's accuracy on the final state",
            "fresh": "a classifier trained from scratch on half of the episodes, tested on the other half"}
    against = ("minus chance 1/K" if baseline == "chance" else
               f"minus the same for {LABELS.get(baseline, baseline)} (paired by seed)")
    return Samples(
        v.to_numpy(), statistic="iqm", budget=float(total),
        note=f"{algo}, K = {K} skills, {mode} evaluation rollouts (fresh episodes, never trained on) at the end "
             f"of training: {what[measure]}, {against}; strata: layouts {lays}; {len(v)} seeds")


@MEASURES.register("coverage", {**COMMON, "baseline": {"type": "string"},
                                "grid": {"type": "integer", "minimum": 1},
                                "episodes_per_skill": {"type": ["integer", "null"], "minimum": 1}})
def coverage(table: pd.DataFrame, params: dict, cp: dict) -> Samples:
    """Per seed and layout: state-space coverage of DIAYN's skills minus the random skills'."""

    table, K = _skills(table, params, cp)
    lays, mode, total = _common(table, params, cp)
    grid = int(cp.get("grid", params["eval"]["coverage_grid"]))
    eps = cp.get("episodes_per_skill")
    cov = final_coverage(table, grid, mode, eps, float(params["env"]["bound"]))
    d = _per_seed_layout(cov, cp.get("algo", "diayn"), lays)
    b = _per_seed_layout(cov, cp.get("baseline", "random_skills"), lays)
    seeds = d.index.intersection(b.index)
    diff = (d.loc[seeds] - b.loc[seeds]).dropna()
    return Samples(
        diff.to_numpy(), statistic="iqm", budget=float(total),
        note=f"K = {K} skills: coverage (fraction of {grid}x{grid} cells visited by all skills' {mode} evaluation "
             f"rollouts, {'all' if eps is None else eps} episode(s) per skill) of DIAYN minus random skills, paired by "
             f"seed; strata: layouts {lays}; {len(diff)} seeds")


def _stats(v: pd.Series | pd.DataFrame) -> str:
    a = v.to_numpy(dtype=float).ravel()
    a = a[~pd.isna(a)]
    return f"{a.mean():.3f} (seeds {a.min():.3f}..{a.max():.3f})" if a.size else "none"


@MEASURES.register("end_spread", {**COMMON, "baseline": {"type": ["string", "null"]},
                                  "reference": {"enum": ["random_policy", "none"]},
                                  "points": {"enum": ["episodes", "skill_means"]}})
def end_spread(table: pd.DataFrame, params: dict, cp: dict) -> Samples:
    """Per seed and layout: how far apart ``algo``'s skills end (:func:`pairwise_spread` of the final
    evaluation in ``eval_mode``) minus the larger of the references: ``baseline`` (an algorithm evaluated the
    same way, paired by seed; null: none) and ``reference: random_policy`` (the expected end-point distance of
    two independent uniform-random-policy episodes, :func:`random_policy_spread`; ``none``: no such reference)."""
    table, K = _skills(table, params, cp)
    lays, mode, total = _common(table, params, cp)
    algo = cp.get("algo", "diayn")
    baseline = cp.get("baseline", "random_skills")
    baseline = None if baseline in (None, "none") else baseline
    reference = cp.get("reference", "random_policy")
    points = cp.get("points", "episodes")
    sp = final_spread(table, mode, points)
    v = _per_seed_layout(sp, algo, lays).dropna()
    refs, parts = [], []
    if baseline is not None:
        b = _per_seed_layout(sp, baseline, lays)
        seeds = v.index.intersection(b.dropna().index)
        v, b = v.loc[seeds], b.loc[seeds]
        refs.append(b)
        parts.append(f"{LABELS.get(baseline, baseline)} (same evaluation, paired by seed; its spread {_stats(b)})")
    if reference == "random_policy":

        r = {lay: random_policy_spread(params, lay) for lay in lays}
        refs.append(pd.DataFrame([r] * len(v), index=v.index, columns=lays, dtype=float))
        parts.append("a uniform random policy of the same action scale (expected end-point distance of two "
                     "independent episodes: " + ", ".join(f"{lay} {x:.3f}" for lay, x in r.items()) + ")")
    ref = pd.concat(refs).groupby(level=0).max() if refs else 0.0
    diff = (v - ref).dropna() if refs else v
    what = {"episodes": "mean distance between the final positions of episodes of different skills",
            "skill_means": "mean distance between the skills' mean final positions"}[points]
    return Samples(
        diff.to_numpy(dtype=float), statistic="iqm", budget=float(total),
        note=f"{algo}, K = {K} skills, {mode} evaluation at the end of training: {what} "
             f"(its spread {_stats(v)}), minus " + (" and ".join(parts) + " (the larger)" if parts else "nothing")
             + f"; strata: layouts {lays}; {len(diff)} seeds")


@MEASURES.register("passage_skills", {**COMMON, "baseline": {"type": ["string", "null"]},
                                      "min_episode_share": {"type": "number", "exclusiveMinimum": 0,
                                                            "maximum": 1}})
def passage_skills_measure(table: pd.DataFrame, params: dict, cp: dict) -> Samples:
    """Per seed, passage layout: how many of ``algo``'s skills reach the other room (in at least
    ``min_episode_share`` of their ``eval_mode`` final evaluation episodes), minus the same count for
    ``baseline`` (an algorithm, paired by seed; ``none``: nothing subtracted, the control's count is reported)."""

    table, K = _skills(table, params, cp)
    _, mode, total = _common(table, params, cp)
    algo = cp.get("algo", "diayn")
    baseline = cp.get("baseline") or "none"
    share = float(cp.get("min_episode_share", 0.5))
    n = passage_skills(table, params, mode, share)
    algos = set(n.index.get_level_values("algo")) if len(n) else set()
    v = n.xs(algo, level="algo") if algo in algos else pd.Series(dtype=float)
    control = "random_skills" if baseline == "none" else baseline
    c = n.xs(control, level="algo") if control in algos else pd.Series(dtype=float)
    if baseline != "none":
        seeds = v.index.intersection(c.index)
        out = v.loc[seeds] - c.loc[seeds]
        against = f"minus {LABELS.get(baseline, baseline)}'s count (same evaluation, paired by seed)"
    else:
        out = v
        against = f"{LABELS.get(control, control)}'s own count, not subtracted: {_stats(c)}"
    return Samples(
        out.to_numpy(dtype=float), statistic="iqm", budget=float(total),
        note=f"{algo}, K = {K} skills, passage layout, {mode} evaluation at the end of training: skills whose "
             f"episodes reach the other room in at least {share:g} of their episodes, {_stats(v)} of {K}; "
             f"{against}; {len(out)} seeds")
