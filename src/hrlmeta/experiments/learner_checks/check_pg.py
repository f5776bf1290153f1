"""Check ``pg_cartpole``: the policy-gradient learner of Directed-MAML's ``pretrained`` (transfer) baseline on
plain CartPole-v1.

The learner is the one the claims of ``cartpole_meta``, ``cartpole_flip_meta`` and ``lunarlander_meta`` run
for their ``pretrained`` algorithm: :class:`hrlmeta.algos.directed_maml.MetaLearner` with variant
``pretrained`` (no inner step: one Adam step per iteration on the vanilla policy-gradient loss of the
unadapted categorical policy, advantages = discounted returns-to-go minus a linear feature baseline fitted per
task, standardised per task), built by the harness's own
:func:`hrlmeta.shared.meta_task_family._learner` (same initialisation and random streams) and sampling with
:func:`hrlmeta.algos.directed_maml.rollout_categorical` on the batched tensor CartPole
(:class:`hrlmeta.envs.cartpole.CartPoleFamily`, checked transition by transition against gymnasium's
``CartPole-v1`` in tests/test_cartpole_meta.py). Plain CartPole-v1 is that family with a one-point task box
(cart mass 1.0 kg, pole mass 0.1 kg, half pole length 0.5 m: gymnasium's values) and the v1 time limit of 500
steps, so every "task" of a meta-batch is the same CartPole and the pretrained update is ordinary
policy-gradient training on one task. Nothing of the learner is changed for the check.

Evaluation: the learner's own convention, as the harness evaluates its policies (``adapt_0`` rows of
:func:`hrlmeta.shared.meta_task_family.run`): ``eval_episodes`` trajectories with actions sampled from the
policy, through :func:`hrlmeta.algos.maml.evaluate_adaptation` with no adaptation step; the evaluation stream
comes from (``eval_seed``, seed), fresh at every evaluation point (as the harness does), independent of the
training streams. Training runs until the first Adam step at or past ``total_steps`` environment steps;
evaluations at the start and whenever the steps pass a multiple of ``eval_every`` (and at the end).

The learner holds one parameter set and one Adam state, so the seeds of a batch train one after the other
in one process (the trajectories of a seed are sampled as one tensor batch).
"""

from __future__ import annotations

import time

import pandas as pd

from ...algos import directed_maml as D
from ...algos import maml as M
from ...shared import meta_task_family as harness
from ...shared.torch_runs import generator as _generator

ENV_ID = "CartPole-v1"
ALGO = "pretrained"  # the harness's variant whose update this check runs


def harness_params(block: dict) -> dict:
    """The task-family harness's params (``device``, ``env``, ``policy``, ``meta``) of a check block."""
    return {"device": block["device"], "env": dict(block["env"]), "policy": dict(block["policy"]),
            "meta": dict(block["meta"])}


def make_learner(seed: int, block: dict) -> D.MetaLearner:
    """The pretrained baseline's learner exactly as the claims' runs build it."""
    hp = harness_params(block)
    return harness._learner(ALGO, int(seed), hp, env_factory=harness.make_env)


def evaluate(learner: D.MetaLearner, seed: int, block: dict) -> float:
    """Mean undiscounted return of ``eval_episodes`` episodes sampled from the current policy."""
    device = harness._device(harness_params(block))
    gen = _generator(device, int(block["eval_seed"]), int(seed))
    task = learner.env.sample_tasks(1, gen, device=device)  # the one-point box: the standard CartPole
    ((returns, _),) = M.evaluate_adaptation(M.detach(learner.theta), learner.env, task, int(block["eval_episodes"]),
                                            [], gen, learner.cfg, sampler=learner.sample)
    return float(returns.mean())


def train_one(seed: int, block: dict) -> pd.DataFrame:
    total, every = int(block["total_steps"]), int(block["eval_every"])
    if total < 1 or every < 1:
        raise ValueError(f"pg_cartpole: total_steps and eval_every must be >= 1, got {total}, {every}")
    learner = make_learner(seed, block)
    rows: list[dict] = []
    steps = updates = episodes = 0
    train_ret = float("nan")
    wall = 0.0

    def point() -> None:
        nonlocal wall
        rows.append({"iteration": len(rows), "phase": "eval", "env_steps": int(steps),
                     "return": evaluate(learner, seed, block), "wall_s": wall, "env": ENV_ID,
                     "updates": int(updates), "episodes": int(episodes), "train_return": train_ret})
        wall = 0.0

    point()
    next_eval = every
    per_iter = learner.cfg.n_tasks * learner.cfg.n_traj
    while steps < total:
        t0 = time.perf_counter()
        st = learner.step()
        wall += time.perf_counter() - t0
        steps += int(st["env_steps"])
        updates += 1
        episodes += per_iter
        train_ret = float(st["return_post"])
        if steps >= next_eval or steps >= total:
            point()
            next_eval = (steps // every + 1) * every
    return pd.DataFrame(rows)


def train_batch(algo: str, seeds: list[int], params: dict) -> list[pd.DataFrame]:
    """One table per seed (seeds in turn: the learner keeps one parameter set and one Adam state)."""
    if algo != "pg_cartpole":
        raise KeyError(f"check_pg trains pg_cartpole, not {algo!r}")
    from ...numerics import configure_torch

    configure_torch(1)  # pinned kernels, deterministic algorithms, 1 intra-op thread (results depend on it)
    return [train_one(int(s), params) for s in seeds]
