"""``python -m hrlmeta.bench cartpole_meta``: seconds per meta-iteration of every meta-trained agent of
``cartpole_meta`` and the environment-step throughput of the batched CartPole task family against
gymnasium's own ``CartPoleEnv`` stepped one step per Python call, all in this process.

Meta-iterations: the default config's agent settings (``--config`` overlays it), timed interleaved from
the same parameters and random streams (:func:`hrlmeta.shared.meta_task_family.time_variants`: one
warm-up round, then the median of ``--repeats`` rounds). The parameters are first trained for
``--pretrain`` meta-iterations of the pretrained agent so that episodes are longer than the initial
policy's ~20 steps (the sampling cost grows with episode length).

Environment steps: ``--batch`` carts of random tasks with random actions stepped ``--steps`` times as one
tensor operation per step (dynamics only, no policy), vs gymnasium's ``CartPoleEnv.step`` in a Python
loop (reset on termination), and gymnasium's own vectorised ``CartPoleVectorEnv`` for reference. Medians
over ``--repeats`` after a warm-up.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from . import median_time
from ..experiments import REGISTRY


def env_throughput(batch: int, steps: int, repeats: int) -> dict:
    import gymnasium as gym
    from gymnasium.envs.classic_control.cartpole import CartPoleEnv

    from ..envs.cartpole import CartPoleFamily

    fam = CartPoleFamily()
    gen = torch.Generator().manual_seed(0)
    tasks = fam.sample_tasks(batch, gen)
    actions = torch.randint(0, 2, (steps, batch), generator=gen)

    def batched():
        state = fam.reset((batch,), gen)
        for t in range(steps):
            state, _ = fam.step(state, actions[t], tasks)

    n_gym = steps * 20
    rng = np.random.default_rng(0)
    acts = rng.integers(0, 2, size=n_gym).tolist()
    env = CartPoleEnv()

    def gymnasium_loop():
        env.reset(seed=0)
        for a in acts:
            _, _, term, _, _ = env.step(a)
            if term:
                env.reset()

    venv = gym.make_vec("CartPole-v1", num_envs=batch, vectorization_mode="vector_entry_point")
    vacts = rng.integers(0, 2, size=(steps, batch))

    def gymnasium_vector():
        venv.reset(seed=0)
        for t in range(steps):
            venv.step(vacts[t])

    s_b = median_time(batched, repeats)
    s_g = median_time(gymnasium_loop, repeats)
    s_v = median_time(gymnasium_vector, repeats)
    venv.close()
    return {"batched": batch * steps / s_b, "gymnasium": n_gym / s_g, "gymnasium_vector": batch * steps / s_v}


def main(argv: list[str]) -> dict:
    ap = argparse.ArgumentParser(prog="python -m hrlmeta.bench cartpole_meta")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--pretrain", type=int, default=15, help="pretrained meta-iterations before timing")
    ap.add_argument("--batch", type=int, default=1000, help="carts stepped at once (env throughput)")
    ap.add_argument("--steps", type=int, default=200, help="steps per throughput repeat")
    ap.add_argument("--config", action="append", default=[], help="overlay(s) on config/config.yaml")
    ap.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)

    from ..config import load_config
    from ..shared import meta_task_family as X

    params = dict(load_config(REGISTRY, *a.config)["experiments"]["cartpole_meta"]["params"])
    params["device"] = a.device
    learner = X._learner("pretrained", 0, params)
    for _ in range(a.pretrain):
        st = learner.step()
    from ..algos import maml as M

    theta = M.detach(learner.theta)
    timed = X.time_variants(theta, 0, params, a.repeats)
    s = {v: t for v, (t, _) in timed.items()}
    thr = env_throughput(a.batch, a.steps, a.repeats)
    return {
        "s_per_meta_iter": s,
        "env_steps_per_s": thr,
        "ratio": thr["batched"] / thr["gymnasium"],
        "directed_maml_over_maml": s["directed_maml"] / s["maml"],
        "return_at_timing": st["return_post"] if a.pretrain else None,
        "config": {k: params[k] for k in ("env", "policy", "meta", "directed")},
        "device": a.device,
    }
