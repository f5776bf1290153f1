"""pointmaze_hiro: point-maze dynamics, TD3 pieces, HIRO's relabelling, claims and determinism."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch

from hrlmeta.algos import hiro as H
from hrlmeta.algos.feudal import feudal_config
from hrlmeta.algos.td3 import TD3, Replay, TD3Config, TwinCritics, td_target
from hrlmeta.envs.pointmaze import PointMaze, task_reward
from hrlmeta import experiments as registry
from hrlmeta import stats
from hrlmeta.claims import measure_claim
from hrlmeta.experiments import REGISTRY
from hrlmeta.config import load_schema, schema_defaults
from hrlmeta.experiments.pointmaze_hiro import analysis as A
from hrlmeta.experiments.pointmaze_hiro import training as E
from hrlmeta.experiments.pointmaze_hiro.measures import MEASURES

@pytest.fixture
def one_thread():
    """The workflow's torch setting (configure_torch: 1 intra-op thread); results depend on the thread count."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def _full(params: dict) -> dict:
    """``params`` completed with the schema's defaults, as the config loader hands them to the code."""
    import copy

    return schema_defaults(copy.deepcopy(params), load_schema("pointmaze_hiro", REGISTRY))


SMOKE = _full({"env": {"horizon": 20}, "train": {"total_steps": 160, "n_envs": 4}, "eval": {"every_steps": 80, "episodes": 2},
               "td3": {"hidden": [8, 8], "batch_size": 16}, "replay_size": 1000, "analysis": {"final_window": 1},
               "hiro": {"c": 5}})


# ----------------------------------------------------------------------------- environment


def test_layout_matches_released_maze():
    env = PointMaze()
    # free cell centres of the released "Maze" at scaling 4, robot cell at the origin
    assert sorted(map(tuple, env.free_centres.tolist())) == sorted(
        [(0, 0), (4, 0), (8, 0), (8, 4), (8, 8), (4, 8), (0, 8)])
    assert len(env.walls) == 25 - 7
    assert not env.in_collision(np.array([[0.0, 8.0], [8.0, 4.0], [1.9, 1.9]])).any()
    assert env.in_collision(np.array([[0.0, 4.0], [4.0, 4.0], [-2.0, 0.0], [0.0, 2.0]])).all()  # boundary = wall


def test_point_kinematics_hand_computed():
    env = PointMaze()
    s = np.array([[0.0, 0.0, 0.0], [1.0, -1.0, 0.5]])
    a = np.array([[1.0, 0.0], [0.5, 1.0]])  # normalised: rotation 1.0 -> 0.25 rad
    s2 = env.step(s, a)
    np.testing.assert_allclose(s2[0], [0.2, 0.0, 0.0])
    ori = 0.5 + 0.25
    np.testing.assert_allclose(s2[1], [1.0 + 0.1 * math.cos(ori), -1.0 + 0.1 * math.sin(ori), ori])
    # actions are clipped to the box
    np.testing.assert_allclose(env.step(s[:1], np.array([[3.0, -9.0]]))[0],
                               [0.2 * math.cos(-0.25), 0.2 * math.sin(-0.25), -0.25])


def test_wall_collision_reverts_position_keeps_turn():
    env = PointMaze()
    s = np.array([[0.0, 1.9, math.pi / 2]])  # facing the inner wall (y >= 2 for x in [-2, 6])
    s2 = env.step(s, np.array([[1.0, 0.4]]))
    np.testing.assert_allclose(s2[0], [0.0, 1.9, math.pi / 2 + 0.1])
    # outer wall at x = -2
    s2 = env.step(np.array([[-1.9, 0.0, math.pi]]), np.array([[1.0, 0.0]]))
    np.testing.assert_allclose(s2[0, :2], [-1.9, 0.0])
    # a step that stays free moves
    s2 = env.step(np.array([[-1.7, 0.0, math.pi]]), np.array([[1.0, 0.0]]))
    np.testing.assert_allclose(s2[0, :2], [-1.9, 0.0], atol=1e-12)


def test_reset_and_reward():
    env = PointMaze()
    s = env.reset(1000, np.random.default_rng(0))
    assert s.shape == (1000, 3) and np.abs(s).max() <= 0.1
    np.testing.assert_allclose(task_reward(np.array([[3.0, 4.0]]), np.array([[0.0, 0.0]])), [-5.0])


# ----------------------------------------------------------------------------- TD3


def _td3(in_dim, act_dim, cfg, seed=0, S=1):
    return TD3(in_dim, act_dim, cfg, [torch.Generator().manual_seed(seed + k) for k in range(S)])


