"""RL^2 policy, batched meta-environments and PPO pieces (hrlmeta.algos.rl2)."""

import numpy as np
import pytest
import torch

from hrlmeta.algos import rl2
from hrlmeta.envs.bandits import sample_means
from hrlmeta.envs.tabular_mdp import sample_mdps


def _inputs(policy, T, B, gen):
    return torch.randn(T, B, policy.in_dim, generator=gen)


def test_rollout_input_encoding():
    """Row t of the recorded inputs is (o_t, one-hot a_{t-1}, r_{t-1}, d_{t-1}), zeros at t = 0."""
    torch.manual_seed(0)
    env = rl2.TabularMDPMetaEnv(n_episodes=2, horizon=3, n_states=4, n_actions=3)
    p = rl2.RL2Policy(env.obs_dim, env.n_actions, hidden=8)
    ro = rl2.rollout(p, env, 5, np.random.default_rng(0), torch.Generator().manual_seed(0))
    X, A, R = ro["X"], ro["A"], ro["rewards"]
    assert X.shape == (6, 5, 4 + 3 + 2)
    np.testing.assert_array_equal(X[0, :, :4].numpy(), np.tile([1, 0, 0, 0], (5, 1)))  # start state 0
    assert torch.all(X[0, :, 4:] == 0)
    for t in range(1, 6):
        torch.testing.assert_close(X[t, :, 4:7], torch.nn.functional.one_hot(A[t - 1], 3).float())
        torch.testing.assert_close(X[t, :, 7], R[t - 1])
        assert torch.all(X[t, :, 8] == float(t % 3 == 0))            # previous step ended an episode
        assert torch.all(X[t, :, :4].sum(1) == 1)                     # one-hot state
        if t % 3 == 0:
            assert torch.all(X[t, :, 0] == 1)                         # next episode restarts in state 0


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


def test_stepwise_cell_equals_sequence_gru():
    """The rollout's per-step ``gru_cell`` path and the update's ``nn.GRU`` path are the same function."""
    p = rl2.RL2Policy(obs_dim=1, n_actions=2, hidden=4)
    X = _inputs(p, 6, 3, torch.Generator().manual_seed(2))
    L, V = p.forward_seq(X)
    h = p.initial_state(3)
    for t in range(6):
        lo, v, h = p.step(X[t], h)
        torch.testing.assert_close(lo, L[t])
        torch.testing.assert_close(v, V[t])


@pytest.mark.parametrize("zero_h0", [True, False])
def test_gru_sequence_gradient_is_exact(zero_h0):
    """GRUSequence's hand-written BPTT against finite differences (float64), for a trial start (h_0 = 0,
    whose recurrent product is skipped) and a carried state, including the gradients of X and h_0."""
    torch.manual_seed(4)
    p = rl2.RL2Policy(obs_dim=3, n_actions=4, hidden=6).double()
    X = torch.randn(7, 5, p.in_dim, dtype=torch.double, requires_grad=True)
    h0 = (torch.zeros if zero_h0 else torch.randn)(5, 6, dtype=torch.double).requires_grad_(not zero_h0)
    args = (X, h0, *p._gru_weights()) if not zero_h0 else (X, *p._gru_weights())
    f = (lambda X, h0, *w: rl2.GRUSequence.apply(X, h0, *w)) if not zero_h0 else \
        (lambda X, *w: rl2.GRUSequence.apply(X, h0, *w))
    assert torch.autograd.gradcheck(f, args)


