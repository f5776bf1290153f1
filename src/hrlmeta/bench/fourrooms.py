"""``python -m hrlmeta.bench fourrooms [--episodes N] [--repeats R]``: environment steps per second of
whole training runs (learning updates included) of every tabular agent of ``fourrooms_sutton`` on the
rooms gridworld (goal G1), single core, plus a pure-Python dict-based flat Q-learning baseline in the
style of the chapter's listing, measured in the same process; medians over repeats after a warm-up
(the warm-up call also excludes JIT compilation / cache loading). Also reports the import + JIT-cache
load time of a fresh training process (``startup_s``).
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import time

import numpy as np

from . import median_time


def _python_flat_q(env, goal: int, n_episodes: int, alpha: float, gamma: float, epsilon: float, seed: int):
    """Flat Q-learning with a dict Q-table and Python's random module (the chapter's listing style)."""
    rng = random.Random(seed)
    Q = {}
    succ = 2 / 3
    total = 0
    for _ in range(n_episodes):
        s = env.start
        while True:
            q = Q.setdefault(s, [0.0, 0.0, 0.0, 0.0])
            if rng.random() < epsilon:
                a = rng.randrange(4)
            else:
                m = max(q)
                a = rng.choice([i for i in range(4) if q[i] == m])
            if rng.random() < succ:
                d = a
            else:
                d = rng.choice([i for i in range(4) if i != a])
            s2 = int(env.move_to[s, d])
            total += 1
            if s2 == goal:
                q[a] += alpha * (1.0 - q[a])
                break
            q2 = Q.setdefault(s2, [0.0, 0.0, 0.0, 0.0])
            q[a] += alpha * (gamma * max(q2) - q[a])
            s = s2
    return total


def _startup_seconds() -> float:
    code = (
        "import time; t=time.perf_counter();"
        "from hrlmeta.experiments.fourrooms_sutton import training as E;"
        "from hrlmeta.algos import flat_q, smdp_q, intra_option_q;"
        "from hrlmeta.envs.fourrooms import make_fourrooms;"
        "env=make_fourrooms(); flat_q.train(env.next_k, env.start, 62, 1, 0.1, snapshots=[1]);"
        "print(time.perf_counter()-t)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"})
    return float(out.stdout.strip().splitlines()[-1])


def main(argv: list[str]) -> dict:
    ap = argparse.ArgumentParser(prog="python -m hrlmeta.bench fourrooms")
    ap.add_argument("--episodes", type=int, default=2000, help="episodes per training run (default 2000)")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--python-episodes", type=int, default=200, help="episodes of the pure-Python baseline")
    args = ap.parse_args(argv)

    from ..algos import flat_q, intra_option_q, smdp_q
    from ..envs.fourrooms import DEFAULT_GOALS, make_fourrooms, option_set

    env = make_fourrooms()
    goal = env.state(DEFAULT_GOALS["G1"])
    sets = {k: option_set(env, k) for k in ("H", "AH")}
    kw = dict(start=env.start, goal=goal, n_episodes=args.episodes, alpha=0.125, gamma=0.9, epsilon=0.1)
    runs = {
        "flat_q": lambda s: flat_q.train(env.next_k, seed=s, **kw),
        "smdp_q_options": lambda s: smdp_q.train(env.next_k, sets["H"], seed=s, **kw),
        "smdp_q_mixed": lambda s: smdp_q.train(env.next_k, sets["AH"], seed=s, **kw),
        "intra_option_q": lambda s: intra_option_q.train(env.next_k, sets["AH"], seed=s, **kw),
        "intra_option_q_H": lambda s: intra_option_q.train(env.next_k, sets["H"], seed=s, **kw),
    }
    rate = {}
    for name, fn in runs.items():
        n_steps = int(fn(0)["steps"].sum())  # warm-up (JIT cache load) and the step count of seed 0
        t = median_time(lambda: fn(0), repeats=args.repeats, warmup=0)
        rate[name] = n_steps / t
    n_py = _python_flat_q(env, goal, args.python_episodes, 0.125, 0.9, 0.1, 0)
    t_py = median_time(lambda: _python_flat_q(env, goal, args.python_episodes, 0.125, 0.9, 0.1, 0),
                       repeats=max(1, args.repeats // 2), warmup=0)
    rate_py = n_py / t_py
    return {
        "env_steps_per_s": rate,
        "python_dict_flat_q_steps_per_s": rate_py,
        "speed_ratio_vs_python": {k: v / rate_py for k, v in rate.items()},
        "startup_s": _startup_seconds(),
        "config": {"episodes": args.episodes, "repeats": args.repeats, "goal": "G1", "threads": 1,
                   "numba_threads": os.environ.get("NUMBA_NUM_THREADS", "default")},
    }