def _const_critic(critic: TwinCritics, coefs=(1.0, 2.0), action_index=None, offset=5.0):
    """Hidden width 1, one seed: Q_j = coefs[j] * relu(x[action_index] + offset) (or the constant coefs[j])."""
    with torch.no_grad():
        for p in critic.parameters():
            p.zero_()
        if action_index is not None:
            critic.weights[0][:, action_index, 0] = 1.0
            critic.biases[0][:, 0, 0] = offset
            critic.weights[1][:, 0, 0] = torch.tensor(coefs)
        else:
            critic.biases[1][:, 0, 0] = torch.tensor(coefs)


def _const_actor(actor, value: float):
    with torch.no_grad():
        for p in actor.parameters():
            p.zero_()
        actor.biases[-1].fill_(math.atanh(value))


def test_clipped_double_q_target_takes_the_minimum():
    cfg = TD3Config(hidden=(1,), gamma=0.9)
    agent = _td3(3, 1, cfg)
    _const_critic(agent.critic_t, coefs=(3.0, -2.0))
    _const_actor(agent.actor_t, 0.0)
    y = td_target(agent.critic_t, agent.actor_t, torch.zeros(1, 2, 3), torch.tensor([[1.0, 0.5]]),
                  torch.tensor([[1.0, 0.0]]), cfg, [torch.Generator().manual_seed(1)])
    np.testing.assert_allclose(y.numpy(), [[1.0 + 0.9 * -2.0, 0.5]])


def test_target_policy_smoothing_hand_computed():
    cfg = TD3Config(hidden=(1,), gamma=0.99, target_noise=0.2, noise_clip=0.5)
    agent = _td3(3, 1, cfg)
    _const_actor(agent.actor_t, 0.9)
    _const_critic(agent.critic_t, coefs=(1.0, 2.0), action_index=3)  # Q_j = c_j (a + 5)
    n = 2000
    y = td_target(agent.critic_t, agent.actor_t, torch.zeros(1, n, 3), torch.zeros(1, n), torch.ones(1, n), cfg,
                  [torch.Generator().manual_seed(7)])
    z = torch.randn((n, 1), generator=torch.Generator().manual_seed(7))
    a = (0.9 + (0.2 * z).clamp(-0.5, 0.5)).clamp(-1, 1)
    np.testing.assert_allclose(y[0].numpy(), (0.99 * (a[:, 0] + 5.0)).numpy(), rtol=1e-6)
    # smoothing noise is clipped: no target action below 0.9 - 0.5; the action box clips at 1
    assert y.min() >= 0.99 * (0.4 + 5) - 1e-5 and y.max() <= 0.99 * 6 + 1e-5
    assert (a == 1.0).any()


def test_twin_critic_heads_are_independent_networks():
    gens = [torch.Generator().manual_seed(0), torch.Generator().manual_seed(1)]
    tc = TwinCritics(5, (7, 6), gens)
    x = torch.randn(2, 11, 5, generator=gens[0])
    q = tc(x)
    assert q.shape == (2, 2, 11)
    for s in range(2):
        for j in range(2):
            h = x[s]
            for k, (w, b) in enumerate(zip(tc.weights, tc.biases)):
                h = h @ w[2 * s + j] + b[2 * s + j]
                if k < len(tc.weights) - 1:
                    h = torch.relu(h)
            torch.testing.assert_close(q[s, j], h[:, 0])
    torch.testing.assert_close(tc.q1(x), q[:, 0])


