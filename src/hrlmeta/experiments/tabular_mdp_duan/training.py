"""Training of ``tabular_mdp_duan``: one run per (algorithm, seed) covers every configured n (see the
package's docstring for the rows it writes)."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from ... import checkpoint
from ...algos import mdp_baselines as mb
from ...envs.tabular_mdp import sample_mdps
from .analysis import ALGOS

ENV = "random_tabular_mdp"


def _mdp_kw(params):
    return {"n_states": params["n_states"], "n_actions": params["n_actions"]}


def _prior(params):
    return {"prior_reward_mean": params["prior_reward_mean"]}


def _eval_tasks(seed, n, params):
    return sample_mdps(np.random.default_rng([seed, n, 0]), params["eval_tasks"], **_mdp_kw(params))


def _rows_for(n, totals, per_episode, iteration, hparam, expected_opt, wall_s):
    rows = [{"phase": "eval", "iteration": int(iteration), "return": float(totals.mean()),
             "std": float(totals.std(ddof=1)), "n_tasks": int(totals.size), "hparam": hparam,
             "expected_optimal": float(expected_opt), "n": int(n), "wall_s": float(wall_s)}]
    rows += [{"phase": "per_episode", "iteration": e + 1, "return": float(r), "n": int(n), "wall_s": 0.0}
             for e, r in enumerate(per_episode)]
    return rows


def _baseline(algo, seed, params):
    rows = []
    a_idx = ALGOS.index(algo)
    H = params["horizon"]
    for n in params["n_episodes"]:
        n = int(n)
        t0 = time.perf_counter()
        R, P = _eval_tasks(seed, n, params)
        hp, hparam = {}, ""
        if algo in mb.TUNED:
            key, default_grid = mb.TUNED[algo]
            grid = params["tuning_grids"].get(algo, default_grid)
            best, _ = mb.tune(algo, n, H, grid, params["tune_tasks"], np.random.default_rng([seed, n, 1, a_idx]),
                              mdp_kw=_mdp_kw(params), prior=_prior(params))
            hp, hparam = {key: best}, f"{key}={best}"
        res = mb.evaluate(algo, n, R, P, H, np.random.default_rng([seed, n, 2, a_idx]), prior=_prior(params), **hp)
        exp_opt = n * mb.optimal_expected_return(R, P, H).mean()
        rows += _rows_for(n, res["totals"], res["return_per_episode"], 0, hparam, exp_opt,
                          time.perf_counter() - t0)
    return rows


def _rl2(seed, params):
    from ...algos import rl2 as rl2_mod  # torch loads only in RL² jobs (the baselines' jobs skip ~1 CPU-s)

    p = params["rl2"]
    # the run is checkpointed between PPO iterations (hrlmeta.checkpoint: off unless the job enables it)
    cells = checkpoint.Cells(checkpoint.for_run("tabular_mdp_duan", "rl2", [seed], params))
    rows, todo = cells.remaining(p["cells"], lambda c: int(c["iterations"]))
    for i, c, base in todo:
        n = int(c["n"])
        cfg = rl2_mod.PPOConfig.from_params({**p["ppo"], "iterations": int(c["iterations"]),
                                             **({"batch_tasks": c["batch_tasks"]} if "batch_tasks" in c else {})})
        env = rl2_mod.TabularMDPMetaEnv(n, params["horizon"], params["n_states"], params["n_actions"])
        cell_seed = int(np.random.default_rng([seed, n, 7]).integers(2**31))
        policy, log = rl2_mod.train(env, cfg, cell_seed, checkpoint=cells.cell(i, rows, base))
        rows += [{"phase": "meta_train", "iteration": r["iteration"], "return": r["return"],
                  "wall_s": r["wall_s"], "entropy": r["entropy"], "n": n} for r in log]
        t0 = time.perf_counter()
        ev = rl2_mod.evaluate(policy, env, p["eval_tasks"], cell_seed)
        per_ep = ev["reward_per_step"].reshape(n, params["horizon"]).sum(axis=1)
        rows += _rows_for(n, ev["totals"], per_ep, cfg.iterations,
                          f"iterations={cfg.iterations},batch_tasks={cfg.batch_tasks}", np.nan,
                          time.perf_counter() - t0)
    cells.done()
    return rows


def _train(algo: str, seed: int, params: dict) -> pd.DataFrame:
    if algo not in ALGOS:
        raise KeyError(f"tabular_mdp_duan: unknown algorithm {algo!r}; known: {', '.join(ALGOS)}")
    if params["horizon"] < 1:
        raise ValueError(f"tabular_mdp_duan: params.horizon must be >= 1, got {params['horizon']}")
    rows = _rl2(seed, params) if algo == "rl2" else _baseline(algo, seed, params)
    df = pd.DataFrame(rows)
    for col, default in (("std", np.nan), ("n_tasks", 0), ("hparam", ""), ("expected_optimal", np.nan),
                         ("entropy", np.nan)):
        if col not in df:
            df[col] = default
        if col in ("n_tasks", "hparam"):
            df[col] = df[col].fillna(default)
    df["n_tasks"] = df["n_tasks"].astype("int64")
    df.insert(1, "env", ENV)
    df.insert(2, "algo", algo)
    df.insert(3, "seed", int(seed))
    return df


def train(algo: str, seeds: list[int], params: dict) -> list[pd.DataFrame]:
    """One table per seed, trained in turn (not batched)."""
    return [_train(algo, int(s), params) for s in seeds]
