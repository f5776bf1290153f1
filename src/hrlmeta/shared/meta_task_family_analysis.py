"""Torch-free analysis of the Directed-MAML task-family harness's run tables (:mod:`.meta_task_family`),
shared by the measures, figures and report of ``cartpole_meta``, ``cartpole_flip_meta`` and
``lunarlander_meta``: convergence to a return threshold, the interleaved timing rows, the samples each
held-out evaluation was trained on, and meta-learner vs transfer at matched samples."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..algos.meta_variants import VARIANTS
from .criterion import episodes_to_criterion
from .torch_runs import adapt_rows

#: the agents of the harness (experiment.yaml of each task family lists the same)
ALGOS = ("maml", "fomaml", "directed_maml", "directed_fomaml", "pretrained", "random_init")
TRAINED = tuple(VARIANTS)
LABELS = {"maml": "MAML", "fomaml": "FOMAML", "directed_maml": "Directed-MAML",
          "directed_fomaml": "Directed-FOMAML", "pretrained": "pretrained (transfer)",
          "random_init": "random init"}


def adapt_at(table: pd.DataFrame, iteration="final") -> pd.DataFrame:
    """Adaptation rows (with ``step``) evaluated after ``iteration`` meta-iterations; ``final``: each run's
    last evaluation (random_init: its only one, before any training)."""
    a = adapt_rows(table)
    if iteration == "final":
        last = a.groupby(["algo", "seed"])["iteration"].transform("max")
        return a[a["iteration"] == last]
    return a[(a["iteration"] == int(iteration)) | (a["algo"] == "random_init")]


def convergence_table(table: pd.DataFrame, threshold: float, window: int) -> pd.DataFrame:
    """Per (algo, seed): meta-iterations (``iters``), environment steps (``env_steps``) and training wall
    seconds (``train_s``) until the trailing mean of the post-adaptation return over ``window``
    meta-iterations reaches ``threshold`` and stays there; ``censored`` when it is not there at the last
    iteration (then the whole run, a lower bound)."""
    mt = table[table["phase"] == "meta_train"]
    out = []
    for (algo, seed), g in mt.groupby(["algo", "seed"], sort=True):
        g = g.sort_values("iteration")
        it, cens = episodes_to_criterion(g["iteration"].to_numpy(), -g["return"].to_numpy(), -threshold, 0.0,
                                         window)
        upto = g[g["iteration"] <= it]
        out.append({"algo": algo, "seed": int(seed), "iters": it + 1, "censored": cens,
                    "env_steps": float(upto["env_steps"].sum()), "train_s": float(upto["wall_s"].sum())})
    return pd.DataFrame(out, columns=["algo", "seed", "iters", "censored", "env_steps", "train_s"])


def cost_rows(table: pd.DataFrame) -> pd.DataFrame:
    """Seconds per meta-iteration by (seed, variant) from the in-process ``cost_*`` rows."""
    c = table[table["phase"].str.startswith("cost_")].copy()
    c["variant"] = c["phase"].str[len("cost_"):]
    return c.pivot_table(index="seed", columns="variant", values="wall_s")


def _criterion(cp: dict) -> tuple[float, int]:
    crit = cp.get("criterion", {}) or {}
    return float(crit.get("threshold", 175.0)), int(crit.get("window", 3))


def _reduction(table, cp, measure: str, base: str, agent: str):
    thr, win = _criterion(cp)
    ct = convergence_table(table, thr, win).set_index(["algo", "seed"])
    missing = [a for a in (base, agent) if a not in ct.index.get_level_values("algo")]
    if missing:
        return np.empty(0), ct, f"no meta-training runs of {missing}"
    if measure == "wall_s":
        if cp.get("source", "interleaved") == "interleaved":
            cost = cost_rows(table)
            if base not in cost or agent not in cost:
                return np.empty(0), ct, f"no in-process timing rows (cost.repeats = 0?) for {base}/{agent}"
            x = {a: ct.loc[a]["iters"] * cost[a] for a in (base, agent)}
            how = "meta-iterations to threshold x median s per meta-iteration (timed interleaved in one process)"
        else:
            x = {a: ct.loc[a]["train_s"] for a in (base, agent)}
            how = "summed wall seconds of the training iterations up to the threshold (separate jobs)"
    else:
        x = {a: ct.loc[a][measure] for a in (base, agent)}
        how = {"iters": "meta-iterations to threshold", "env_steps": "environment steps to threshold (medium-"
               "task samples included)"}[measure]
    seeds = x[base].dropna().index.intersection(x[agent].dropna().index)
    red = 1.0 - x[agent][seeds] / x[base][seeds]
    cens = {a: int(ct.loc[a]["censored"].sum()) for a in (base, agent)}
    note = (f"per seed: 1 - ({how} of {agent}) / (same of {base}); threshold: trailing mean over {win} "
            f"meta-iteration(s) of the post-adaptation training return >= {thr:g} and staying there; censored "
            f"runs (counted as the whole run, a lower bound): {cens}; {len(seeds)} seeds")
    return red.to_numpy(dtype=float), ct, note


def samples_before(table: pd.DataFrame, algo: str, params: dict) -> pd.DataFrame:
    """Per (seed, evaluated iteration) of ``algo``: environment steps (``env_steps``) and trajectories
    (``traj``) sampled by meta-training before that held-out evaluation (medium-task samples included)."""
    mt = table[(table["phase"] == "meta_train") & (table["algo"] == algo)]
    ev = adapt_rows(table)
    ev = ev[(ev["algo"] == algo) & (ev["step"] == 0)][["seed", "iteration"]].drop_duplicates()
    per_iter = trajectories_per_iteration(algo, params) if algo in TRAINED else 0.0
    out = []
    for seed, it in zip(ev["seed"], ev["iteration"]):
        g = mt[(mt["seed"] == seed) & (mt["iteration"] < it)]
        out.append({"seed": int(seed), "iteration": int(it), "env_steps": float(g["env_steps"].sum()),
                    "traj": float(it) * per_iter})
    return pd.DataFrame(out, columns=["seed", "iteration", "env_steps", "traj"])


def trajectories_per_iteration(algo: str, params: dict) -> float:
    """Trajectories one meta-iteration of ``algo`` samples: n_tasks x n_traj per batch, two batches for the
    adapted variants (before and after the inner step), one for ``pretrained``; plus the medium task's
    ``pre_n_traj`` for the directed ones."""
    adapt, _, directed = VARIANTS[algo]
    meta, dr = params["meta"], params["directed"]
    n_tasks, n_traj = int(meta["n_tasks"]), int(meta["n_traj"])
    return float(n_tasks * n_traj * (1 + adapt) + (int(dr["pre_n_traj"]) if directed else 0))


def transfer_gap(table: pd.DataFrame, params: dict, cp: dict) -> tuple[np.ndarray, str]:
    """Per seed: held-out return after ``adapt_step`` adaptation steps of ``agent`` (evaluated after
    ``iteration`` meta-iterations) minus that of ``baseline`` at the evaluation that matches it by ``match``:

    * ``env_steps`` (the claim's primary): the baseline's evaluation whose meta-training environment steps
      are closest to the agent's (MAML samples two batches per iteration, the pretrained policy one, so equal
      iterations would give MAML about twice the samples);
    * ``trajectories``: the baseline's evaluation after as many sampled trajectories (MAML at i iterations vs
      pretrained at 2i), skipped for a seed where that checkpoint was not evaluated;
    * ``iterations``: the same number of meta-iterations (MAML gets about twice the samples).
    """
    k = int(cp.get("adapt_step", 1))
    when = cp.get("iteration", "final")
    match = cp.get("match", "env_steps")
    agent, baseline = cp.get("agent", "maml"), cp.get("baseline", "pretrained")
    if match not in ("env_steps", "trajectories", "iterations"):
        raise ValueError(f"params.match {match!r} is not one of ['env_steps', 'trajectories', 'iterations']")
    a = adapt_rows(table)
    a = a[a["step"] == k]
    ret = {algo: a[a["algo"] == algo].set_index(["seed", "iteration"])["return"] for algo in (agent, baseline)}
    if ret[agent].empty or ret[baseline].empty:
        return np.empty(0), f"no {agent}/{baseline} adaptation rows"
    sa, sb = samples_before(table, agent, params), samples_before(table, baseline, params)
    if when == "final":
        sa = sa.loc[sa.groupby("seed")["iteration"].idxmax()]
    else:
        sa = sa[sa["iteration"] == int(when)]
    diffs, used, ratios = [], [], []
    for _, r in sa.iterrows():
        cand = sb[sb["seed"] == r["seed"]]
        if cand.empty:
            continue
        if match == "iterations":
            pick = cand[cand["iteration"] == r["iteration"]]
        elif match == "trajectories":
            pick = cand[np.isclose(cand["traj"], r["traj"])]
        else:
            pick = cand.loc[[(cand["env_steps"] - r["env_steps"]).abs().idxmin()]]
        if pick.empty:
            continue
        p = pick.iloc[0]
        key_a, key_b = (int(r["seed"]), int(r["iteration"])), (int(p["seed"]), int(p["iteration"]))
        if key_a not in ret[agent].index or key_b not in ret[baseline].index:
            continue
        diffs.append(float(ret[agent].loc[key_a]) - float(ret[baseline].loc[key_b]))
        used.append(int(p["iteration"]))
        if r["env_steps"] > 0:
            ratios.append(float(p["env_steps"]) / float(r["env_steps"]))
    how = {"env_steps": "the evaluation with the closest number of meta-training environment steps",
           "trajectories": "the evaluation after as many sampled trajectories",
           "iterations": "the same number of meta-iterations"}[match]
    ratio = f"; {baseline}/{agent} env steps at the matched evaluations: median {np.median(ratios):.2f}" \
        if ratios else ""
    note = (f"per seed: held-out return after {k} adaptation step(s), {agent} after {when} meta-iterations minus "
            f"{baseline} at {how} ({baseline} iterations used: {sorted(set(used))}){ratio}; {len(diffs)} seeds")
    return np.asarray(diffs, dtype=float), note