def _reference_td3(params, batch, cfg, gen, n_updates):
    """An independent TD3 (Fujimoto et al. 2018, Algorithm 1) on plain tensors for one seed: explicit
    matmuls, hand-written Adam, target smoothing noise from ``gen`` in the same order as the learner."""
    A = {k: v.clone() for k, v in params["actor"].items()}
    C = {k: v.clone() for k, v in params["critic"].items()}
    At = {k: v.clone() for k, v in A.items()}
    Ct = {k: v.clone() for k, v in C.items()}
    n_layers = len([k for k in A if k.startswith("w")])

    def mlp(P, x, j=None, tanh=False):
        for k in range(n_layers):
            w, b = (P[f"w{k}"], P[f"b{k}"]) if j is None else (P[f"w{k}"][j], P[f"b{k}"][j])
            x = x @ w + b
            if k < n_layers - 1:
                x = torch.relu(x)
        return torch.tanh(x) if tanh else x

    adam = {}

    def adam_step(P, grads, lr, name):
        for k, g in grads.items():
            m, v, t = adam.get((name, k), (torch.zeros_like(g), torch.zeros_like(g), 0))
            t += 1
            m = 0.9 * m + 0.1 * g
            v = 0.999 * v + 0.001 * g * g
            mhat, vhat = m / (1 - 0.9 ** t), v / (1 - 0.999 ** t)
            P[k] = P[k] - lr * mhat / (vhat.sqrt() + 1e-8)
            adam[(name, k)] = (m, v, t)

    obs, act, rew, nobs, disc = batch
    for it in range(1, n_updates + 1):
        a2 = mlp(At, nobs, tanh=True)
        eps = torch.randn(a2.shape, generator=gen) * cfg.target_noise
        a2 = (a2 + eps.clamp(-cfg.noise_clip, cfg.noise_clip)).clamp(-1, 1)
        x2 = torch.cat([nobs, a2], -1)
        q2 = torch.minimum(mlp(Ct, x2, 0)[:, 0], mlp(Ct, x2, 1)[:, 0])
        y = rew + cfg.gamma * disc * q2
        Cg = {k: v.clone().requires_grad_() for k, v in C.items()}
        x = torch.cat([obs, act], -1)
        loss = sum(0.5 * ((mlp(Cg, x, j)[:, 0] - y) ** 2).mean() for j in (0, 1))
        grads = dict(zip(Cg, torch.autograd.grad(loss, list(Cg.values()))))
        adam_step(C, grads, cfg.critic_lr, "critic")
        if it % cfg.policy_delay == 0:
            Ag = {k: v.clone().requires_grad_() for k, v in A.items()}
            aloss = -mlp(C, torch.cat([obs, mlp(Ag, obs, tanh=True)], -1), 0)[:, 0].mean()
            grads = dict(zip(Ag, torch.autograd.grad(aloss, list(Ag.values()))))
            adam_step(A, grads, cfg.actor_lr, "actor")
            for P, Pt in ((A, At), (C, Ct)):
                for k in P:
                    Pt[k] = cfg.tau * P[k] + (1 - cfg.tau) * Pt[k]
    return A, C, At, Ct


def _params_of(agent, seed=0):
    def get(net, idx):
        return {**{f"w{k}": w.detach()[idx].clone() for k, w in enumerate(net.weights)},
                **{f"b{k}": b.detach()[idx].clone() for k, b in enumerate(net.biases)}}

    return {"actor": get(agent.actor, seed), "critic": get(agent.critic, slice(2 * seed, 2 * seed + 2))}


@pytest.mark.parametrize("S", [1, 3])
def test_td3_update_equals_an_independent_implementation(S):
    """Two updates (critic, then critic + delayed actor + Polyak) of the project's TD3 equal an independently
    written one on a tiny fixed batch, to 1e-6, for seed 0 alone and inside a batch of 3."""
    cfg = TD3Config(hidden=(5, 4), actor_lr=0.01, critic_lr=0.02, gamma=0.9, tau=0.3, policy_delay=2,
                    huber_delta=None, batch_size=6)
    agent = _td3(3, 2, cfg, S=S)
    ref_gen = torch.Generator()
    ref_gen.set_state(agent.gens[0].get_state())
    start = _params_of(agent)
    g = torch.Generator().manual_seed(11)
    B = 6
    batch = [torch.randn(S, B, 3, generator=g), torch.rand(S, B, 2, generator=g) * 2 - 1,
             torch.randn(S, B, generator=g), torch.randn(S, B, 3, generator=g), (torch.rand(S, B, generator=g) > 0.3).float()]
    for _ in range(2):
        agent.update(*batch)
    A, C, At, Ct = _reference_td3(start, [t[0] for t in batch], cfg, ref_gen, 2)
    got = _params_of(agent)
    got_t = {"actor": _params_of(type("x", (), {"actor": agent.actor_t, "critic": agent.critic_t}))["actor"],
             "critic": _params_of(type("x", (), {"actor": agent.actor_t, "critic": agent.critic_t}))["critic"]}
    for mine, ref in ((got["actor"], A), (got["critic"], C), (got_t["actor"], At), (got_t["critic"], Ct)):
        for k in ref:
            np.testing.assert_allclose(mine[k].numpy(), ref[k].numpy(), atol=1e-6, rtol=0)
    # the actor moved (delayed step happened) and the target is a Polyak average, not a copy
    assert not torch.equal(got["actor"]["w0"], start["actor"]["w0"])
    assert not torch.allclose(got_t["critic"]["w0"], got["critic"]["w0"])


