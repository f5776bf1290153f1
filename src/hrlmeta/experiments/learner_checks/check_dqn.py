"""Learner check of h-DQN's Q-network learner (:mod:`hrlmeta.algos.hdqn`): a flat DQN on a gymnasium task,
trained with the learner's own pieces, the ones both levels of h-DQN train with in ``chain_hdqn``: the
seed-batched one-hidden-layer network :class:`~hrlmeta.algos.hdqn.OneHotMLPSeeds` (one-hot inputs, or dense
inputs for a task with a vector observation), the minibatch Q-learning step :func:`~hrlmeta.algos.hdqn.td_step`
(stop-gradient or frozen-copy target, optional TD-error clipping) and :class:`~hrlmeta.algos.hdqn.Adam` on the
seeds' parameter rows. Every seed of a check trains in one batch: each seed has its own environment, replay
memory, exploration and minibatch draws (its own numpy generator), the seeds step their environments in
lockstep and take each gradient step together.

- ``dqn_frozenlake``: FrozenLake-v1 (4x4, slippery), the state one-hot; evaluated EXACTLY: the probability
  that the greedy policy (argmax over actions, first maximum) reaches the goal within the environment's
  100-step limit, by policy evaluation on gymnasium's own transition table ``env.unwrapped.P`` (the expected
  undiscounted return of an episode); ``eval_episodes`` > 0 evaluates by that many episodes instead.
- ``dqn_cartpole``: CartPole-v1, the 4-dimensional observation as a dense input; evaluated by
  ``eval_episodes`` episodes of the greedy policy (epsilon 0, rl-baselines3-zoo's deterministic evaluation).

The loop follows stable-baselines3's DQN (which rl-baselines3-zoo's hyperparameters are tuned for), whose
knobs the authors' released h-DQN code also has (``NeuralQLearner.lua``: ``update_freq``, ``n_replay``,
``learn_start``, ``target_q``, ``clip_delta``): uniformly random actions for the first ``learning_starts``
steps, then epsilon-greedy with epsilon annealed linearly from ``eps_start`` to ``eps_end`` over
``anneal_steps`` environment steps (counted from the first step); after every environment step the target
copy is refreshed when the step count is a multiple of ``target_update`` (1: no copy, the stop-gradient
target of ``chain_hdqn``), and when it is a multiple of ``train_freq`` and above ``learning_starts``,
``gradient_steps`` minibatch steps follow. Transitions cut off by the time limit are bootstrapped (only
``terminated`` ends the target), as stable-baselines3's replay does.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

#: algorithm id -> (gymnasium id, make kwargs)
ENVS = {"dqn_frozenlake": ("FrozenLake-v1", {"map_name": "4x4", "is_slippery": True}),
        "dqn_cartpole": ("CartPole-v1", {})}
_TAG = {"dqn_frozenlake": 0xF0, "dqn_cartpole": 0xC9}


def make_env(algo: str):
    import gymnasium as gym

    env_id, kw = ENVS[algo]
    return gym.make(env_id, **kw)


# ------------------------------------------------------------------------------- FrozenLake: exact values


def transition_table(env) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(T, R, terminal) of a toy-text environment from its own table ``env.unwrapped.P``: T[s, a, s'] the
    transition probabilities, R[s, a] the expected reward, terminal[s'] whether entering s' ends the episode."""
    P = env.unwrapped.P
    nS, nA = len(P), len(P[0])
    T, R, term = np.zeros((nS, nA, nS)), np.zeros((nS, nA)), np.zeros(nS, dtype=bool)
    for s in range(nS):
        for a in range(nA):
            for p, s2, r, done in P[s][a]:
                T[s, a, s2] += p
                R[s, a] += p * r
                term[s2] |= bool(done)
    return T, R, term


def policy_value(policy, T, R, term, horizon: int | None) -> np.ndarray:
    """Expected undiscounted return from every state of the stationary policy ``policy`` (one action per
    state) within ``horizon`` steps (None: no limit, a linear solve); for FrozenLake, the probability of
    reaching the goal."""
    n = T.shape[0]
    Tp, Rp = T[np.arange(n), policy], R[np.arange(n), policy]
    live = ~term
    if horizon is None:
        return np.linalg.solve(np.eye(n) - Tp * live[None, :], Rp)
    V = np.zeros(n)
    for _ in range(int(horizon)):
        V = Rp + Tp @ np.where(live, V, 0.0)
    return V


