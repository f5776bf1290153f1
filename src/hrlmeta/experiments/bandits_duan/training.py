"""Training of ``bandits_duan``: one run per (algorithm, seed) covers every configured cell (see the
package's docstring for the rows it writes)."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from ... import checkpoint
from ...algos import bandit_baselines as bb
from ...envs.bandits import sample_means
from .analysis import ALGOS, _cell

ENV = "bernoulli_bandit"


def _curve_index(n: int, points: int) -> np.ndarray:
    """1-based pull indices at which per-pull curves are recorded (log-spaced, always including n)."""
    idx = np.unique(np.round(np.geomspace(1, n, num=min(points, n))).astype(int))
    return idx


def _curve_rows(n, k, reward_per_pull, regret_per_pull, points) -> list[dict]:
    idx = _curve_index(n, points)
    cr, cg = np.cumsum(reward_per_pull), np.cumsum(regret_per_pull)
    return [
        {"phase": "per_pull", "iteration": int(t), "return": float(cr[t - 1]), "regret": float(cg[t - 1]),
         "n": n, "k": k, "cell": _cell(n, k), "wall_s": 0.0}
        for t in idx
    ]


def _eval_row(n, k, totals, iteration, hparam, method, wall_s) -> dict:
    return {"phase": "eval", "iteration": int(iteration), "return": float(totals.mean()),
            "std": float(totals.std(ddof=1)), "n_tasks": int(totals.size), "hparam": hparam,
            "method": method, "n": n, "k": k, "cell": _cell(n, k), "wall_s": float(wall_s)}


def _baseline(algo: str, seed: int, params: dict) -> list[dict]:
    rows = []
    a_idx = ALGOS.index(algo)
    for c in params["cells"]:
        n, k = int(c["n"]), int(c["k"])
        t0 = time.perf_counter()
        means = sample_means(np.random.default_rng([seed, n, k, 0]), params["eval_tasks"], k)
        hp, hparam, method = {}, "", algo
        if algo in bb.TUNED:
            key, default_grid = bb.TUNED[algo]
            grid = params.get("tuning_grids", {}).get(algo, default_grid)
            best, _ = bb.tune(algo, n, k, grid, params["tune_tasks"],
                              np.random.default_rng([seed, n, k, 1, a_idx]))
            hp, hparam = {key: best}, f"{key}={best}"
        if algo == "gittins":
            hp = {"exact_max_n": params["gittins_exact_max_n"], "discount": params["gittins_discount"]}
            method = "bayes_optimal_dp" if n <= params["gittins_exact_max_n"] else "whittle_index"
        if algo == "gittins_approx":
            hp = {"discount": params["gittins_discount"]}
            method = "whittle_index"
        res = bb.evaluate(algo, n, k, means, np.random.default_rng([seed, n, k, 2, a_idx]), **hp)
        rows.append(_eval_row(n, k, res["totals"], 0, hparam, method, time.perf_counter() - t0))
        rows += _curve_rows(n, k, res["reward_per_pull"], res["regret_per_pull"], params["curve_points"])
    return rows


def _rl2(seed: int, params: dict) -> list[dict]:
    from ...algos import rl2 as rl2_mod  # torch loads only in RL² jobs (the baselines' jobs skip ~1 CPU-s)

    p = params["rl2"]
    # the run is checkpointed between PPO iterations (hrlmeta.checkpoint: off unless the job enables it)
    cells = checkpoint.Cells(checkpoint.for_run("bandits_duan", "rl2", [seed], params))
    rows, todo = cells.remaining(p["cells"], lambda c: int(c["iterations"]))
    for i, c, base in todo:
        n, k = int(c["n"]), int(c["k"])
        cfg = rl2_mod.PPOConfig.from_params({**p["ppo"], "iterations": int(c["iterations"]),
                                             **({"batch_tasks": c["batch_tasks"]} if "batch_tasks" in c else {})})
        env = rl2_mod.BanditMetaEnv(n, k)
        cell_seed = int(np.random.default_rng([seed, n, k, 7]).integers(2**31))
        policy, log = rl2_mod.train(env, cfg, cell_seed, checkpoint=cells.cell(i, rows, base))
        for r in log:
            rows.append({"phase": "meta_train", "iteration": r["iteration"], "return": r["return"],
                         "wall_s": r["wall_s"], "entropy": r["entropy"], "n": n, "k": k, "cell": _cell(n, k)})
        t0 = time.perf_counter()
        ev = rl2_mod.evaluate(policy, env, p["eval_tasks"], cell_seed)
        rows.append(_eval_row(n, k, ev["totals"], cfg.iterations,
                              f"iterations={cfg.iterations},batch_tasks={cfg.batch_tasks}", "rl2_ppo",
                              time.perf_counter() - t0))
        rows += _curve_rows(n, k, ev["reward_per_step"], ev["regret_per_step"], params["curve_points"])
    cells.done()
    return rows


def _train(algo: str, seed: int, params: dict) -> pd.DataFrame:
    if algo not in ALGOS:
        raise KeyError(f"bandits_duan: unknown algorithm {algo!r}; known: {', '.join(ALGOS)}")
    rows = _rl2(seed, params) if algo == "rl2" else _baseline(algo, seed, params)
    df = pd.DataFrame(rows)
    for col, default in (("regret", np.nan), ("std", np.nan), ("n_tasks", 0), ("hparam", ""),
                         ("method", ""), ("entropy", np.nan)):
        if col not in df:
            df[col] = default
        df[col] = df[col].fillna(default) if col in ("n_tasks", "hparam", "method") else df[col]
    df["n_tasks"] = df["n_tasks"].astype("int64")
    df.insert(1, "env", ENV)
    df.insert(2, "algo", algo)
    df.insert(3, "seed", int(seed))
    return df


def train(algo: str, seeds: list[int], params: dict) -> list[pd.DataFrame]:
    """One table per seed, trained in turn (not batched)."""
    return [_train(algo, int(s), params) for s in seeds]
