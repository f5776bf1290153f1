"""``python -m hrlmeta.bench hiro [--steps N] [--repeats R]``: training throughput of flat TD3 and HIRO on
the point maze (environment steps and network updates per second, learning included), against a
straightforward per-step PyTorch loop measured in the same process.

Ours (:mod:`hrlmeta.experiments.pointmaze_hiro`): ``n_envs`` environments stepped together in numpy, numpy
ring-buffer replay, both critics in one stacked module (one batched matmul per layer), foreach Adam, the
relabelling of a whole minibatch in one actor call. Naive: one environment, a Python list as replay
(minibatch built transition by transition), two separate ``nn.Sequential`` critics updated one after the
other, default Adam, and HIRO's relabelling candidate by candidate and transition by transition -- the same
algorithm, the same network sizes and update counts per vectorised step. Timings: medians over repeats
after a warm-up, single thread. ``speedup_vs_naive``: ratio of network updates per second (the same
algorithm's updates, so the implementation's efficiency); ``env_steps_speedup_vs_naive`` also includes the
update-to-data ratio (ours: one worker update per vectorised step of ``n_envs`` environments; naive: one
per environment step).
"""

from __future__ import annotations

import argparse
import copy
import random

import numpy as np
import torch
from torch import nn

from . import median_time

PARAMS = {"td3": {"hidden": [64, 64], "batch_size": 100, "huber_delta": None}, "train": {"n_envs": 8},
          "hiro": {"manager_updates": 1}}


# ----------------------------------------------------------------------------- the naive reference


def _mlp(i, h, o, out=None):
    layers = [nn.Linear(i, h[0]), nn.ReLU(), nn.Linear(h[0], h[1]), nn.ReLU(), nn.Linear(h[1], o)]
    return nn.Sequential(*layers, *([out] if out else []))