def value_iteration(T, R, term, gamma: float, tol: float = 1e-13, max_iter: int = 10_000_000) -> np.ndarray:
    """Q* of the discounted problem (gamma < 1), by value iteration to ``tol``."""
    live = ~term
    V = np.zeros(T.shape[0])
    for _ in range(max_iter):
        Q = R + gamma * T @ np.where(live, V, 0.0)
        V2 = Q.max(1)
        if np.abs(V2 - V).max() < tol:
            return Q
        V = V2
    raise RuntimeError("value iteration did not converge")


def frozenlake_optimum(gamma: float = 1.0 - 1e-9) -> dict:
    """The optimum the ``dqn_frozenlake`` check is judged against: the greedy policy of value iteration on
    ``env.unwrapped.P`` with gamma close to 1 and its exact success probability from the start state within
    the registered step limit (``horizon``) and without one (``unlimited``)."""
    env = make_env("dqn_frozenlake")
    T, R, term = transition_table(env)
    Q = value_iteration(T, R, term, gamma)
    pi = Q.argmax(1)
    H = int(env.spec.max_episode_steps)
    d0 = np.asarray(env.unwrapped.initial_state_distrib, dtype=float)  # all on the start cell
    return {"policy": pi, "horizon": H, "success": float(d0 @ policy_value(pi, T, R, term, H)),
            "unlimited": float(d0 @ policy_value(pi, T, R, term, None))}


# ------------------------------------------------------------------------------------------ training


def _seeding(algo: str, seed: int):
    import torch

    ss = np.random.SeedSequence([int(seed), _TAG[algo]])
    c_rng, c_init, c_env, c_eval = ss.spawn(4)
    return (np.random.default_rng(c_rng), torch.Generator().manual_seed(int(c_init.generate_state(1)[0])),
            int(c_env.generate_state(1)[0]), np.random.default_rng(c_eval))


