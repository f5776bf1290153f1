"""``python -m hrlmeta.bench optioncritic [--episodes N] [--repeats R] [--python-episodes M]``: environment
steps per second of whole training runs (learning updates included) of the ``fourrooms_optioncritic``
agents -- compiled ``option_critic_4``, ``option_critic_8``, ``sarsa0``, ``ac_pg`` -- on the option-critic
paper's Four Rooms with the goal switch, single core; and, measured in the same process, the same
option-critic algorithm written as a straightforward pure-Python loop (lists, ``math.exp``,
``random.Random``; one step at a time). ``speedup_vs_python`` = compiled ``option_critic_4`` steps/s over
the pure-Python loop's. Medians over repeats after a warm-up (which also loads the JIT cache).
"""

from __future__ import annotations

import argparse
import math
import os
import random

import numpy as np

from . import median_time


def python_option_critic(next_k, goals, n_options: int, alpha_critic=0.5, alpha_theta=0.25, alpha_beta=0.25,
                         gamma=0.99, epsilon=0.01, temperature=1e-3, max_steps=1000, seed=0) -> int:
    """Option-critic (4 options, intra-option baseline), one Python step at a time. Returns total steps."""
    rng = random.Random(seed)
    n_states, n_actions, k_slots = next_k.shape
    table = next_k.tolist()
    Q = [[0.0] * n_options for _ in range(n_states)]
    QU = [[[0.0] * n_actions for _ in range(n_options)] for _ in range(n_states)]
    theta = [[[0.0] * n_actions for _ in range(n_states)] for _ in range(n_options)]
    vth = [[0.0] * n_states for _ in range(n_options)]

    def choose(s):
        if rng.random() < epsilon:
            return rng.randrange(n_options)
        m = max(Q[s])
        return rng.choice([o for o in range(n_options) if Q[s][o] == m])

    total = 0
    for goal in goals:
        goal = int(goal)
        s = rng.randrange(n_states - 1)
        s = s + 1 if s >= goal else s
        w = choose(s)
        t = 0
        while True:
            prefs = theta[w][s]
            m = max(prefs)
            e = [math.exp((p - m) / temperature) for p in prefs]
            z = sum(e)
            pi = [x / z for x in e]
            a = rng.choices(range(n_actions), weights=pi)[0]
            s2 = table[s][a][int(rng.random() * k_slots)]
            t += 1
            done = s2 == goal
            if done:
                target, b = 1.0, 0.0
            else:
                b = 1.0 / (1.0 + math.exp(-vth[w][s2]))
                target = gamma * ((1 - b) * Q[s2][w] + b * max(Q[s2]))
            QU[s][w][a] += alpha_critic * (target - QU[s][w][a])
            Q[s][w] += alpha_critic * (target - Q[s][w])
            step = alpha_theta * (QU[s][w][a] - Q[s][w])
            for i in range(n_actions):
                prefs[i] -= step * pi[i]
            prefs[a] += step
            if done:
                break
            vth[w][s2] -= alpha_beta * b * (1 - b) * (Q[s2][w] - max(Q[s2]))
            if t >= max_steps:
                break
            if rng.random() < 1.0 / (1.0 + math.exp(-vth[w][s2])):
                w = choose(s2)
            s = s2
        total += t
    return total


def main(argv: list[str]) -> dict:
    ap = argparse.ArgumentParser(prog="python -m hrlmeta.bench optioncritic")
    ap.add_argument("--episodes", type=int, default=2000, help="episodes per compiled run (goal moves halfway)")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--python-episodes", type=int, default=200, help="episodes of the pure-Python loop")
    args = ap.parse_args(argv)

    from ..algos import ac_pg, option_critic, sarsa0
    from ..envs.fourrooms import make_fourrooms

    env = make_fourrooms(2 / 3, "fail_to_neighbour")
    half = args.episodes // 2
    goals = np.r_[np.full(half, env.state((7, 9))), np.full(args.episodes - half, env.state((9, 9)))]
    runs = {
        "option_critic_4": lambda: option_critic.train(env.next_k, goals, 4, seed=0),
        "option_critic_8": lambda: option_critic.train(env.next_k, goals, 8, seed=0),
        "sarsa0": lambda: sarsa0.train(env.next_k, goals, seed=0),
        "ac_pg": lambda: ac_pg.train(env.next_k, goals, seed=0),
    }
    rate = {}
    for name, fn in runs.items():
        n_steps = int(fn()["steps"].sum())  # warm-up (JIT cache load) and the run's step count
        rate[name] = n_steps / median_time(fn, repeats=args.repeats, warmup=0)
    py_goals = goals[: args.python_episodes]
    n_py = python_option_critic(env.next_k, py_goals, 4)
    t_py = median_time(lambda: python_option_critic(env.next_k, py_goals, 4), repeats=max(1, args.repeats // 2),
                       warmup=0)
    rate_py = n_py / t_py
    return {
        "env_steps_per_s": rate,
        "python_option_critic_4_steps_per_s": rate_py,
        "speedup_vs_python": rate["option_critic_4"] / rate_py,
        "config": {"episodes": args.episodes, "python_episodes": args.python_episodes, "repeats": args.repeats,
                   "dynamics": "fail_to_neighbour", "threads": 1,
                   "numba_threads": os.environ.get("NUMBA_NUM_THREADS", "default")},
    }