def test_delayed_actor_and_target_updates():
    cfg = TD3Config(hidden=(4,), policy_delay=2, tau=0.25)
    agent = _td3(3, 1, cfg)
    g = torch.Generator().manual_seed(3)
    batch = (torch.randn(1, 8, 3, generator=g), torch.rand(1, 8, 1, generator=g), torch.randn(1, 8, generator=g),
             torch.randn(1, 8, 3, generator=g), torch.ones(1, 8))
    actor0 = [p.clone() for p in agent.actor.parameters()]
    critic_t0 = [p.clone() for p in agent.critic_t.parameters()]
    out = agent.update(*batch)
    assert "actor_loss" not in out
    assert all(torch.equal(a, b) for a, b in zip(actor0, agent.actor.parameters()))
    assert all(torch.equal(a, b) for a, b in zip(critic_t0, agent.critic_t.parameters()))
    out = agent.update(*batch)
    assert "actor_loss" in out
    assert any(not torch.equal(a, b) for a, b in zip(actor0, agent.actor.parameters()))
    for t0, p, t in zip(critic_t0, agent.critic.parameters(), agent.critic_t.parameters()):
        torch.testing.assert_close(t, 0.25 * p.detach() + 0.75 * t0)


def test_seed_weights_identical_alone_and_in_a_batch(one_thread):
    """Seed 3's learner trained alone and as the 3rd of a batch of 5 ends with identical weights (bitwise)."""
    cfg = TD3Config(hidden=(16, 16), batch_size=20, actor_lr=1e-3)

    def run(seeds):
        agent = TD3(7, 2, cfg, [torch.Generator().manual_seed(s) for s in seeds])
        rb = Replay(len(seeds), 300, {"obs": (7,), "act": (2,), "rew": (), "next_obs": (7,), "disc": ()})
        rb.add(**{k: np.stack([np.random.default_rng([s, 9]).uniform(-1, 1, (300, *sh)).astype(np.float32)
                               for s in seeds]) for k, sh in (("obs", (7,)), ("act", (2,)), ("rew", ()),
                                                              ("next_obs", (7,)), ("disc", ()))})
        rngs = [np.random.default_rng(s) for s in seeds]
        for _ in range(80):
            b = rb.sample(20, rngs)
            agent.update(b["obs"], b["act"], b["rew"], b["next_obs"], b["disc"])
        return agent

    alone, batch = run([3]), run([1, 2, 3, 4, 5])
    for net in ("actor", "critic", "actor_t", "critic_t"):
        k = 1 if net.startswith("actor") else 2
        for p1, p5 in zip(getattr(alone, net).parameters(), getattr(batch, net).parameters()):
            assert torch.equal(p1, p5[2 * k: 3 * k]), net


# ----------------------------------------------------------------------------- HIRO pieces


def _goal_actor(x):
    """A worker whose action is its (scaled) goal input: mu(s, g) = 0.1 g."""
    return x[..., -2:]


def test_log_likelihood_hand_computed():
    seq_obs = torch.tensor([[[[0.0, 0.0, 1.0, 0.0], [1.0, 0.0, 1.0, 0.0]]]])  # S = 1, B = 1, c = 2
    seq_act = torch.tensor([[[[0.3, 0.1], [0.2, 0.1]]]])
    cand = torch.tensor([[[[3.0, 1.0], [0.0, 0.0]]]])
    ll = H.action_log_likelihood(_goal_actor, seq_obs, seq_act, cand, scale=0.1)
    # candidate (3, 1): goals (3, 1) then (0 + 3 - 1, 1) = (2, 1) -> mu = (0.3, 0.1), (0.2, 0.1): exact
    # candidate (0, 0): goals (0, 0), (-1, 0) -> mu = (0, 0), (-0.1, 0)
    expect0 = 0.0
    expect1 = -0.5 * ((0.3 ** 2 + 0.1 ** 2) + (0.3 ** 2 + 0.1 ** 2))
    np.testing.assert_allclose(ll.numpy(), [[[expect0, expect1]]], atol=1e-7)