class NaiveTD3:
    def __init__(self, obs_dim, act_dim, hidden=(64, 64), batch=100, gamma=0.99, tau=0.005):
        self.actor, self.actor_t = _mlp(obs_dim, hidden, act_dim, nn.Tanh()), _mlp(obs_dim, hidden, act_dim, nn.Tanh())
        self.q1, self.q2 = _mlp(obs_dim + act_dim, hidden, 1), _mlp(obs_dim + act_dim, hidden, 1)
        self.q1_t, self.q2_t = _mlp(obs_dim + act_dim, hidden, 1), _mlp(obs_dim + act_dim, hidden, 1)
        for t, s in ((self.actor_t, self.actor), (self.q1_t, self.q1), (self.q2_t, self.q2)):
            t.load_state_dict(s.state_dict())
        self.a_opt = torch.optim.Adam(self.actor.parameters(), lr=1e-3)
        self.q1_opt = torch.optim.Adam(self.q1.parameters(), lr=1e-3)
        self.q2_opt = torch.optim.Adam(self.q2.parameters(), lr=1e-3)
        self.buffer: list = []
        self.batch, self.gamma, self.tau, self.n = batch, gamma, tau, 0

    def act(self, obs):
        with torch.no_grad():
            return self.actor(torch.tensor(obs, dtype=torch.float32)).numpy()

    def update(self):
        if len(self.buffer) < self.batch:
            return
        tr = random.sample(self.buffer, self.batch)
        o = torch.tensor(np.array([t[0] for t in tr]), dtype=torch.float32)
        a = torch.tensor(np.array([t[1] for t in tr]), dtype=torch.float32)
        r = torch.tensor([t[2] for t in tr], dtype=torch.float32)[:, None]
        o2 = torch.tensor(np.array([t[3] for t in tr]), dtype=torch.float32)
        with torch.no_grad():
            a2 = (self.actor_t(o2) + (0.2 * torch.randn_like(a)).clamp(-0.5, 0.5)).clamp(-1, 1)
            x2 = torch.cat([o2, a2], 1)
            y = r + self.gamma * torch.min(self.q1_t(x2), self.q2_t(x2))
        x = torch.cat([o, a], 1)
        for q, opt in ((self.q1, self.q1_opt), (self.q2, self.q2_opt)):
            loss = ((q(x) - y) ** 2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
        self.n += 1
        if self.n % 2 == 0:
            loss = -self.q1(torch.cat([o, self.actor(o)], 1)).mean()
            self.a_opt.zero_grad()
            loss.backward()
            self.a_opt.step()
            for t, s in ((self.actor_t, self.actor), (self.q1_t, self.q1), (self.q2_t, self.q2)):
                for pt, ps in zip(t.parameters(), s.parameters()):
                    pt.data.copy_(self.tau * ps.data + (1 - self.tau) * pt.data)


class NaiveLoop:
    """The per-step loop on one environment; ``run(n)`` advances it by ``n`` environment steps and returns
    the updates done."""

    def __init__(self, algo: str, seed: int = 0):
        from ..envs.pointmaze import PointMaze

        random.seed(seed)
        torch.manual_seed(seed)
        self.rng = np.random.default_rng(seed)
        self.env = PointMaze()
        self.goal = np.array([0.0, 8.0])
        self.worker = NaiveTD3(6, 2)
        self.manager = NaiveTD3(6, 2) if algo == "hiro" else None
        self.s = self.env.reset(1, self.rng)[0]
        self.t = 0
        self.seg, self.g, self.start = [], np.zeros(2), None

    def run(self, n_steps: int) -> int:
        env, rng, goal, worker, manager = self.env, self.rng, self.goal, self.worker, self.manager
        updates = 0
        for _ in range(n_steps):
            t, s = self.t, self.s
            o = env.observe(s[None])[0]
            if manager is not None and t % 10 == 0:
                self.g = manager.act(np.concatenate([o, goal])) * 10 + rng.normal(0, 1, 2)
                self.seg, self.start = [], o
            g = self.g
            inp = np.concatenate([o, g if manager is not None else goal])
            a = np.clip(worker.act(inp) + rng.normal(0, 0.2, 2), -1, 1)
            s2 = env.step(s[None], a[None])[0]
            o2 = env.observe(s2[None])[0]
            if manager is not None:
                g2 = o[:2] + g - o2[:2]
                worker.buffer.append((inp, a, -np.linalg.norm(o[:2] + g - o2[:2]), np.concatenate([o2, g2])))
                self.seg.append((o, a))
                self.g = g2
                if len(self.seg) == 10:
                    manager.buffer.append((np.concatenate([self.start, goal]), g, 0.0, np.concatenate([o2, goal]),
                                           self.seg))
            else:
                worker.buffer.append((inp, a, -np.linalg.norm(o2[:2] - goal), np.concatenate([o2, goal])))
            if len(worker.buffer) >= worker.batch:
                worker.update()
                updates += 1
            if manager is not None and t % 10 == 0 and len(manager.buffer) >= manager.batch:
                for _ in range(1):
                    self._relabel_naive()
                    manager.update()
                    updates += 1
            self.s, self.t = s2, t + 1
        return updates

    def _relabel_naive(self):
        """HIRO's relabelling, transition by transition and candidate by candidate."""
        manager, worker, rng = self.manager, self.worker, self.rng
        for k in random.sample(range(len(manager.buffer)), manager.batch):
            mo, mg, mr, mo2, mseg = manager.buffer[k]
            delta = mo2[:2] - mseg[0][0][:2]
            cands = [mg, delta] + [np.clip(delta + rng.normal(0, 5, 2), -10, 10) for _ in range(8)]
            best, best_ll = mg, -np.inf
            for cand in cands:
                ll = 0.0
                for so, sa in mseg:
                    gi = mseg[0][0][:2] + cand - so[:2]
                    ll -= 0.5 * float(((sa - worker.act(np.concatenate([so, gi]))) ** 2).sum())
                if ll > best_ll:
                    best, best_ll = cand, ll
            manager.buffer[k] = (mo, best, mr, mo2, mseg)


# ----------------------------------------------------------------------------- ours


class OursLoop:
    def __init__(self, algo: str, seed: int = 0):
        from ..config import load_schema, schema_defaults
        from ..experiments import REGISTRY
        from ..experiments.pointmaze_hiro import analysis as A
        from ..experiments.pointmaze_hiro import training as E

        self.E = E
        schema = load_schema("pointmaze_hiro", REGISTRY)
        params = schema_defaults(copy.deepcopy(PARAMS), schema)
        self.env = A.make_env(schema_defaults({}, schema))
        self.n = PARAMS["train"]["n_envs"]
        self.algo = algo
        self.agent = E.make_agent(algo, params, [E._generator("cpu", seed, 0)], "cpu")
        self.rng = np.random.default_rng(seed)
        self.goals = self.rng.uniform(-2, 10, size=(1, self.n, 2))

    def updates(self) -> int:
        a = self.agent
        return a.td3.n_updates if self.algo == "td3" else a.worker.n_updates + a.manager.n_updates

    def run(self, n_vec_steps: int) -> int:
        before = self.updates()
        self.E.rollout(self.agent, self.env, self.goals, n_vec_steps, [self.rng], train=True)
        return self.updates() - before


def main(argv: list[str]) -> dict:
    ap = argparse.ArgumentParser(prog="python -m hrlmeta.bench hiro")
    ap.add_argument("--steps", type=int, default=50,
                    help="vectorised steps per timed run (ours); naive: the same number of single steps")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    env_rate, upd_rate, naive_env, naive_upd, speed = {}, {}, {}, {}, {}
    for algo in ("td3", "hiro"):
        # buffers pre-filled (>= one manager minibatch) before timing: the timed steps all learn
        ours, naive = OursLoop(algo), NaiveLoop(algo)
        ours.run(200)
        naive.run(1010)
        res = {}
        t = median_time(lambda: res.__setitem__("ours", ours.run(args.steps)), repeats=args.repeats, warmup=1)
        tn = median_time(lambda: res.__setitem__("naive", naive.run(args.steps)), repeats=args.repeats, warmup=1)
        env_rate[algo], upd_rate[algo] = ours.n * args.steps / t, res["ours"] / t
        naive_env[algo], naive_upd[algo] = args.steps / tn, res["naive"] / tn
        speed[algo] = upd_rate[algo] / naive_upd[algo]
    return {"env_steps_per_s": env_rate, "updates_per_s": upd_rate, "speedup_vs_naive": speed,
            "naive": {"env_steps_per_s": naive_env, "updates_per_s": naive_upd},
            "env_steps_speedup_vs_naive": {a: env_rate[a] / naive_env[a] for a in env_rate},
            "config": {"steps": args.steps, "n_envs": PARAMS["train"]["n_envs"], "hidden": [64, 64], "batch": 100,
                       "threads": 1, "repeats": args.repeats}}