def test_fused_sequence_pass_equals_step_loop_and_nn_gru():
    """At the default sizes (64 units, MDP inputs, 100 steps, 32 trials), the update's
    forward gives the rollout's per-step gru_cell log-probabilities and values to 1e-6, and the same
    parameter gradients as autograd through nn.GRU (to float rounding)."""
    torch.manual_seed(5)
    p = rl2.RL2Policy(obs_dim=10, n_actions=5, hidden=64)
    B = 32
    X = torch.randn(100, B, p.in_dim, generator=torch.Generator().manual_seed(6))
    A = torch.randint(0, 5, (100, B), generator=torch.Generator().manual_seed(7))
    logits, v = p.forward_seq(X)
    logp = rl2.log_softmax(logits).gather(2, A[:, :, None]).squeeze(2)
    with torch.no_grad():
        h, steps_logp, steps_v = p.initial_state(B), [], []
        for t in range(100):
            lo, vt, h = p.step(X[t], h)
            steps_logp.append(rl2.log_softmax(lo).gather(1, A[t, :, None]).squeeze(1))
            steps_v.append(vt)
    torch.testing.assert_close(logp.detach(), torch.stack(steps_logp), atol=1e-6, rtol=0)
    torch.testing.assert_close(v.detach(), torch.stack(steps_v), atol=1e-6, rtol=0)
    out_ref, _ = p.gru(X, p.initial_state(B))
    l_ref, v_ref = p.heads(out_ref)
    loss = lambda lo, va: (lo.sin() * 3).sum() + (va.cos() * 2).sum()  # noqa: E731
    params = list(p.parameters())
    g = torch.autograd.grad(loss(logits, v), params)
    g_ref = torch.autograd.grad(loss(l_ref, v_ref), params)
    for a, b in zip(g, g_ref):
        assert (a - b).abs().max() <= 1e-5 * b.abs().max()


