"""``python -m hrlmeta.bench taxi [--steps N] [--repeats R]``: primitive environment steps per second of whole
training runs (learning updates included) of the compiled Taxi agents (flat Q, MAXQ-Q with and without
abstraction) on the paper's noisy + fickle Taxi, single core, and the ratio against
:class:`ReferenceMAXQQ`, a straightforward pure-Python recursive MAXQ-Q (the chapter's pseudo-code style),
measured in the same process; medians over repeats after a warm-up (the warm-up also loads the JIT cache).
Timings are CPU seconds of this (single-threaded) process (``time.process_time``), so that the rates and
the ratio stay meaningful on a machine shared with other work; ``wall_env_steps_per_s`` gives the wall-clock
rates for comparison.

SLOW REFERENCE: :class:`ReferenceMAXQQ` is written for clarity, not speed -- one recursive Python call per
Max node invocation (Table 4 of Dietterich 2000), values in dicts, V(i, s) of composite nodes recomputed by
recursion (Table 3's EvaluateMaxNode). It draws its random numbers from NumPy's legacy global generator in
exactly the order of the compiled agent (numba's generator is the same MT19937 seeded the same way), so on
the same seed both make the same choices and the same updates (``tests/test_taxi.py`` checks this).
"""

from __future__ import annotations

import argparse
import os

import numpy as np

from . import median_cpu_time, median_time


