"""Training of ``pointmaze_hiro``: ``S`` seeds as one batch (networks with a leading seed axis, a generator
per seed; see the package's docstring for the schedule and the rows it writes)."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pandas as pd

from ... import checkpoint
from ...envs.pointmaze import ACT_DIM, OBS_DIM
from ...progress import progress
from ...shared.td3_rollout import MazeTask, rollout, td3_config  # noqa: F401  (MazeTask: the loop's task)
from ...shared.torch_runs import device as _device
from ...shared.torch_runs import generator as _generator
from .analysis import ALGOS, make_env, schedule

ENV_NAME = "pointmaze_hiro2018"


def make_agent(algo: str, params: dict, gens: list[torch.Generator], device: str):
    """The agent of ``algo`` for the seeds whose generators are ``gens`` (one batch)."""
    from ...algos.feudal import Feudal
    from ...algos.flat_td3 import FlatConfig, FlatTD3
    from ...algos.hiro import Hiro, HiroConfig
    td3 = td3_config(params)
    a = params["agent"]
    buf = int(params["replay_size"])
    scale = float(a["input_scale"])
    if algo == "td3":
        cfg = FlatConfig(td3=td3, act_noise=a["worker_noise"], reward_scale=a["flat_reward_scale"],
                         input_scale=scale, buffer_size=buf, updates=int(a["worker_updates"]))
        return FlatTD3(OBS_DIM, 2, ACT_DIM, cfg, gens, device)
    h = params["hiro"]
    rng_ = float(h["subgoal_range"])
    # the manager's target policy smoothing in goal units (released: raw action units), here normalised by the range
    tn, nc = h["manager_target_noise"], h["manager_noise_clip"]
    manager = replace(td3, target_noise=td3.target_noise if tn is None else float(tn) / rng_,
                      noise_clip=td3.noise_clip if nc is None else float(nc) / rng_)
    cfg = HiroConfig(worker=td3, manager=manager, c=int(h["c"]), subgoal_range=rng_,
                     worker_noise=a["worker_noise"], manager_noise=h["manager_noise"],
                     worker_reward_scale=h["worker_reward_scale"],
                     manager_reward_scale=h["manager_reward_scale"],
                     relabel="none" if algo == "hiro_no_correction" else "hiro",
                     n_candidates=int(h["n_candidates"]), candidate_std=h["candidate_std"],
                     tpg_std=h["tpg_std"], input_scale=scale, buffer_size=buf,
                     worker_updates=int(a["worker_updates"]),
                     manager_updates=int(h["manager_updates"]),
                     manager_terminal=bool(h["manager_terminal"]))
    return (Feudal if algo == "feudal" else Hiro)(OBS_DIM, 2, ACT_DIM, cfg, gens, device)


def train(algo: str, seeds: list[int], params: dict) -> list[pd.DataFrame]:
    """Train ``seeds`` as one batch (networks with a leading seed axis, environments of all seeds stepped
    together); one run table per seed. Seed ``s``'s table is the same alone and inside any batch."""
    if algo not in ALGOS:
        raise KeyError(f"pointmaze_hiro has no algorithm {algo!r}; its algorithms: {', '.join(ALGOS)}")
    seeds = [int(s) for s in seeds]
    if not seeds or len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds: expected distinct seeds, got {seeds}")
    device = _device(params)
    sc = schedule(params)
    env = make_env(params)
    # the whole training state is checkpointed between training batches (hrlmeta.checkpoint: off unless
    # the job enables it); a resumed run continues with the same numbers, its table byte-identical
    ck = checkpoint.for_run("pointmaze_hiro", algo, seeds, params)
    state = ck.load()
    if state is None:
        gens = [_generator(device, s, 0) for s in seeds]
        state = {"agent": make_agent(algo, params, gens, device), "rngs": [np.random.default_rng([s, 1]) for s in seeds],
                 "rows": [[] for _ in seeds], "steps": 0, "episode": 0, "round": 0}
    agent, rngs, rows = state["agent"], state["rngs"], state["rows"]
    H, E, S = sc["horizon"], sc["n_envs"], len(seeds)
    decisions = agent.decisions_per_episode(H)
    c = getattr(agent.cfg, "c", 10)
    G, K = sc["goals"], sc["episodes"]
    eval_goals = np.repeat(G, K, axis=0)  # goal k's episodes are k*K .. k*K + K - 1

    def evaluate(round_: int, steps: int, final: bool):
        erngs = [np.random.default_rng([s, 2, round_]) for s in seeds]  # same start noise for every algorithm
        goals = np.broadcast_to(eval_goals, (S, *eval_goals.shape)).copy()
        xy, ret, _, trace = rollout(agent, env, goals, H, erngs, train=False, trace_every=c if final else 0,
                                    trace_envs=[k * K for k in range(len(G))])
        dist = np.linalg.norm(xy - goals, axis=-1)
        for j in range(S):
            for i in range(len(eval_goals)):
                rows[j].append({"phase": "eval", "episode": round_, "eval_episode": i % K, "env_steps": steps,
                                "steps": H, "return": float(ret[j, i]), "success": bool(dist[j, i] < sc["radius"]),
                                "final_dist": float(dist[j, i]), "decisions": decisions,
                                "goal_x": float(eval_goals[i, 0]), "goal_y": float(eval_goals[i, 1])})
            for t, p, sub in trace:
                for k in range(len(G)):
                    i = k * K
                    rows[j].append({"phase": "trace", "episode": round_, "eval_episode": 0, "env_steps": steps,
                                    "steps": H, "return": float(ret[j, i]), "success": bool(dist[j, i] < sc["radius"]),
                                    "final_dist": float(dist[j, i]), "decisions": decisions,
                                    "goal_x": float(G[k, 0]), "goal_y": float(G[k, 1]), "t": t,
                                    "x": float(p[j, k, 0]), "y": float(p[j, k, 1]),
                                    "sg_x": float(sub[j, k, 0]) if sub is not None else math.nan,
                                    "sg_y": float(sub[j, k, 1]) if sub is not None else math.nan})

    steps, episode, round_ = state["steps"], state["episode"], state["round"]
    if steps == 0 and not any(rows):
        evaluate(round_, 0, sc["total"] == 0)
    bar = progress(total=sc["total"], initial=steps, desc=f"{algo} seeds {seeds[0]}..{seeds[-1]}", unit="step",
                   leave=False)
    while steps < sc["total"]:
        goals = np.stack([r.uniform(sc["goal_low"], sc["goal_high"], size=(E, 2)) for r in rngs])
        xy, ret, steps, _ = rollout(agent, env, goals, H, rngs, train=True, uniform_until=sc["warmup"],
                                    steps_done=steps)
        dist = np.linalg.norm(xy - goals, axis=-1)
        for j in range(S):
            for i in range(E):
                rows[j].append({"phase": "train", "episode": episode + i, "eval_episode": -1, "env_steps": steps,
                                "steps": H, "return": float(ret[j, i]), "success": bool(dist[j, i] < sc["radius"]),
                                "final_dist": float(dist[j, i]), "decisions": decisions,
                                "goal_x": float(goals[j, i, 0]), "goal_y": float(goals[j, i, 1])})
        episode += E
        bar.update(E * H)
        if steps % sc["every"] == 0:
            round_ += 1
            evaluate(round_, steps, steps >= sc["total"])
        if steps < sc["total"] and ck.due(steps):
            ck.save({"agent": agent, "rngs": rngs, "rows": rows, "steps": steps, "episode": episode, "round": round_},
                    steps)
    bar.close()
    ck.done()
    out = []
    for j, s in enumerate(seeds):
        df = pd.DataFrame(rows[j])
        df.insert(1, "env", ENV_NAME)
        df.insert(2, "algo", algo)
        df.insert(3, "seed", s)
        out.append(df)
    return out
