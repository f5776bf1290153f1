"""The episode loop of the seed-batched TD3-family agents (flat TD3, HIRO, the FeUdal-style manager: the agents
of experiment ``pointmaze_hiro``) and the TD3 settings from a params block; shared with the learner checks,
which train the same agents through the same loop on gymnasium's Pendulum-v1."""

from __future__ import annotations

import numpy as np

from ..algos.td3 import TD3Config
from ..envs.pointmaze import PointMaze, task_reward


def td3_config(params: dict) -> TD3Config:
    t = dict(params.get("td3", {}))
    if "hidden" in t:
        t["hidden"] = tuple(t["hidden"])
    return TD3Config(**t)


class MazeTask:
    """The point maze as :func:`rollout` steps a task, every array (S, n, ...) for S seeds of n environments:
    states (x, y, orientation), the task reward minus the distance of (x, y) to the episode's goal."""

    def __init__(self, env: PointMaze):
        self.env = env

    def reset(self, n: int, rngs) -> np.ndarray:
        return np.stack([self.env.reset(n, r) for r in rngs])

    def observe(self, state: np.ndarray) -> np.ndarray:
        S, n = state.shape[:2]
        return self.env.observe(state.reshape(S * n, 3)).reshape(S, n, -1)

    def step(self, state: np.ndarray, action: np.ndarray, goals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        S, n = state.shape[:2]
        state2 = self.env.step(state.reshape(S * n, 3), action.reshape(S * n, -1)).reshape(S, n, 3)
        return state2, task_reward(state2[..., :2], goals)


def rollout(agent, env, goals: np.ndarray, horizon: int, rngs, *, train: bool,
            uniform_until: int = 0, steps_done: int = 0, trace_every: int = 0, trace_envs=(0,)):
    """One batch of synchronous episodes for every seed (``goals`` (S, n, goal_dim), ``rngs`` one per seed).
    Training: explores, records, updates. Returns (the final states' first two coordinates (S, n, 2): the
    maze's x, y; undiscounted task returns (S, n); env steps per seed so far; trace list of (t, xy (S, k, 2),
    subgoal (S, k, 2) or None) for ``trace_envs``).

    ``env``: a :class:`PointMaze` (stepped as :class:`MazeTask`) or any task with the same three methods,
    ``reset(n, rngs) -> state``, ``observe(state) -> obs`` and ``step(state, action, goals) -> (state,
    reward)``: the learner checks train TD3 on gymnasium's Pendulum-v1 through this loop (goals (S, n, 0))."""
    task = MazeTask(env) if isinstance(env, PointMaze) else env
    S, n = goals.shape[:2]
    state = task.reset(n, rngs)
    ctx = agent.reset(n, explore=train)
    ret = np.zeros((S, n))
    trace = []
    tr = list(trace_envs)
    for t in range(horizon):
        obs = task.observe(state)
        uniform = train and steps_done < uniform_until
        n_sub = len(ctx.get("subgoals", []))
        a = agent.act(ctx, t, obs, goals, rngs, uniform=uniform)
        if trace_every and t % trace_every == 0:
            sub = ctx["subgoals"][-1][:, tr].copy() if len(ctx.get("subgoals", [])) > n_sub else None
            trace.append((t, obs[:, tr, :2].copy(), sub))
        state2, r = task.step(state, a, goals)
        obs2 = task.observe(state2)
        ret += r
        if train:
            agent.record(ctx, t, obs, a, obs2, goals, last=t == horizon - 1, reward=r)
            steps_done += n
            if steps_done > uniform_until:
                agent.train_step(rngs)
        else:
            agent.advance(ctx, obs, obs2)
        state = state2
    if trace_every:
        trace.append((horizon, state[:, tr, :2].copy(), None))
    return state[..., :2], ret, steps_done, trace