class ReferenceMAXQQ:
    """SLOW REFERENCE: pure-Python recursive MAXQ-Q (no hierarchical greedy execution)."""

    def __init__(self, env, abstract: bool, alpha: float, init: float, t0: float, cooling, t_floor: float,
                 gamma: float = 1.0):
        from ..algos import maxq_q as M

        self.M, self.env, self.abstract = M, env, abstract
        self.alpha, self.init, self.gamma, self.t_floor = alpha, init, gamma, t_floor
        self.cooling = list(cooling)
        self.temp = [t0] * 4
        c_sizes, v_sizes = M.table_sizes(abstract)
        self.c_off, self.v_off = M._offsets(c_sizes), M._offsets(v_sizes)
        self.C: dict[int, float] = {}
        self.V: dict[int, float] = {}

    # tables: the same index functions as the compiled agent (the definition of the abstraction)
    def c(self, q, s, t):
        i = self.M.c_index(q, s, t, self.abstract, self.c_off)
        return 0.0 if i < 0 else self.C.get(i, self.init)

    def v(self, node, t, s):
        """V(i, s): a leaf's learned value, or max_a Q(i, s, a) by recursion (EvaluateMaxNode)."""
        M = self.M
        if node >= M.LEAF0:
            return self.V.get(M.v_index(node - M.LEAF0, s, self.abstract, self.v_off, self.env.cell_landmark),
                              self.init)
        qs = [self.q(node, t, k, s) for k in self.available(node, t, s)]
        return max(qs)

    def q(self, node, t, k, s):
        """Q(i, s, a) = V(a, s) + C(i, s, a)."""
        child, ct, qn = self.child(node, t, k, s)
        return self.v(child, ct, s) + self.c(qn, s, t)

    def child(self, node, t, k, s):
        M = self.M
        dest, passenger = s % 4, (s // 4) % 5
        if node == M.NAV:
            return M.LEAF0 + k, 0, M.Q_MOVE0 + k
        if node == M.GET:
            return (M.NAV, passenger, M.Q_NAVGET) if k == 0 else (M.LEAF0 + 4, 0, M.Q_PICKUP)
        if node == M.PUT:
            return (M.NAV, dest, M.Q_NAVPUT) if k == 0 else (M.LEAF0 + 5, 0, M.Q_PUTDOWN)
        return (M.GET, 0, M.Q_GET) if k == 0 else (M.PUT, 0, M.Q_PUT)

    def terminated(self, node, t, s):
        M = self.M
        cell, passenger = s // 20, (s // 4) % 5
        if node >= M.LEAF0:
            return False
        if node == M.NAV:
            return self.env.landmark_cell[t] == cell
        if node == M.GET:
            return passenger == 4
        if node == M.PUT:
            return passenger != 4
        return False

    def available(self, node, t, s):
        M = self.M
        return [k for k in range(int(M.N_CHILDREN[node]))
                if not self.terminated(*self.child(node, t, k, s)[:2], s)]

    def maxq_q(self, node, t, s):
        """MAXQ-Q(i, s) of Table 4: returns the sequence of states visited while executing i."""
        M = self.M
        if node >= M.LEAF0:
            a = node - M.LEAF0
            s2, r, done, self.pending = self.step(s, a, self.pending, *self.env_args)
            self.s, self.done, self.ret, self.n = int(s2), bool(done), self.ret + float(r), self.n + 1
            i = M.v_index(a, s, self.abstract, self.v_off, self.env.cell_landmark)
            self.V[i] = (1 - self.alpha) * self.V.get(i, self.init) + self.alpha * float(r)
            return [s]
        seq = []
        while not (self.done or self.terminated(node, t, s)):
            ks = self.available(node, t, s)
            k = ks[self.boltzmann(np.array([self.q(node, t, kk, s) for kk in ks]), len(ks), self.temp[node])]
            child, ct, qn = self.child(node, t, k, s)
            child_seq = self.maxq_q(child, ct, s)
            s2 = self.s
            if self.done or self.terminated(node, t, s2):
                target = 0.0
            else:
                target = max(self.q(node, t, kk, s2) for kk in self.available(node, t, s2))
            for n_back, sj in enumerate(reversed(child_seq), start=1):  # all-states updating
                if self.child(node, t, k, sj)[:2] != (child, ct):
                    continue
                i = M.c_index(qn, sj, t, self.abstract, self.c_off)
                if i >= 0:
                    self.C[i] = (1 - self.alpha) * self.C.get(i, self.init) + \
                        self.alpha * self.gamma ** n_back * target
            seq.extend(child_seq)
            s = s2
        self.temp[node] = max(self.temp[node] * self.cooling[node], self.t_floor)
        return seq

    def run(self, n_steps: int, seed: int) -> list[float]:
        """Episodes until ``n_steps`` primitive steps; returns the episodes' returns."""
        from ..algos.boltzmann import boltzmann
        from ..envs.taxi import step, step_args

        np.random.seed(seed % 2**32)  # the compiled agent seeds numba's MT19937 the same way
        self.step, self.boltzmann = step.py_func, boltzmann.py_func
        self.env_args = step_args(self.env)
        self.n = 0
        rets = []
        while self.n < n_steps:
            starts = self.env.start_states
            s = int(starts[int(np.random.random() * starts.shape[0])])
            self.s, self.done, self.pending, self.ret = s, False, False, 0.0
            self.maxq_q(self.M.ROOT, 0, s)
            rets.append(self.ret)
        return rets

    def tables(self) -> tuple[np.ndarray, np.ndarray]:
        """(C, V) as flat arrays in the compiled agent's layout (unvisited entries: the initial value)."""
        c_sizes, v_sizes = self.M.table_sizes(self.abstract)
        C = np.full(int(c_sizes.sum()), self.init)
        V = np.full(int(v_sizes.sum()), self.init)
        for i, x in self.C.items():
            C[i] = x
        for i, x in self.V.items():
            V[i] = x
        return C, V


def main(argv: list[str]) -> dict:
    ap = argparse.ArgumentParser(prog="python -m hrlmeta.bench taxi")
    ap.add_argument("--steps", type=int, default=200_000, help="primitive steps per compiled run (default 200000)")
    ap.add_argument("--python-steps", type=int, default=20_000, help="primitive steps of the pure-Python reference")
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args(argv)

    from ..algos import maxq_q, taxi_flat_q
    from ..envs.taxi import make_variant, step_args

    env = make_variant("noisy_fickle")
    abs_rates = [0.9074, 0.9526, 0.9526, 0.9879]  # the paper's settings (config/config.yaml)
    noabs_rates = [0.9996, 0.9939, 0.9996, 0.9879]
    n = args.steps

    def flat(seed):
        return taxi_flat_q.run(*step_args(env), env.start_states, n, n + 1, 100_000, 0.25, 1.0, 0.123, 50.0,
                               0.9879, 0.01, seed)[0]

    runs = {
        "flat_q": flat,
        "maxq_q": lambda seed: maxq_q.train(env, n, False, 0.5, 0.123, 50.0, noabs_rates, 0.01, seed=seed)["steps"],
        "maxq_q_abs": lambda seed: maxq_q.train(env, n, True, 0.25, 0.123, 50.0, abs_rates, 0.01, seed=seed)["steps"],
        "maxq_q_abs_greedy": lambda seed: maxq_q.train(env, n, True, 0.25, 0.123, 50.0, abs_rates, 0.01,
                                                       greedy_l0=500, greedy_dl=10, seed=seed)["steps"],
    }
    rate, wall = {}, {}
    for name, fn in runs.items():
        n_steps = int(fn(0).sum())  # warm-up (JIT cache load) and the step count of seed 0
        rate[name] = n_steps / median_cpu_time(lambda: fn(0), repeats=args.repeats, warmup=0)
        wall[name] = n_steps / median_time(lambda: fn(0), repeats=args.repeats, warmup=0)

    def reference():
        ref = ReferenceMAXQQ(env, True, 0.25, 0.123, 50.0, abs_rates, 0.01)
        ref.run(args.python_steps, 0)
        return ref.n

    n_py = reference()
    rate_py = n_py / median_cpu_time(reference, repeats=max(1, args.repeats // 2), warmup=0)
    return {
        "env_steps_per_s": rate,
        "wall_env_steps_per_s": wall,
        "python_recursive_maxq_q_abs_steps_per_s": rate_py,
        "speed_ratio_vs_python_maxq_q_abs": rate["maxq_q_abs"] / rate_py,
        "config": {"variant": "noisy_fickle", "steps": n, "python_steps": args.python_steps,
                   "repeats": args.repeats, "threads": 1,
                   "numba_threads": os.environ.get("NUMBA_NUM_THREADS", "default")},
    }