def test_relabel_picks_the_most_likely_candidate():
    rng = np.random.default_rng(0)
    S, B, c = 2, 6, 10
    true_g = torch.tensor(rng.uniform(-8, 8, size=(S, B, 2)), dtype=torch.float32)
    xy = torch.tensor(np.cumsum(rng.uniform(-0.2, 0.2, size=(S, B, c + 1, 2)), axis=2), dtype=torch.float32)
    seq_obs = torch.cat([xy[:, :, :c], torch.ones(S, B, c, 1), torch.zeros(S, B, c, 1)], dim=-1)
    goals = xy[:, :, :1] + true_g[:, :, None] - xy[:, :, :c]
    seq_act = 0.1 * goals  # the stored actions are exactly mu(s_i, g_i) for the true goal
    cfg = H.HiroConfig()
    gens = lambda: [torch.Generator().manual_seed(5), torch.Generator().manual_seed(6)]  # noqa: E731
    # the true goal as the original goal -> relabelling returns it (likelihood maximal, 0 error)
    out = H.relabel_goals(_goal_actor, seq_obs, seq_act, xy[:, :, c], true_g, cfg, gens())
    torch.testing.assert_close(out, true_g)
    # otherwise the chosen candidate is the argmax over the 10 candidates of the log-likelihood
    wrong = -true_g
    out = H.relabel_goals(_goal_actor, seq_obs, seq_act, xy[:, :, c], wrong, cfg, gens())
    cand = H.candidate_goals(wrong, xy[:, :, c] - xy[:, :, 0], 8, 5.0, 10.0, gens())
    ll = H.action_log_likelihood(_goal_actor, seq_obs, seq_act, cand, 0.1)
    assert cand.shape == (S, B, 10, 2)
    idx = ll.argmax(2)
    for s in range(S):
        torch.testing.assert_close(out[s], cand[s, torch.arange(B), idx[s]])
    assert (ll.max(2).values >= H.action_log_likelihood(_goal_actor, seq_obs, seq_act, wrong[:, :, None], 0.1)[..., 0]).all()
    # a seed's candidates come from its own generator only
    alone = H.candidate_goals(wrong[1:], (xy[:, :, c] - xy[:, :, 0])[1:], 8, 5.0, 10.0, gens()[1:])
    torch.testing.assert_close(alone[0], cand[1])
    # no correction keeps the goal; TPG draws around s_{t+c} - s_t
    none = H.relabel_goals(_goal_actor, seq_obs, seq_act, xy[:, :, c], wrong, H.HiroConfig(relabel="none"), gens())
    torch.testing.assert_close(none, wrong)
    tpg = H.relabel_goals(None, seq_obs, seq_act, xy[:, :, c], wrong, feudal_config(cfg), gens())
    assert ((tpg - (xy[:, :, c] - xy[:, :, 0])).abs() < 6.0).all()


def test_goal_transition_and_worker_rewards():
    xy, g, nxy = np.array([[1.0, 1.0]]), np.array([[2.0, 0.0]]), np.array([[1.5, 0.0]])
    np.testing.assert_allclose(H.goal_transition(xy, g, nxy), [[1.5, 1.0]])
    np.testing.assert_allclose(H.distance_reward(xy, g, nxy), [-math.hypot(1.5, 1.0)])
    np.testing.assert_allclose(H.cosine_reward(xy, g, nxy), [0.5 / math.hypot(0.5, 1.0)])
    np.testing.assert_allclose(H.cosine_reward(xy, g, xy), [0.0])  # blocked step


def test_last_manager_transition_of_an_episode_is_terminal():
    """Released train.py: the manager transition that ends an episode has discount 0; the others 1."""
    params = _full({**SMOKE, "env": {"horizon": 12}, "train": {"total_steps": 24, "n_envs": 2}, "eval": {"every_steps": 24}})
    agent = E.make_agent("hiro", params, [torch.Generator().manual_seed(0)], "cpu")
    env = E.make_env(params)
    E.rollout(agent, env, np.zeros((1, 2, 2)), 12, [np.random.default_rng(0)], train=True)
    disc = agent.m_buffer.data["disc"][0, : agent.m_buffer.size]
    # c = 5, horizon 12: transitions end at t = 4, 9 and the truncated one at t = 11 (episode end), 2 envs each
    np.testing.assert_array_equal(disc, [1, 1, 1, 1, 0, 0])
    agent = E.make_agent("hiro", _full({**params, "hiro": {"c": 5, "manager_terminal": False}}),
                         [torch.Generator().manual_seed(0)], "cpu")
    E.rollout(agent, env, np.zeros((1, 2, 2)), 12, [np.random.default_rng(0)], train=True)
    assert (agent.m_buffer.data["disc"][0, : agent.m_buffer.size] == 1).all()


# ----------------------------------------------------------------------------- experiment