def train_batch(algo: str, seeds: list[int], params: dict) -> list[pd.DataFrame]:
    """The check's seeds trained as one batch (module doc); one table per seed, one row per evaluation."""
    import torch

    from ...algos import hdqn
    from ...algos.hdqn_tabular import linear_epsilon

    p = params
    torch.set_num_threads(1)
    seeds = [int(s) for s in seeds]
    S = len(seeds)
    total, every = int(p["total_steps"]), int(p["eval_every"])
    H, lr, gamma, B = int(p["hidden"]), float(p["lr"]), float(p["gamma"]), int(p["batch_size"])
    cap = min(int(p["buffer_size"]), max(total, 1))
    starts, freq, n_grad = int(p["learning_starts"]), int(p["train_freq"]), int(p["gradient_steps"])
    tgt = int(p["target_update"])
    clip = None if p["clip_delta"] is None else float(p["clip_delta"])
    e0, e1, e_steps = float(p["eps_start"]), float(p["eps_end"]), int(p["anneal_steps"])
    n_eval = int(p["eval_episodes"])

    seeding = [_seeding(algo, s) for s in seeds]
    rngs = [x[0] for x in seeding]
    envs = [make_env(algo) for _ in seeds]
    eval_envs = [make_env(algo) for _ in seeds]
    env_id = envs[0].spec.id
    ospace, n_act = envs[0].observation_space, int(envs[0].action_space.n)
    dense = ospace.shape is not None and len(ospace.shape) == 1
    n_in = int(ospace.shape[0]) if dense else int(ospace.n)
    horizon = int(envs[0].spec.max_episode_steps)

    n_par = hdqn.OneHotMLP.size(n_in, H, n_act)
    n_row = n_par + (-n_par) % hdqn.LANE
    theta, grad = torch.zeros(S, n_row), torch.zeros(S, n_row)
    net = hdqn.OneHotMLPSeeds(theta, grad, 0, n_in, H, n_act)
    for k, (_, gen, _, _) in enumerate(seeding):  # seed k's initial weights from its own generator
        hdqn.OneHotMLPSeeds(theta[k:k + 1], grad[k:k + 1], 0, n_in, H, n_act, [gen])
    frozen = tgt > 1
    theta_t = theta.clone() if frozen else None
    net_t = hdqn.OneHotMLPSeeds(theta_t, grad, 0, n_in, H, n_act) if frozen else None
    opt = hdqn.Adam(theta, lr)

    # replay memories, one row per seed (ring buffers): inputs (dense float32 or one-hot indices), next inputs
    if dense:
        X, X2 = np.zeros((S, cap, n_in), dtype=np.float32), np.zeros((S, cap, n_in), dtype=np.float32)
    else:
        X, X2 = np.zeros((S, cap, 1), dtype=np.int64), np.zeros((S, cap, 1), dtype=np.int64)
    Acts = np.zeros((S, cap), dtype=np.int64)
    Rew, End = np.zeros((S, cap), dtype=np.float32), np.zeros((S, cap), dtype=np.float32)
    rows = np.arange(S)[:, None]

    def inp(o):
        return np.asarray(o, dtype=np.float32) if dense else (int(o),)

    obs = [env.reset(seed=sd[2])[0] for env, sd in zip(envs, seeding)]
    ep_ret = np.zeros(S)
    done_returns: list[list[float]] = [[] for _ in range(S)]

    if algo == "dqn_frozenlake" and n_eval == 0:
        T, R, term = transition_table(envs[0])
        d0 = np.asarray(envs[0].unwrapped.initial_state_distrib, dtype=float)
    n_grad_done = 0

    def evaluate(k: int) -> dict:
        if algo == "dqn_frozenlake" and n_eval == 0:
            pol = np.array([int(np.argmax(net.q_np(k, (s,)))) for s in range(n_in)])
            return {"return": float(d0 @ policy_value(pol, T, R, term, horizon)),
                    "success_unlimited": float(d0 @ policy_value(pol, T, R, term, None)),
                    "policy": "".join(str(a) for a in pol)}
        env, erng = eval_envs[k], seeding[k][3]
        rets = []
        for _ in range(n_eval):
            o, _ = env.reset(seed=int(erng.integers(2**31 - 1)))
            ret, over = 0.0, False
            while not over:
                o, r, term_, trunc, _ = env.step(int(np.argmax(net.q_np(k, inp(o)))))
                ret += float(r)
                over = term_ or trunc
            rets.append(ret)
        return {"return": float(np.mean(rets)), "return_std": float(np.std(rets))}

    out: list[list[dict]] = [[] for _ in range(S)]
    points = sorted({*range(0, total + 1, every), total}) if every > 0 else [0, total]
    wall0 = time.perf_counter()

    def record(t: int) -> None:
        nonlocal wall0
        train_s = time.perf_counter() - wall0
        for k in range(S):
            t0 = time.perf_counter()
            row = evaluate(k)
            fin = done_returns[k]
            row.update(iteration=len(out[k]), phase="eval", env_steps=int(t), wall_s=train_s / S, env=env_id,
                       epsilon=float(1.0 if t < starts else linear_epsilon(t, e0, e1, e_steps)),
                       train_episodes=len(fin), train_return=float(np.mean(fin)) if fin else float("nan"),
                       gradient_steps=int(n_grad_done), eval_s=time.perf_counter() - t0)
            done_returns[k] = []
            out[k].append(row)
        wall0 = time.perf_counter()

    next_point = 0
    for t in range(total + 1):
        if t == points[next_point]:
            record(t)
            next_point += 1
            if t == total:
                break
        # one environment step of every seed (t steps taken so far)
        eps = 1.0 if t < starts else linear_epsilon(t, e0, e1, e_steps)
        j = t % cap
        for k in range(S):
            rng, o = rngs[k], obs[k]
            if t < starts or rng.random() < eps:
                a = int(rng.integers(n_act))
            else:
                a = hdqn._argmax_ties(net.q_np(k, inp(o)), rng)
            o2, r, term_, trunc, _ = envs[k].step(a)
            X[k, j], Acts[k, j], Rew[k, j], X2[k, j], End[k, j] = inp(o), a, r, inp(o2), float(term_)
            ep_ret[k] += r
            if term_ or trunc:
                done_returns[k].append(float(ep_ret[k]))
                ep_ret[k] = 0.0
                o2, _ = envs[k].reset()
            obs[k] = o2
        n = t + 1
        if frozen and n % tgt == 0:
            theta_t.copy_(theta)
        if n % freq == 0 and n > starts:
            for _ in range(n_grad):
                I = np.stack([rng.integers(0, min(n, cap), B) for rng in rngs])
                x, x2 = torch.from_numpy(X[rows, I]), torch.from_numpy(X2[rows, I])
                hdqn.td_step(net, net_t, x, torch.from_numpy(Acts[rows, I]), torch.from_numpy(Rew[rows, I]),
                             torch.from_numpy(End[rows, I]), x2, gamma, clip)
                opt.step(grad)
                n_grad_done += 1
    for env in (*envs, *eval_envs):
        env.close()
    return [pd.DataFrame(r) for r in out]
