"""Benchmark ``rl2``: environment steps per second of RL^2 training (PPO iterations over batched trials,
rollout + update) and of the bandit / tabular-MDP baselines (evaluation over a batch of tasks), on one
core. Medians over repeats after a warm-up (:func:`hrlmeta.bench.median_time`).

RL^2 training runs with the default-scale PPO settings of ``config/config.yaml`` (batch of trials,
epochs, minibatches, hidden units). For comparison, measured in the same process, the bench also runs a
*reference* rollout written the straightforward way -- the numpy task classes of :mod:`hrlmeta.envs`
stepped once per time step, inputs assembled in numpy and converted to torch at every step, the
``nn.GRU`` module called per step, ``torch.multinomial`` sampling -- followed by the same PPO update
(``reference_training_env_steps_per_s``), and both rollouts alone (``rollout_env_steps_per_s``).

``python -m hrlmeta.bench rl2 [--repeats R] [--iterations I] [--tasks N]``
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from . import median_time
from ..experiments import REGISTRY


def _reference_rollout(policy, case: str, n: int, n_tasks: int, rng, gen, horizon: int = 10) -> dict:
    """One trial played per step through numpy environments (see the module docstring)."""
    from ..envs.bandits import BernoulliBandits, sample_means
    from ..envs.tabular_mdp import TabularMDPs, sample_mdps

    if case == "bandit":
        env = BernoulliBandits(sample_means(rng, n_tasks, policy.n_actions), rng)
        T, obs = n, np.ones((n_tasks, 1))
    else:
        env = TabularMDPs(*sample_mdps(rng, n_tasks, policy.obs_dim, policy.n_actions), horizon, rng)
        T, obs = n * horizon, np.eye(policy.obs_dim)[env.reset()]
    prev_a, prev_r, prev_d = np.full(n_tasks, -1), np.zeros(n_tasks), np.zeros(n_tasks)
    X = torch.zeros(T, n_tasks, policy.in_dim)
    A = torch.zeros(T, n_tasks, dtype=torch.long)
    LP, V, Rw = torch.zeros(T, n_tasks), torch.zeros(T, n_tasks), np.zeros((T, n_tasks))
    h = policy.initial_state(n_tasks)
    with torch.no_grad():
        for t in range(T):
            onehot = np.zeros((n_tasks, policy.n_actions))
            has = prev_a >= 0
            onehot[has, prev_a[has]] = 1.0
            x = torch.as_tensor(np.concatenate([obs, onehot, prev_r[:, None], prev_d[:, None]], 1),
                                dtype=torch.float32)
            out, h = policy.gru(x[None], h)
            logits, v = policy.heads(out[0])
            probs = torch.softmax(logits, -1)
            a = torch.multinomial(probs, 1, generator=gen).squeeze(1)
            X[t], A[t], V[t] = x, a, v
            LP[t] = torch.log(probs.gather(1, a[:, None]).squeeze(1))
            a_np = a.numpy()
            if case == "bandit":
                r, done = env.pull(a_np), True
            else:
                s, r, done = env.step(a_np)
                obs = np.eye(policy.obs_dim)[env.reset() if done else s]
            Rw[t] = r
            prev_a, prev_r, prev_d = a_np, r, np.full(n_tasks, float(done))
    return {"X": X, "A": A, "logp": LP, "values": V, "rewards": torch.as_tensor(Rw, dtype=torch.float32)}


def main(argv: list[str]) -> dict:
    ap = argparse.ArgumentParser(prog="python -m hrlmeta.bench rl2")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--iterations", type=int, default=3, help="PPO iterations per timed RL^2 training call")
    ap.add_argument("--tasks", type=int, default=1000, help="tasks per baseline evaluation")
    a = ap.parse_args(argv)
    torch.set_num_threads(1)

    from ..algos import bandit_baselines as bb
    from ..algos import mdp_baselines as mb
    from ..algos import rl2
    from ..config import experiment_params, load_config
    from ..envs.bandits import sample_means
    from ..envs.tabular_mdp import sample_mdps

    cfg = load_config(REGISTRY)
    ppo = {"bandit": experiment_params(cfg, "bandits_duan")["rl2"]["ppo"],
           "mdp": experiment_params(cfg, "tabular_mdp_duan")["rl2"]["ppo"]}
    cases = {
        "rl2_bandit_n10_k5": ("bandit", 10, rl2.BanditMetaEnv(10, 5)),
        "rl2_bandit_n100_k5": ("bandit", 100, rl2.BanditMetaEnv(100, 5)),
        "rl2_mdp_n10": ("mdp", 10, rl2.TabularMDPMetaEnv(10)),
    }
    train, ref_train, roll, ref_roll = {}, {}, {}, {}
    for name, (kind, n, env) in cases.items():
        pc = rl2.PPOConfig.from_params({**ppo[kind], "iterations": a.iterations, "torch_threads": 1})
        B, steps = pc.batch_tasks, pc.batch_tasks * env.trial_length
        t = median_time(lambda: rl2.train(env, pc, seed=0), repeats=a.repeats, warmup=1)
        train[name] = a.iterations * steps / t

        policy, _ = rl2.train(env, rl2.PPOConfig.from_params({**ppo[kind], "iterations": 1}), seed=0)
        opt = torch.optim.Adam(policy.parameters(), lr=pc.lr, eps=1e-5)

        def reference_training():
            rng, gen, stats = np.random.default_rng(0), torch.Generator().manual_seed(0), rl2.RunningStats()
            for _ in range(a.iterations):
                ro = _reference_rollout(policy, kind, n, B, rng, gen)
                rl2.ppo_update(policy, opt, ro, stats, pc, pc.entropy_coef, gen)

        t = median_time(reference_training, repeats=a.repeats, warmup=1)
        ref_train[name] = a.iterations * steps / t
        rng, gen = np.random.default_rng(1), torch.Generator().manual_seed(1)
        t = median_time(lambda: rl2.rollout(policy, env, B, rng, gen), repeats=a.repeats, warmup=1)
        roll[name] = steps / t
        t = median_time(lambda: _reference_rollout(policy, kind, n, B, rng, gen), repeats=a.repeats, warmup=1)
        ref_roll[name] = steps / t

    baseline = _against_baseline(cases, ppo, a)
    out: dict[str, float] = dict(train)
    rng = np.random.default_rng(0)
    means = sample_means(rng, a.tasks, 10)
    for name, hp in (("greedy", {}), ("ucb1", {"c": 0.2}), ("thompson", {}), ("ots", {"n_samples": 4}),
                     ("gittins_approx", {})):
        t = median_time(lambda: bb.evaluate(name, 100, 10, means, np.random.default_rng(1), **hp),
                        repeats=a.repeats)
        out[f"{name}_bandit_n100_k10"] = a.tasks * 100 / t
    t = median_time(lambda: bb.evaluate("gittins", 10, 10, means, np.random.default_rng(1)), repeats=a.repeats)
    out["gittins_dp_bandit_n10_k10"] = a.tasks * 10 / t
    R, P = sample_mdps(rng, a.tasks)
    for name, hp in (("psrl", {}), ("opsrl", {"n_samples": 3}), ("beb", {"beta": 1.0})):
        t = median_time(lambda: mb.evaluate(name, 10, R, P, 10, np.random.default_rng(1), **hp),
                        repeats=a.repeats)
        out[f"{name}_mdp_n10"] = a.tasks * 100 / t
    r1 = lambda d: {k: round(v, 1) for k, v in d.items()}  # noqa: E731
    return {"config": {"tasks": a.tasks, "repeats": a.repeats, "iterations": a.iterations, "threads": 1,
                       "ppo_bandit": {k: ppo["bandit"][k] for k in ("batch_tasks", "hidden", "epochs", "minibatches")},
                       "ppo_mdp": {k: ppo["mdp"][k] for k in ("batch_tasks", "hidden", "epochs", "minibatches")}},
            "env_steps_per_s": r1(out),
            "reference_training_env_steps_per_s": r1(ref_train),
            "training_speedup_vs_reference": {k: round(train[k] / ref_train[k], 2) for k in train},
            "rollout_env_steps_per_s": r1(roll),
            "reference_rollout_env_steps_per_s": r1(ref_roll),
            "rollout_speedup_vs_reference": {k: round(roll[k] / ref_roll[k], 2) for k in roll},
            "vs_3a2a998": baseline,
            "device": "cpu"}


def _against_baseline(cases: dict, ppo: dict, a) -> dict:
    """RL^2 training (rollout + PPO update, ``a.iterations`` iterations) at the default cells' shapes with
    today's code and with :data:`hrlmeta.bench._baseline.BASELINE`'s ``algos/rl2.py`` imported beside it, the
    calls alternated in this process: environment steps per second of each and their ratio (today / then),
    and whether both trained to the same numbers (same final return)."""
    from ..algos import rl2
    from ._baseline import BASELINE, BaselineUnavailable, alternated, load

    try:
        old = load("algos/rl2.py", BASELINE)
    except BaselineUnavailable as e:
        return {"unavailable": str(e)}
    res = {"method": f"src/hrlmeta/algos/rl2.py at {BASELINE} imported beside today's, calls alternated in one "
                     "process, medians", "cells": {}}
    for name, (kind, n, _) in cases.items():
        over = {"batch_tasks": 256} if name == "rl2_bandit_n100_k5" else {}
        runs, finals = {}, {}
        for label, mod in (("today", rl2), (BASELINE, old)):
            env = mod.BanditMetaEnv(n, 5) if kind == "bandit" else mod.TabularMDPMetaEnv(n)
            pc = mod.PPOConfig(**{**ppo[kind], **over, "iterations": a.iterations, "torch_threads": 1})

            def run(mod=mod, env=env, pc=pc, label=label):
                finals[label] = mod.train(env, pc, seed=0)[1][-1]["return"]

            runs[label] = run
            steps = a.iterations * pc.batch_tasks * env.trial_length
        t = alternated(runs, repeats=a.repeats)
        res["cells"][name] = {"env_steps_per_s": {k: round(steps / v, 1) for k, v in t.items()},
                              "speedup": round(t[BASELINE] / t["today"], 3),
                              "same_numbers": finals["today"] == finals[BASELINE]}
    return res
