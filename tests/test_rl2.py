"""RL^2 policy and PPO pieces (hrlmeta.algos.rl2)."""

import numpy as np
import pytest
import torch

from hrlmeta.algos import rl2


def _inputs(policy, T, B, gen):
    return torch.randn(T, B, policy.in_dim, generator=gen)


def test_input_encoding():
    p = rl2.RL2Policy(obs_dim=3, n_actions=4, hidden=5)
    x = p.make_input(np.eye(3)[[0, 2]], np.array([-1, 2]), np.array([0.0, 1.5]), np.array([0.0, 1.0]))
    np.testing.assert_allclose(x[0].numpy(), [1, 0, 0, 0, 0, 0, 0, 0, 0])
    np.testing.assert_allclose(x[1].numpy(), [0, 0, 1, 0, 0, 1, 0, 1.5, 1])


def test_hidden_state_reset_between_tasks_and_kept_within():
    torch.manual_seed(0)
    p = rl2.RL2Policy(obs_dim=2, n_actions=3, hidden=6)
    gen = torch.Generator().manual_seed(1)
    task_a, task_b = _inputs(p, 7, 1, gen), _inputs(p, 5, 1, gen)
    # a fresh trial starts from the zero state: outputs on task b do not depend on task a's history
    la, _ = p.forward_seq(task_b, p.initial_state(1))
    with torch.no_grad():
        h = p.initial_state(1)
        for t in range(7):
            _, _, h = p.step(task_a[t], h)
        h = p.initial_state(1)  # reset between tasks (what rollout() does at every trial start)
        outs = []
        for t in range(5):
            lo, _, h = p.step(task_b[t], h)
            outs.append(lo)
    torch.testing.assert_close(torch.stack(outs), la.detach())
    # ... whereas carrying task a's final state into task b changes the outputs (memory is kept)
    with torch.no_grad():
        _, hA = p.gru(task_a, p.initial_state(1))
        lc, _ = p.forward_seq(task_b, hA)
    assert not torch.allclose(lc, la)
    # within a task the output at step t depends on earlier steps
    changed = task_b.clone()
    changed[0] += 1.0
    ld, _ = p.forward_seq(changed)
    assert not torch.allclose(ld[3], la[3])


def test_stepwise_equals_sequence_forward():
    p = rl2.RL2Policy(obs_dim=1, n_actions=2, hidden=4)
    X = _inputs(p, 6, 3, torch.Generator().manual_seed(2))
    L, V = p.forward_seq(X)
    h = p.initial_state(3)
    for t in range(6):
        lo, v, h = p.step(X[t], h)
        torch.testing.assert_close(lo, L[t])
        torch.testing.assert_close(v, V[t])


def test_gae_closed_forms():
    r = np.array([[1.0], [0.0], [2.0]])
    v = np.array([[0.5], [0.2], [0.1]])
    # lambda = 1: discounted return minus value; lambda = 0: one-step TD error
    g = 0.9
    ret = np.array([1 + g * 0 + g * g * 2, 0 + g * 2, 2.0])
    np.testing.assert_allclose(rl2.gae(r, v, g, 1.0)[:, 0], ret - v[:, 0])
    td = np.array([1 + g * 0.2 - 0.5, 0 + g * 0.1 - 0.2, 2 - 0.1])
    np.testing.assert_allclose(rl2.gae(r, v, g, 0.0)[:, 0], td)


def test_running_stats():
    s = rl2.RunningStats()
    x = np.random.default_rng(0).normal(3, 2, size=1000)
    s.update(x[:300]); s.update(x[300:])
    assert s.mean == pytest.approx(x.mean()) and s.std == pytest.approx(x.std())


def test_training_is_deterministic_and_learns_a_two_arm_bandit():
    cfg = rl2.PPOConfig(iterations=40, batch_tasks=128, hidden=32, lr=0.005, epochs=4, minibatches=2)
    env = rl2.BanditMetaEnv(n=10, k=2)
    pol, log = rl2.train(env, cfg, seed=0)
    short = rl2.PPOConfig(iterations=3, batch_tasks=16, hidden=8)
    assert [r["return"] for r in rl2.train(env, short, seed=4)[1]] == [r["return"] for r in rl2.train(env, short, seed=4)[1]]
    ev = rl2.evaluate(pol, env, 2000, seed=1)
    assert ev["totals"].shape == (2000,)
    assert ev["totals"].mean() > 5.25  # random: 5.0 (s.e. of this mean ~0.05)
    assert np.all(np.diff(np.cumsum(ev["regret_per_step"])) >= -1e-12)


def test_mdp_meta_env_episode_structure():
    env = rl2.TabularMDPMetaEnv(n_episodes=3, horizon=4, n_states=5, n_actions=2)
    obs = env.reset_trial(6, np.random.default_rng(0))
    assert obs.shape == (6, 5) and np.all(obs[:, 0] == 1)
    dones = []
    for t in range(env.trial_length):
        obs, r, d, _ = env.step(np.zeros(6, int))
        dones.append(d)
        if d:
            assert np.all(obs[:, 0] == 1)  # next episode restarts in state 0
    assert dones == [False, False, False, True] * 3


def test_unknown_config_key():
    with pytest.raises(KeyError, match="unknown training parameter"):
        rl2.PPOConfig.from_params({"iterationz": 3})
