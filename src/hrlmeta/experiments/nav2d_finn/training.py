"""Training of ``nav2d_finn``: one run per (algorithm, seed): meta-training, the held-out adaptation and,
for ``maml``, the interleaved MAML-vs-FOMAML timing (see the package's docstring for the rows it writes)."""

from __future__ import annotations

import time

import pandas as pd

from ...numerics import configure_torch
from ...progress import progress
# torch (MAML's learner, the batched Nav2D) is imported inside the training functions
from ...shared.torch_runs import device as _device
from ...shared.torch_runs import generator as _generator
from .analysis import ALGOS

ENV_NAME = "nav2d_point_finn2017"

_TRAINED = {"maml": (1, True), "fomaml": (1, False), "pretrained": (0, False)}


def make_env(params: dict) -> Nav2D:  # noqa: F821 (imported inside)
    from ...envs.nav2d import Nav2D

    return Nav2D(**params["env"])


def make_config(params: dict, hidden=None) -> M.MamlConfig:  # noqa: F821 (imported inside)
    from ...algos import maml as M

    meta, trpo, pol = params["meta"], params["trpo"], params["policy"]
    kw = {k: v for k, v in meta.items() if k != "n_iterations"}
    kw.update(trpo)
    kw["hidden"] = tuple(hidden if hidden is not None else pol["hidden"])
    if "init_log_std" in pol:
        kw["init_log_std"] = pol["init_log_std"]
    return M.MamlConfig(**kw)


def _row(iteration: int, phase: str, ret: float, wall: float, **extra) -> dict:
    return {"env": ENV_NAME, "iteration": int(iteration), "phase": phase, "return": float(ret),
            "wall_s": float(wall), **extra}


def _train(algo: str, seed: int, params: dict) -> pd.DataFrame:
    from ...algos import maml as M

    if algo not in ALGOS:
        raise KeyError(f"nav2d_finn has no algorithm {algo!r}; its algorithms: {', '.join(ALGOS)}")
    device = _device(params)
    configure_torch(1)  # pinned kernels, deterministic algorithms, 1 intra-op thread (results depend on it)
    env = make_env(params)
    cfg = make_config(params)
    n_iter = int(params["meta"]["n_iterations"])
    ev = params["eval"]
    rows: list[dict] = []

    theta = M.init_policy(env.obs_dim, env.act_dim, cfg.hidden, _generator(device, seed, 0), cfg.init_log_std,
                          device=device)
    if algo in _TRAINED:
        adapt_steps, second_order = _TRAINED[algo]
        gen = _generator(device, seed, 1)
        for it in progress(range(n_iter), desc=f"{algo} seed {seed}", unit="meta-iter", leave=False):
            t0 = time.perf_counter()
            theta, st = M.meta_iteration(theta, env, cfg, gen, adapt_steps, second_order)
            wall = time.perf_counter() - t0
            rows.append(_row(it, "meta_train", st["return_post"], wall, return_pre=st["return_pre"],
                             kl=st["kl"], loss=st["loss"], grad_norm=st["grad_norm"],
                             backtracks=int(st["backtracks"]), n_tasks=cfg.n_tasks))

    # held-out evaluation: tasks and noise from (task_seed, seed), shared by all algorithms of the seed
    eval_gen = _generator(device, int(ev["task_seed"]), seed)
    goals = env.sample_goals(int(ev["n_tasks"]), eval_gen, device=device)
    steps = [float(x) for x in ev["step_sizes"]]
    curve = M.evaluate_adaptation(theta, env, goals, int(ev["n_traj"]), steps, eval_gen, cfg)
    for k, (task_returns, wall) in enumerate(curve):
        rows.append(_row(n_iter if algo in _TRAINED else 0, f"adapt_{k}", float(task_returns.mean()), wall,
                         n_tasks=int(goals.shape[0])))

    cost = params["cost"]
    if algo == "maml" and int(cost["repeats"]) > 0:
        from ...algos.maml import time_variants

        # the configured width for every seed (the cost claim), the sweep widths for cost.seeds only
        widths = [cfg.hidden[0]] + (list(cost["widths"]) if seed in cost["seeds"] else [])
        for w in sorted(set(widths)):
            r = time_variants(env, make_config(params, hidden=(w,) * len(cfg.hidden)),
                              int(cost["repeats"]), seed=seed, device=device)
            for variant in ("maml", "fomaml"):  # wall_s is the only measured column of the table
                rows.append(_row(n_iter, f"cost_w{w}_{variant}", r["return_post"][variant],
                                 r["s_per_meta_iter"][variant], width=int(w)))
    df = pd.DataFrame(rows)
    df.insert(2, "algo", algo)
    df.insert(3, "seed", int(seed))
    return df


def train(algo: str, seeds: list[int], params: dict) -> list[pd.DataFrame]:
    """One table per seed, trained in turn (not batched)."""
    return [_train(algo, int(s), params) for s in seeds]