@pytest.mark.parametrize("algo", E.ALGOS)
def test_train_is_deterministic_per_seed(algo, one_thread):
    a = E.train(algo, [3], SMOKE)[0]
    b = E.train(algo, [3], SMOKE)[0]
    pd.testing.assert_frame_equal(a, b)
    assert set(a["phase"]) == {"train", "eval", "trace"}
    ev = a[a["phase"] == "eval"]
    assert sorted(ev["env_steps"].unique()) == [0, 80, 160]
    # the released evaluation goals, `episodes` episodes each, at every evaluation
    assert sorted(set(zip(ev["goal_x"], ev["goal_y"]))) == [(0.0, 8.0), (8.0, 0.0), (8.0, 8.0)]
    assert (ev.groupby(["env_steps", "goal_x", "goal_y"]).size() == 2).all()
    assert (a.loc[a["phase"] == "train", "decisions"] == (20 if algo == "td3" else 4)).all()
    c = E.train(algo, [4], SMOKE)[0]
    ra, rc = a.loc[a["phase"] == "train", "return"].to_numpy(), c.loc[c["phase"] == "train", "return"].to_numpy()
    assert ra.shape == rc.shape and not np.array_equal(ra, rc)


@pytest.mark.parametrize("algo", ["td3", "hiro"])
def test_seed_table_identical_alone_and_in_a_batch(algo, one_thread):
    """A seed's run table does not depend on the seeds that share its batch."""
    alone = E.train(algo, [3], SMOKE)[0]
    batch = E.train(algo, [5, 3, 7], SMOKE)
    pd.testing.assert_frame_equal(alone, batch[1])
    assert [int(d["seed"].iloc[0]) for d in batch] == [5, 3, 7]
    with pytest.raises(ValueError, match="seeds"):
        E.train(algo, [1, 1], SMOKE)


def test_schedule_and_device_errors():
    with pytest.raises(ValueError, match="train.total_steps"):
        A.schedule(_full({"train": {"total_steps": 1001, "n_envs": 2}}))
    with pytest.raises(ValueError, match="eval.every_steps"):
        A.schedule(_full({"train": {"total_steps": 2000, "n_envs": 2}, "eval": {"every_steps": 300}}))
    with pytest.raises(ValueError, match="eval.goals"):
        A.schedule(_full({"train": {"total_steps": 2000, "n_envs": 2}, "env": {"horizon": 1000}, "eval": {"goals": [1, 2]}}))
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="params.device"):
            E.train("hiro", [0], {**SMOKE, "device": "cuda"})
    with pytest.raises(ValueError, match="actor_lr"):
        TD3Config(actor_lr=2.0)


def test_cost_units_scale_with_updates_width_squared_and_envs():
    """The cost model: at large width the units grow as updates x width^2; the number of updates follows
    the update ratio and the number of vectorised steps; HIRO's relabelling adds to HIRO but not to the
    ablation without correction or FeUdal's transition-PG draw."""
    def units(algo, width, **over):
        p = {**SMOKE, "td3": {"hidden": [width, width], "batch_size": 100},
             "train": {"total_steps": 16000, "n_envs": 8}, "env": {"horizon": 500}, "eval": {"every_steps": 16000}}
        for k, v in over.items():
            p[k] = {**p.get(k, {}), **v}
        return registry.cost_units("pointmaze_hiro", algo, p)

    for algo in ("td3", "hiro"):
        r = units(algo, 30000) / units(algo, 3000)
        assert 95 < r < 100  # -> (30000 / 3000)^2 = 100 once the fixed overheads are negligible
        assert 1 < units(algo, 300) / units(algo, 64) < (300 / 64) ** 2  # overheads dominate small networks
        assert units(algo, 64) < units(algo, 300)
        # twice the worker updates per step: about twice the cost at large width (HIRO: its manager's share stays)
        r2 = units(algo, 3000, agent={"worker_updates": 2}) / units(algo, 3000)
        assert (1.9 < r2 < 2.0 + 1e-9) if algo == "td3" else (1.2 < r2 < 1.9)
        # one environment instead of 8 at the same env steps: 8 x the vectorised steps and updates
        assert 6 < units(algo, 300, train={"n_envs": 1}) / units(algo, 300) <= 8.0 + 1e-9
    assert units("hiro", 300) > units("hiro_no_correction", 300) > units("td3", 300)
    assert units("feudal", 300) == units("hiro_no_correction", 300)  # TPG draws a goal: no actor passes


