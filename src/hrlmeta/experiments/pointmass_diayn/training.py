"""Training of ``pointmass_diayn``: a job's seeds as one batch (:class:`hrlmeta.algos.diayn.DiaynSeeds`; see
the package's docstring for the rows it writes)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import torch

from ...algos import diayn as D
from ...envs.pointmass import PointMass, coverage
from ...progress import progress
from .analysis import ALGOS, LAYOUT_IDS, layouts, make_env

_REWARD = {"diayn": "diayn", "random_skills": "zero"}


def _device(params: dict) -> str:
    dev = params["device"]
    if dev not in ("cpu", "cuda"):
        raise ValueError(f"params.device: expected 'cpu' or 'cuda', got {dev!r}")
    if dev == "cuda" and not torch.cuda.is_available():
        raise ValueError("params.device: 'cuda' requested but torch.cuda.is_available() is False")
    return dev


def skill_counts(params: dict) -> list[int]:
    """The skill counts every run trains, per layout: the primary ``agent.num_skills`` first, then each of
    ``agent.other_num_skills`` (for the claims' robustness grids)."""
    a = params["agent"]
    # absent num_skills: the agent's own default (the analysis then reads the primary count from the table)
    first = int(a.get("num_skills", D.DiaynConfig.num_skills))
    out = [first]
    for k in a["other_num_skills"] or []:
        if int(k) in out:
            raise ValueError(f"params.agent.other_num_skills: {k} is trained already (num_skills {first}, "
                             f"other_num_skills {a['other_num_skills']})")
        out.append(int(k))
    return out


def make_config(params: dict, algo: str, num_skills: int | None = None) -> D.DiaynConfig:
    a = dict(params["agent"])
    a.pop("total_steps", None)
    a.pop("other_num_skills", None)
    if num_skills is not None:
        a["num_skills"] = int(num_skills)
    a["hidden"] = tuple(a["hidden"])
    return D.DiaynConfig(reward=_REWARD[algo], **a)


def _generator(*key: int) -> torch.Generator:
    state = np.random.SeedSequence(list(key)).generate_state(2)
    return torch.Generator().manual_seed(int(state[0]) << 32 | int(state[1]))


def _evaluate(agent, env: PointMass, ev: dict, gen: torch.Generator, final: bool, fresh: dict):
    """Rows (without run columns) of one evaluation point, both evaluation modes; ``agent`` is one seed's
    view of the batch (:class:`hrlmeta.algos.diayn.SeedView`), its acting noise from ``gen``."""
    K = agent.cfg.num_skills
    per = int(ev["episodes_per_skill"])
    grid = int(ev["coverage_grid"])
    z = D.eval_skills(K, per)
    out = []
    for mode in ("stochastic", "deterministic"):
        P = agent.rollout(z, deterministic=(mode == "deterministic"), generator=gen)  # (T+1, n, 2)
        with torch.no_grad():
            lq = D.log_q(agent.disc, P[1:])  # (T, n, K)
            r = lq.gather(-1, z.view(1, -1, 1).expand(P.shape[0] - 1, -1, 1)).squeeze(-1) + math.log(K)
        correct = lq.argmax(-1) == z.unsqueeze(0)
        cov = coverage(P, env.bound, grid)
        fa = float("nan")
        if final and int(fresh["steps"]) > 0:
            fa = D.fresh_classifier_accuracy(P[1:], z, K, agent.cfg.hidden, int(fresh["steps"]),
                                             float(fresh["lr"]), gen)
        tx = D.as_float32_lists(P[:, :, 0].T) if final else [np.zeros(0, np.float32)] * z.numel()
        ty = D.as_float32_lists(P[:, :, 1].T) if final else [np.zeros(0, np.float32)] * z.numel()
        for i in range(z.numel()):
            out.append({"eval_mode": mode, "skill": int(z[i]), "return": float(r[:, i].sum()),
                        "success": bool(correct[-1, i]), "acc": float(correct[:, i].float().mean()),
                        "coverage": cov, "fresh_acc": fa, "traj_x": tx[i], "traj_y": ty[i]})
    return out


def train(algo: str, seeds: list[int], params: dict) -> list[pd.DataFrame]:
    """Train ``seeds`` as one batch (:class:`hrlmeta.algos.diayn.DiaynSeeds`); one table per seed, each the
    same as the seed's run alone (every random draw of a seed comes from its own generators)."""
    if algo not in ALGOS:
        raise KeyError(f"pointmass_diayn has no algorithm {algo!r}; its algorithms: {', '.join(ALGOS)}")
    dev = _device(params)
    if dev != "cpu":  # pragma: no cover - the agent is small; GPU offers nothing here
        raise ValueError("params.device: the point-mass agent runs on 'cpu' only (networks of 32 units)")
    torch.set_num_threads(int(params["torch_threads"]))
    seeds = [int(s) for s in seeds]
    a = params["agent"]
    total = int(a["total_steps"])
    ev = params["eval"]
    every = int(ev.get("every", max(total // 5, 1)))   # absent: a fifth of total_steps (computed)
    fresh = ev["fresh_classifier"]
    rows: list[list[dict]] = [[] for _ in seeds]
    episode = [0] * len(seeds)
    counts = skill_counts(params)
    for layout, K in ((lay, k) for lay in layouts(params) for k in counts):
        env = make_env(params, layout)
        cfg = make_config(params, algo, K)
        cfg.buffer_size = min(cfg.buffer_size, total)
        lid = LAYOUT_IDS[layout]
        # the primary count keeps the streams it always had; a further count K draws from streams keyed by K
        extra = () if K == counts[0] else (K,)
        batch = D.DiaynSeeds(cfg, env, [_generator(s, lid, 0, *extra) for s in seeds])
        eval_gens = [_generator(s, lid, 1, *extra) for s in seeds]
        points = []

        def on_eval(steps: int) -> None:
            final = steps >= total
            for k in range(len(seeds)):
                for r in _evaluate(batch.agent(k), env, ev, eval_gens[k], final, fresh):
                    rows[k].append({"env": f"pointmass_{layout}", "layout": layout, "eval_point": len(points),
                                    "env_steps": int(steps), "episode": episode[k], "steps": env.horizon,
                                    "decisions": 1, "num_skills": cfg.num_skills, **r})
                    episode[k] += 1
            points.append(steps)

        desc = (f"{algo} seed{'s' if len(seeds) > 1 else ''} {','.join(map(str, seeds))} {layout}"
                + (f" K={K}" if len(counts) > 1 else ""))
        bar = progress(total=total, desc=desc, unit="step", leave=False)
        batch.train(total, on_eval=on_eval, eval_every=every, progress=bar.update)
        bar.close()
        if points[-1] < total:  # total not a multiple of eval.every
            on_eval(total)
    out = []
    for seed, r in zip(seeds, rows):
        df = pd.DataFrame(r)
        df.insert(2, "algo", algo)
        df.insert(3, "seed", int(seed))
        out.append(df)
    return out