def test_recorded_logp_and_values_match_the_update_forward():
    """Old log-probabilities and values stored by the rollout equal a fresh forward pass of the update,
    so the PPO ratio is exactly 1 before the first gradient step."""
    torch.manual_seed(3)
    env = rl2.BanditMetaEnv(n=7, k=4)
    p = rl2.RL2Policy(env.obs_dim, env.n_actions, hidden=16)
    ro = rl2.rollout(p, env, 9, np.random.default_rng(1), torch.Generator().manual_seed(1))
    logits, v = p.forward_seq(ro["X"])
    logp = torch.log_softmax(logits, -1).gather(2, ro["A"][:, :, None]).squeeze(2)
    torch.testing.assert_close(logp, ro["logp"], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(v, ro["values"], atol=1e-5, rtol=1e-5)


def test_log_softmax_matches_torch():
    x = torch.randn(4, 6, 5, generator=torch.Generator().manual_seed(0)) * 30
    torch.testing.assert_close(rl2.log_softmax(x), torch.log_softmax(x, -1))


def test_gumbel_max_sampling_follows_the_policy():
    """Actions sampled in the rollout follow softmax(logits): a policy with fixed logits (zero recurrent
    weights) played on many tasks picks each action with the softmax probability."""
    env = rl2.BanditMetaEnv(n=3, k=3)
    p = rl2.RL2Policy(env.obs_dim, env.n_actions, hidden=4)
    with torch.no_grad():
        for w in p.gru.parameters():
            w.zero_()
        p.pi.bias.copy_(torch.tensor([0.0, 1.0, -1.0]))
    ro = rl2.rollout(p, env, 20000, np.random.default_rng(0), torch.Generator().manual_seed(0), record=False)
    freq = torch.bincount(ro["A"].ravel(), minlength=3).double() / ro["A"].numel()
    np.testing.assert_allclose(freq.numpy(), torch.softmax(p.pi.bias.detach().double(), 0).numpy(), atol=0.006)


def test_bandit_meta_env_rewards_and_regret():
    env = rl2.BanditMetaEnv(n=400, k=3)
    env.reset_trial(50, np.random.default_rng(4), torch.Generator().manual_seed(4))
    means = torch.from_numpy(sample_means(np.random.default_rng(4), 50, 3)).float()
    torch.testing.assert_close(env.means, means)  # same task sampler as the baselines
    a = torch.arange(50) % 3
    rewards = []
    for _ in range(400):
        obs, r, done, regret = env.step(a)
        assert done is True and obs.shape == (50, 1)
        rewards.append(r)
    chosen = means[torch.arange(50), a]
    torch.testing.assert_close(regret, means.max(1).values - chosen)
    emp = torch.stack(rewards).mean(0)
    assert torch.all(torch.abs(emp - chosen) < 4 * torch.sqrt(chosen * (1 - chosen) / 400) + 1e-3)


def test_mdp_meta_env_dynamics_follow_the_sampled_mdp():
    """Rewards are N(R(s, a), 1) and next states follow P(. | s, a) of the sampled task."""
    n, S, A = 20000, 4, 2
    env = rl2.TabularMDPMetaEnv(n_episodes=1, horizon=2, n_states=S, n_actions=A)
    obs = env.reset_trial(n, np.random.default_rng(5), torch.Generator().manual_seed(5))
    R, P = sample_mdps(np.random.default_rng(5), n, S, A)
    assert torch.all(obs[:, 0] == 1)
    a = torch.ones(n, dtype=torch.long)
    obs, r, done, _ = env.step(a)
    assert done is False
    noise = r.double().numpy() - R[:, 0, 1]
    assert abs(noise.mean()) < 0.03 and abs(noise.std() - 1) < 0.03
    s1 = obs.argmax(1).numpy()
    np.testing.assert_allclose(np.bincount(s1, minlength=S) / n, P[:, 0, 1].mean(0), atol=0.012)
    # conditional on the task: states with larger P(s' | 0, 1) are hit more often (inverse-CDF sampling)
    p_hit = P[np.arange(n), 0, 1, s1]
    assert p_hit.mean() > (P[:, 0, 1] ** 2).sum(1).mean() - 0.01
    obs, r, done, _ = env.step(a)
    assert done is True and torch.all(obs[:, 0] == 1)   # episode over: back to state 0


def test_mdp_meta_env_episode_structure():
    env = rl2.TabularMDPMetaEnv(n_episodes=3, horizon=4, n_states=5, n_actions=2)
    obs = env.reset_trial(6, np.random.default_rng(0), torch.Generator().manual_seed(0))
    assert obs.shape == (6, 5) and torch.all(obs[:, 0] == 1)
    dones = []
    for t in range(env.trial_length):
        obs, r, d, _ = env.step(torch.zeros(6, dtype=torch.long))
        dones.append(d)
        if d:
            assert torch.all(obs[:, 0] == 1)  # next episode restarts in state 0
    assert dones == [False, False, False, True] * 3


def test_gae_closed_forms():
    r = torch.tensor([[1.0], [0.0], [2.0]], dtype=torch.float64)
    v = torch.tensor([[0.5], [0.2], [0.1]], dtype=torch.float64)
    # lambda = 1: discounted return minus value; lambda = 0: one-step TD error
    g = 0.9
    ret = np.array([1 + g * 0 + g * g * 2, 0 + g * 2, 2.0])
    np.testing.assert_allclose(rl2.gae(r, v, g, 1.0)[:, 0].numpy(), ret - v[:, 0].numpy())
    td = np.array([1 + g * 0.2 - 0.5, 0 + g * 0.1 - 0.2, 2 - 0.1])
    np.testing.assert_allclose(rl2.gae(r, v, g, 0.0)[:, 0].numpy(), td)


def test_running_stats():
    s = rl2.RunningStats()
    x = np.random.default_rng(0).normal(3, 2, size=1000)
    s.update(x[:300]); s.update(x[300:])
    assert s.mean == pytest.approx(x.mean()) and s.std == pytest.approx(x.std())


def test_training_is_deterministic_and_learns_a_two_arm_bandit():
    cfg = rl2.PPOConfig(iterations=40, batch_tasks=128, hidden=32, lr=0.005, epochs=4, minibatches=2)
    env = rl2.BanditMetaEnv(n=10, k=2)
    state = torch.random.get_rng_state()
    pol, log = rl2.train(env, cfg, seed=0)
    assert torch.equal(torch.random.get_rng_state(), state)  # the global torch RNG is left alone
    short = rl2.PPOConfig(iterations=3, batch_tasks=16, hidden=8)
    runs = [rl2.train(env, short, seed=4) for _ in range(2)]
    assert [r["return"] for r in runs[0][1]] == [r["return"] for r in runs[1][1]]
    for a, b in zip(runs[0][0].parameters(), runs[1][0].parameters()):
        assert torch.equal(a, b)
    ev = rl2.evaluate(pol, env, 2000, seed=1)
    assert ev["totals"].shape == (2000,)
    assert ev["totals"].mean() > 5.25  # random: 5.0 (s.e. of this mean ~0.05)
    assert np.all(np.diff(np.cumsum(ev["regret_per_step"])) >= -1e-12)


def test_unknown_config_key():
    with pytest.raises(KeyError, match="unknown training parameter"):
        rl2.PPOConfig.from_params({"iterationz": 3})
