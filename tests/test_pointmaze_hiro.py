"""pointmaze_hiro: point-maze dynamics, TD3 pieces, HIRO's relabelling, claims and determinism."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch

from hrlmeta.algos import hiro as H
from hrlmeta.algos.feudal import feudal_config
from hrlmeta.algos.td3 import TD3, TD3Config, TwinCritic, td_target
from hrlmeta.envs.pointmaze import PointMaze, task_reward
from hrlmeta import experiments as registry
from hrlmeta.experiments import pointmaze_hiro as E
from hrlmeta.experiments import REGISTRY

SMOKE = {"env": {"horizon": 20}, "train": {"total_steps": 160, "n_envs": 4}, "eval": {"every_steps": 80, "episodes": 2},
         "td3": {"hidden": [8, 8], "batch_size": 16}, "replay_size": 1000, "analysis": {"final_window": 1},
         "hiro": {"c": 5}}


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


def _const_critic(critic: TwinCritic, in_dim: int, coefs=(1.0, 2.0), action_index=None, offset=5.0):
    """Hidden width 1: Q_j = coefs[j] * relu(x[action_index] + offset) (or the constant coefs[j])."""
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
        actor.layers[-1].bias.fill_(math.atanh(value))


def test_clipped_double_q_target_takes_the_minimum():
    cfg = TD3Config(hidden=(1,), gamma=0.9)
    agent = TD3(3, 1, cfg, torch.Generator().manual_seed(0))
    _const_critic(agent.critic_t, 4, coefs=(3.0, -2.0))
    _const_actor(agent.actor_t, 0.0)
    y = td_target(agent.critic_t, agent.actor_t, torch.zeros(2, 3), torch.tensor([1.0, 0.5]), torch.tensor([1.0, 0.0]),
                  cfg, torch.Generator().manual_seed(1))
    np.testing.assert_allclose(y.numpy(), [1.0 + 0.9 * -2.0, 0.5])


def test_target_policy_smoothing_hand_computed():
    cfg = TD3Config(hidden=(1,), gamma=0.99, target_noise=0.2, noise_clip=0.5)
    agent = TD3(3, 1, cfg, torch.Generator().manual_seed(0))
    _const_actor(agent.actor_t, 0.9)
    _const_critic(agent.critic_t, 4, coefs=(1.0, 2.0), action_index=3)  # Q_j = c_j (a + 5)
    n = 2000
    y = td_target(agent.critic_t, agent.actor_t, torch.zeros(n, 3), torch.zeros(n), torch.ones(n), cfg,
                  torch.Generator().manual_seed(7))
    z = torch.randn((n, 1), generator=torch.Generator().manual_seed(7))
    a = (0.9 + (0.2 * z).clamp(-0.5, 0.5)).clamp(-1, 1)
    np.testing.assert_allclose(y.numpy(), (0.99 * (a[:, 0] + 5.0)).numpy(), rtol=1e-6)
    # smoothing noise is clipped: no target action below 0.9 - 0.5; the action box clips at 1
    assert y.min() >= 0.99 * (0.4 + 5) - 1e-5 and y.max() <= 0.99 * 6 + 1e-5
    assert (a == 1.0).any()


def test_delayed_actor_and_target_updates():
    cfg = TD3Config(hidden=(4,), policy_delay=2, tau=0.25)
    agent = TD3(3, 1, cfg, torch.Generator().manual_seed(0))
    g = torch.Generator().manual_seed(3)
    batch = (torch.randn(8, 3, generator=g), torch.rand(8, 1, generator=g), torch.randn(8, generator=g),
             torch.randn(8, 3, generator=g), torch.ones(8))
    actor0 = [p.clone() for p in agent.actor.parameters()]
    critic_t0 = [p.clone() for p in agent.critic_t.parameters()]
    c0 = [p.clone() for p in agent.critic.parameters()]
    out = agent.update(*batch)
    assert "actor_loss" not in out
    assert all(torch.equal(a, b) for a, b in zip(actor0, agent.actor.parameters()))
    assert all(torch.equal(a, b) for a, b in zip(critic_t0, agent.critic_t.parameters()))
    assert any(not torch.equal(a, b) for a, b in zip(c0, agent.critic.parameters()))
    c1 = [p.clone() for p in agent.critic.parameters()]
    out = agent.update(*batch)
    assert "actor_loss" in out
    assert any(not torch.equal(a, b) for a, b in zip(actor0, agent.actor.parameters()))
    # soft update with the critic after the 2nd critic step: theta' = tau theta + (1 - tau) theta'
    for t0, p, t in zip(critic_t0, agent.critic.parameters(), agent.critic_t.parameters()):
        torch.testing.assert_close(t, 0.25 * p.detach() + 0.75 * t0)
    assert any(not torch.equal(a, b) for a, b in zip(c1, agent.critic.parameters()))


def test_twin_critic_heads_are_independent_networks():
    gen = torch.Generator().manual_seed(0)
    tc = TwinCritic(5, (7, 6), gen)
    x = torch.randn(11, 5, generator=gen)
    q = tc(x)
    assert q.shape == (2, 11)
    for j in range(2):
        h = x
        for k, (w, b) in enumerate(zip(tc.weights, tc.biases)):
            h = h @ w[j] + b[j]
            if k < len(tc.weights) - 1:
                h = torch.relu(h)
        torch.testing.assert_close(q[j], h[:, 0])
    torch.testing.assert_close(tc.q1(x), q[0])


# ----------------------------------------------------------------------------- HIRO pieces


def _goal_actor(x):
    """A worker whose action is its (scaled) goal input: mu(s, g) = 0.1 g."""
    return x[..., -2:]


def test_log_likelihood_hand_computed():
    seq_obs = torch.tensor([[[0.0, 0.0, 1.0, 0.0], [1.0, 0.0, 1.0, 0.0]]])  # c = 2
    seq_act = torch.tensor([[[0.3, 0.1], [0.2, 0.1]]])
    cand = torch.tensor([[[3.0, 1.0], [0.0, 0.0]]])
    ll = H.action_log_likelihood(_goal_actor, seq_obs, seq_act, cand, scale=0.1)
    # candidate (3, 1): goals (3, 1) then (0 + 3 - 1, 1) = (2, 1) -> mu = (0.3, 0.1), (0.2, 0.1): exact
    # candidate (0, 0): goals (0, 0), (-1, 0) -> mu = (0, 0), (-0.1, 0)
    expect0 = 0.0
    expect1 = -0.5 * ((0.3 ** 2 + 0.1 ** 2) + (0.3 ** 2 + 0.1 ** 2))
    np.testing.assert_allclose(ll.numpy(), [[expect0, expect1]], atol=1e-7)


def test_relabel_picks_the_most_likely_candidate():
    rng = np.random.default_rng(0)
    B, c = 6, 10
    true_g = torch.tensor(rng.uniform(-8, 8, size=(B, 2)), dtype=torch.float32)
    xy = torch.tensor(np.cumsum(rng.uniform(-0.2, 0.2, size=(B, c + 1, 2)), axis=1), dtype=torch.float32)
    seq_obs = torch.cat([xy[:, :c], torch.ones(B, c, 1), torch.zeros(B, c, 1)], dim=-1)
    goals = xy[:, :1] + true_g[:, None] - xy[:, :c]
    seq_act = 0.1 * goals  # the stored actions are exactly mu(s_i, g_i) for the true goal
    cfg = H.HiroConfig()
    # the true goal as the original goal -> relabelling returns it (likelihood maximal, 0 error)
    out = H.relabel_goals(_goal_actor, seq_obs, seq_act, xy[:, c], true_g, cfg, torch.Generator().manual_seed(0))
    torch.testing.assert_close(out, true_g)
    # otherwise the chosen candidate is the argmax over the 10 candidates of the log-likelihood
    wrong = -true_g
    gen_a, gen_b = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    out = H.relabel_goals(_goal_actor, seq_obs, seq_act, xy[:, c], wrong, cfg, gen_a)
    cand = H.candidate_goals(wrong, xy[:, c] - xy[:, 0], 8, 5.0, 10.0, gen_b)
    ll = H.action_log_likelihood(_goal_actor, seq_obs, seq_act, cand, 0.1)
    assert cand.shape == (B, 10, 2)
    torch.testing.assert_close(out, cand[torch.arange(B), ll.argmax(1)])
    assert (ll.max(1).values >= H.action_log_likelihood(_goal_actor, seq_obs, seq_act, wrong[:, None], 0.1)[:, 0]).all()
    # no correction keeps the goal; TPG draws around s_{t+c} - s_t
    none = H.relabel_goals(_goal_actor, seq_obs, seq_act, xy[:, c], wrong, H.HiroConfig(relabel="none"), gen_a)
    torch.testing.assert_close(none, wrong)
    tpg = H.relabel_goals(None, seq_obs, seq_act, xy[:, c], wrong, feudal_config(cfg), gen_a)
    assert ((tpg - (xy[:, c] - xy[:, 0])).abs() < 6.0).all()


def test_goal_transition_and_worker_rewards():
    xy, g, nxy = np.array([[1.0, 1.0]]), np.array([[2.0, 0.0]]), np.array([[1.5, 0.0]])
    np.testing.assert_allclose(H.goal_transition(xy, g, nxy), [[1.5, 1.0]])
    np.testing.assert_allclose(H.distance_reward(xy, g, nxy), [-math.hypot(1.5, 1.0)])
    np.testing.assert_allclose(H.cosine_reward(xy, g, nxy), [0.5 / math.hypot(0.5, 1.0)])
    np.testing.assert_allclose(H.cosine_reward(xy, g, xy), [0.0])  # blocked step


# ----------------------------------------------------------------------------- experiment


@pytest.mark.parametrize("algo", E.ALGOS)
def test_train_is_deterministic_per_seed(algo):
    a = E.train(algo, 3, SMOKE)
    b = E.train(algo, 3, SMOKE)
    pd.testing.assert_frame_equal(a, b)
    assert set(a["phase"]) == {"train", "eval", "trace"}
    ev = a[a["phase"] == "eval"]
    assert sorted(ev["env_steps"].unique()) == [0, 80, 160]
    assert (a.loc[a["phase"] == "train", "decisions"] == (20 if algo == "td3" else 4)).all()
    c = E.train(algo, 4, SMOKE)
    ra, rc = a.loc[a["phase"] == "train", "return"].to_numpy(), c.loc[c["phase"] == "train", "return"].to_numpy()
    assert ra.shape == rc.shape and not np.array_equal(ra, rc)


def test_schedule_and_device_errors():
    with pytest.raises(ValueError, match="train.total_steps"):
        E.schedule({"train": {"total_steps": 1001, "n_envs": 2}})
    with pytest.raises(ValueError, match="eval.every_steps"):
        E.schedule({"train": {"total_steps": 2000, "n_envs": 2}, "eval": {"every_steps": 300}})
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="params.device"):
            E.train("hiro", 0, {**SMOKE, "device": "cuda"})
    with pytest.raises(ValueError, match="actor_lr"):
        TD3Config(actor_lr=2.0)
    assert registry.cost_units("pointmaze_hiro", "hiro", SMOKE) == 160.0


def test_schema_rejects_unknown_key():
    from hrlmeta.config import ConfigError, validate_config

    cfg = {"experiments": {"pointmaze_hiro": {"algos": ["hiro"], "n_seeds": 1, "params": {"hiro": {"cc": 3}}}}}
    with pytest.raises(ConfigError, match="cc"):
        validate_config(cfg, REGISTRY)


def _synthetic(curves: dict) -> pd.DataFrame:
    rows = []
    for (algo, seed), rates in curves.items():
        for k, r in enumerate(rates):
            for i in range(10):
                rows.append({"algo": algo, "seed": seed, "phase": "eval", "episode": k, "env_steps": 1000 * k,
                             "success": i < round(10 * r), "final_dist": 1.0})
    return pd.DataFrame(rows)


def test_claims_on_a_constructed_table():
    t = _synthetic({("hiro", 0): [0, 0.6, 1.0, 1.0], ("feudal", 0): [0, 0, 0, 0.5],
                    ("hiro", 1): [0, 0.0, 0.5, 1.0], ("feudal", 1): [0, 0, 0, 0],
                    ("hiro", 2): [0, 0, 0, 0], ("feudal", 2): [0, 0, 0, 0],
                    ("td3", 0): [0, 0, 0, 0], ("td3", 1): [0, 0, 0, 0.2]})
    params = {"train": {"total_steps": 4000, "n_envs": 1, }, "env": {"horizon": 1000}, "eval": {"every_steps": 1000},
              "analysis": {"final_window": 1}}
    from hrlmeta.claims import measure_claim
    from hrlmeta.experiments.pointmaze_hiro.measures import MEASURES

    def m(name, **cp):
        return measure_claim(MEASURES, {"id": name, "measure": name, "params": cp}, t, params)

    s = m("sample_efficiency", threshold=0.5, censor="budget")
    # seed 0: 3000 / 1000; seed 1: feudal censored at budget 3000 + 1000 -> 4000 / 2000; seed 2: both censored
    np.testing.assert_allclose(sorted(s.values), [2.0, 3.0])
    assert s.n_seeds == 2 and s.budget == 3000
    s = m("sample_efficiency", threshold=0.5, censor="inf")
    assert sorted(s.values)[1] == math.inf
    s = m("success_difference", baseline="td3")
    np.testing.assert_allclose(sorted(s.values), [0.8, 1.0])
    s = m("stability")
    # final (last) success: feudal [0.5, 0, 0] (median 0) -> |dev| [0.5, 0, 0]; hiro [1, 1, 0] (median 1) -> [0, 0, 1]
    np.testing.assert_allclose(s.values, [0.5, 0.0, -1.0])
    floor = t[t["algo"] == "td3"].assign(success=False)
    floor = pd.concat([floor, floor.assign(algo="hiro")])
    s = measure_claim(MEASURES, {"id": "f", "measure": "success_difference", "params": {"baseline": "td3"}},
                      floor, params)
    assert s.values.size == 0 and s.n_seeds == 0 and "floor" in s.note
    s = m("published", published="HIRO")
    assert s.values.size == 0 and s.n_seeds == 0