def test_cost_units_share_overheads_in_a_batch_of_seeds():
    """Seeds trained as one batch share each update's and each step's fixed overhead: at width 64 a seed in
    a batch of 8 costs well under a seed alone; once the networks are wide the arithmetic dominates and the
    batch hardly helps (the planner prices paper scale, one seed per job, at batch 1)."""
    p = {**SMOKE, "td3": {"hidden": [64, 64], "batch_size": 100},
         "train": {"total_steps": 16000, "n_envs": 8}, "env": {"horizon": 500}, "eval": {"every_steps": 16000}}
    wide = {**p, "td3": {"hidden": [3000, 3000], "batch_size": 100}}
    for algo in ("td3", "hiro", "feudal"):
        one = registry.cost_units("pointmaze_hiro", algo, p)
        assert registry.cost_units("pointmaze_hiro", algo, p, 1) == one
        eight = registry.cost_units("pointmaze_hiro", algo, p, 8)
        assert 2.0 < one / eight < 8.0
        assert 1.0 < registry.cost_units("pointmaze_hiro", algo, wide) / registry.cost_units(
            "pointmaze_hiro", algo, wide, 8) < 1.1
    with pytest.raises(Exception, match="batch"):
        registry.cost_units("pointmaze_hiro", "td3", p, 0)


def test_schema_rejects_unknown_key():
    from hrlmeta.config import ConfigError, validate_config

    cfg = {"experiments": {"pointmaze_hiro": {"algos": ["hiro"], "n_seeds": 1, "params": {"hiro": {"cc": 3}}}}}
    with pytest.raises(ConfigError, match="cc"):
        validate_config(cfg, REGISTRY)


def _synthetic(curves: dict, goals=((8.0, 0.0), (8.0, 8.0), (0.0, 8.0))) -> pd.DataFrame:
    """Evaluation rows with the same success rate on every goal (or per goal where a rate is a tuple)."""
    rows = []
    for (algo, seed), rates in curves.items():
        for k, r in enumerate(rates):
            for gi, g in enumerate(goals):
                rg = r[gi] if isinstance(r, tuple) else r
                for i in range(10):
                    rows.append({"algo": algo, "seed": seed, "phase": "eval", "episode": k, "env_steps": 1000 * k,
                                 "success": i < round(10 * rg), "final_dist": 1.0, "goal_x": g[0], "goal_y": g[1]})
    return pd.DataFrame(rows)


def _claim(cid: str, t, params, **cp):
    """A claim of claims.yaml measured with its own measure and ``cp`` as its params."""
    import yaml

    from hrlmeta.experiments.pointmaze_hiro import __file__ as init

    decl = {c["id"]: c for c in yaml.safe_load(open(init.replace("__init__.py", "claims.yaml")))["claims"]}[cid]
    return measure_claim(MEASURES, {**decl, "params": {**(decl.get("params") or {}), **cp}}, t, params)


def test_claims_on_a_constructed_table():
    t = _synthetic({("hiro", 0): [0, 0.6, 1.0, 1.0], ("feudal", 0): [0, 0, 0, 0.5],
                    ("hiro", 1): [0, 0.0, 0.5, 1.0], ("feudal", 1): [0, 0, 0, 0],
                    ("hiro", 2): [0, 0, 0, 0], ("feudal", 2): [0, 0, 0, 0],
                    ("td3", 0): [0, 0, 0, 0], ("td3", 1): [0, 0, 0, 0.2]})
    params = _full({"train": {"total_steps": 4000, "n_envs": 1, }, "env": {"horizon": 1000}, "eval": {"every_steps": 1000},
                    "analysis": {"final_window": 1}})
    s = _claim("hiro_vs_feudal_sample_efficiency", t, params, threshold=0.5)
    # steps to 0.5: hiro seeds (1000, 2000, censored), feudal (3000, censored, censored); one column per agent
    np.testing.assert_array_equal(s.values, [[3000, 1000], [math.inf, 2000], [math.inf, math.inf]])
    assert s.statistic == "median_ratio" and s.n_seeds == 3 and s.budget == 3000
    assert "censored: FeUdal 2/3, HIRO 1/3" in s.note and "medians: FeUdal censored, HIRO 2000" in s.note
    # FeUdal's median is censored, HIRO's is not: the ratio is +inf (FeUdal never got there in most runs)
    assert stats.get_statistic("median_ratio")(s.values[None])[0] == math.inf
    # AUC / budget by the trapezoid rule: hiro seed 0 (0, .6, 1, 1) -> (0.3 + 0.8 + 1.0) / 3 = 0.7;
    # seed 1 (0, 0, .5, 1) -> (0 + 0.25 + 0.75) / 3 = 1/3; td3 seed 0: 0, seed 1 (0, 0, 0, .2) -> 0.1 / 3
    s = _claim("hiro_vs_flat", t, params, measure="auc")
    np.testing.assert_allclose(sorted(s.values), sorted([0.7, 1 / 3 - 0.1 / 3]))
    s = _claim("hiro_vs_flat", t, params, measure="final")
    np.testing.assert_allclose(sorted(s.values), [0.8, 1.0])
    s = _claim("hiro_vs_feudal_stability", t, params, measure="final")
    # final (last) success: feudal [0.5, 0, 0] (median 0) -> |dev| [0.5, 0, 0]; hiro [1, 1, 0] (median 1) -> [0, 0, 1]
    np.testing.assert_allclose(s.values, [0.5, 0.0, -1.0])
    # a weak agent still has a defined, zero AUC: the comparison exists (no floor-effect exclusion)
    floor = t[t["algo"] == "td3"].assign(success=False)
    floor = pd.concat([floor, floor.assign(algo="hiro")])
    s = _claim("hiro_vs_flat", floor, params)
    np.testing.assert_allclose(s.values, [0.0, 0.0])
    s = _claim("hiro_table1_hiro", t, params)
    assert s.values.size == 0 and s.n_seeds == 0


