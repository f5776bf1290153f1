"""``python -m hrlmeta.bench hdqn [--episodes N] [--neural-episodes N] [--repeats R]``: environment steps per
second of whole training runs (learning updates included) of the three ``chain_hdqn`` agents on the
stochastic chain, single core, with the default config's parameters; plus the cost of one h-DQN minibatch
update (controller + meta-controller) with the hand-written gradients and flat Adam of
:mod:`hrlmeta.algos.hdqn` against the same update written with ``torch.nn`` modules, autograd and
``torch.optim.Adam`` (the usual way), measured in the same process. Medians over repeats after a warm-up.
"""

from __future__ import annotations

import argparse

import numpy as np

from . import median_time
from ..experiments import REGISTRY


def _update_timings(repeats: int, n: int = 300) -> dict:
    import torch

    from ..algos import hdqn

    torch.set_num_threads(1)
    S, H, B = 6, 32, 32
    rng = np.random.default_rng(0)
    s, g, s2, mg = (torch.from_numpy(rng.integers(0, S, B)) for _ in range(4))
    a = torch.from_numpy(rng.integers(0, 2, B))
    r, end = torch.rand(B), torch.zeros(B)
    gen = torch.Generator().manual_seed(0)
    npar = hdqn.OneHotMLP.size(2 * S, H, 2) + hdqn.OneHotMLP.size(S, H, S)
    theta, grad = torch.zeros(npar), torch.zeros(npar)
    ctrl = hdqn.OneHotMLP(theta, grad, 0, 2 * S, H, 2, gen)
    meta = hdqn.OneHotMLP(theta, grad, ctrl.end, S, H, S, gen)
    opt = hdqn.Adam(theta, 2.5e-4)

    def manual():
        for _ in range(n):
            with torch.no_grad():
                y = r + 0.99 * (1 - end) * ctrl.forward((s2, g + S))[0].max(1).values
                q, pre = ctrl.forward((s, g + S))
                ctrl.td_backward((s, g + S), q, pre, a, y)
                y2 = r + 0.99 * (1 - end) * meta.forward((s2,))[0].max(1).values
                q2, pre2 = meta.forward((s,))
                meta.td_backward((s,), q2, pre2, mg, y2)
                opt.step(grad)

    nets = [torch.nn.Sequential(torch.nn.Linear(i, H), torch.nn.ReLU(), torch.nn.Linear(H, o))
            for i, o in ((2 * S, 2), (S, S))]
    topt = torch.optim.Adam([p for m in nets for p in m.parameters()], lr=2.5e-4, foreach=True)
    eye = torch.eye(S)

    def autograd():
        for _ in range(n):
            x, x2 = torch.cat((eye[s], eye[g]), 1), torch.cat((eye[s2], eye[g]), 1)
            with torch.no_grad():
                y = r + 0.99 * (1 - end) * nets[0](x2).max(1).values
                y2 = r + 0.99 * (1 - end) * nets[1](eye[s2]).max(1).values
            loss = (nets[0](x).gather(1, a[:, None])[:, 0] - y).pow(2).mean() + \
                (nets[1](eye[s]).gather(1, mg[:, None])[:, 0] - y2).pow(2).mean()
            topt.zero_grad(set_to_none=True)
            loss.backward()
            topt.step()

    t_m = median_time(manual, repeats=repeats) / n
    t_a = median_time(autograd, repeats=repeats) / n
    return {"manual_s": t_m, "autograd_torch_optim_s": t_a, "speedup": t_a / t_m}


def main(argv: list[str]) -> dict:
    ap = argparse.ArgumentParser(prog="python -m hrlmeta.bench hdqn")
    ap.add_argument("--episodes", type=int, default=20000, help="episodes per tabular training run")
    ap.add_argument("--neural-episodes", type=int, default=2000, help="episodes per neural h-DQN run")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)

    from ..config import experiment_params, load_config
    from ..experiments.chain_hdqn import training as E

    params = experiment_params(load_config(REGISTRY), "chain_hdqn")
    rate = {}
    for algo in ("q_learning", "hdqn_tabular", "hdqn"):
        n_ep = args.neural_episodes if algo == "hdqn" else args.episodes
        p = {**params, "n_episodes": n_ep, "final_episodes": min(params["final_episodes"], n_ep)}
        n_steps = int(E.run_algo(algo, 0, p)["steps"].sum())  # warm-up (JIT cache / torch) + step count
        t = median_time(lambda: E.run_algo(algo, 0, p), repeats=args.repeats if algo != "hdqn" else 1, warmup=0)
        rate[algo] = n_steps / t
    return {
        "env_steps_per_s": rate,
        "ratio_tabular_vs_neural": rate["hdqn_tabular"] / rate["hdqn"],
        "update_s": _update_timings(args.repeats),
        "config": {"episodes": args.episodes, "neural_episodes": args.neural_episodes, "repeats": args.repeats,
                   "threads": 1},
    }