def test_far_goal_alone():
    """goal "0,8" selects that goal's rows only; the mean over goals averages the per-goal rates."""
    t = _synthetic({("hiro", 0): [(0, 0, 0), (1.0, 0.5, 0.0)], ("td3", 0): [(0, 0, 0), (1.0, 0.0, 0.0)]})
    params = _full({"train": {"total_steps": 1000, "n_envs": 1}, "env": {"horizon": 1000}, "eval": {"every_steps": 1000}})
    s = _claim("hiro_vs_flat", t, params, measure="final", final_window=1, goal="mean")
    np.testing.assert_allclose(s.values, [0.5 / 3])
    s = _claim("hiro_vs_flat", t, params, measure="final", final_window=1, goal="0,8")
    np.testing.assert_allclose(s.values, [0.0])
    s = _claim("hiro_vs_flat", t, params, measure="final", final_window=1, goal="8,8")
    np.testing.assert_allclose(s.values, [0.5])
    with pytest.raises(ValueError, match="params.goal"):
        _claim("hiro_vs_flat", t, params, goal="3,3")


def test_report_and_figures(tmp_path, one_thread):
    from hrlmeta.experiments.pointmaze_hiro.figures import figures
    from hrlmeta.report import report_text

    tables = E.train("td3", [0, 1], SMOKE) + E.train("hiro", [0, 1], SMOKE)
    t = pd.concat(tables, ignore_index=True)
    text = "\n".join(report_text(REGISTRY, "pointmaze_hiro", t, SMOKE))
    assert "final (8, 0)" in text and "(0, 8)" in text and "Table 1" in text
    assert "greedy local optimum" not in text
    figures(t, SMOKE, tmp_path)
    assert (tmp_path / "pointmaze_hiro_success.png").exists() and (tmp_path / "pointmaze_hiro_subgoals.png").exists()


def test_batched_bench_structure(one_thread):
    """The batched TD3/HIRO bench returns per-seed rates for the loop and the batch at every S (no timing asserted)."""
    from hrlmeta.bench import batched_td3

    out = batched_td3.measure(sizes=(1, 2), updates=2, repeats=1, hidden=(8, 8))
    for learner in ("td3", "hiro"):
        assert set(out["updates_per_s_per_seed"][learner]) == {1, 2}
        for S in (1, 2):
            r = out["updates_per_s_per_seed"][learner][S]
            assert r["loop"] > 0 and r["batched"] > 0
            assert out["speedup"][learner][S] > 0


def test_manager_target_smoothing_is_in_goal_units():
    """Released TD3Agent.target_value_net adds N(0, 0.2) clipped to +-0.5 to the target action in raw units:
    for the manager (goals in +-10) that is 0.02 / 0.05 of its normalised action; the worker keeps td3's."""
    params = _full({"td3": {"hidden": [8, 8], "target_noise": 0.2, "noise_clip": 0.5},
                    "hiro": {"subgoal_range": 10, "manager_target_noise": 0.2, "manager_noise_clip": 0.5}})
    gens = [torch.Generator().manual_seed(0)]
    for algo in ("hiro", "hiro_no_correction", "feudal"):
        cfg = E.make_agent(algo, params, gens, "cpu").cfg
        assert math.isclose(cfg.manager.target_noise, 0.02) and math.isclose(cfg.manager.noise_clip, 0.05)
        assert cfg.worker.target_noise == 0.2 and cfg.worker.noise_clip == 0.5
    params = _full({**params, "hiro": {"subgoal_range": 10, "manager_target_noise": None, "manager_noise_clip": None}})
    cfg = E.make_agent("hiro", params, gens, "cpu").cfg
    assert cfg.manager.target_noise == 0.2 and cfg.manager.noise_clip == 0.5    # normalised units (old behaviour)
