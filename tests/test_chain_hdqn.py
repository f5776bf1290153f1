"""chain_hdqn: the stochastic chain of Kulkarni et al. (2016), its exact oracle, and the three agents."""

import copy
import itertools

import numpy as np
import pytest

from hrlmeta import config as C
from hrlmeta.algos import hdqn, hdqn_tabular, q_learning
from hrlmeta.envs import chain
from hrlmeta.experiments.chain_hdqn import training as E
from hrlmeta.experiments import REGISTRY
from hrlmeta.experiments.chain_hdqn import oracle as O


@pytest.fixture(scope="module")
def params():
    return C.experiment_params(C.load_config(REGISTRY, "config/smoke.yaml"), "chain_hdqn")


# ---------------------------------------------------------------------------------------------- environment


def test_step_is_the_papers_process():
    p = 0.5
    for s in range(1, 6):
        for u in (0.0, 0.25, 0.4999, 0.5, 0.75, 0.9999):
            assert chain.step(s, chain.LEFT, u, p, 6) == s - 1  # left: deterministic
            want = (min(s + 1, 5) if u < p else s - 1)  # right: succeeds w.p. p, else moves left
            assert chain.step(s, chain.RIGHT, u, p, 6) == want
    assert chain.step(5, chain.RIGHT, 0.1, p, 6) == 5  # s6: 'right' stays on success (the chain ends)


def test_transition_matrix_exact():
    P = chain.transition_matrix(0.5)
    assert np.allclose(P[1:].sum(-1), 1.0) and not P[0].any()
    assert P[1, chain.LEFT, 0] == 1.0 and P[1, chain.RIGHT, 2] == 0.5 and P[1, chain.RIGHT, 0] == 0.5
    assert P[5, chain.RIGHT, 5] == 0.5 and P[5, chain.RIGHT, 4] == 0.5 and P[5, chain.LEFT, 4] == 1.0


@pytest.mark.parametrize("algo", ["q_learning", "hdqn_tabular", "hdqn"])
def test_rewards_exact_in_every_agent(params, algo):
    p = copy.deepcopy(params)
    p.update(n_episodes=300 if algo != "hdqn" else 100, epsilon={**p["epsilon"], "start": 1.0, "end": 1.0})  # uniformly random actions
    p["env"]["p_right"] = 0.9  # so that s6 is visited in some episodes
    res = E.run_algo(algo, 0, p)
    ret, vis6, visits = res["return"], res["visited6"], res["visits"]
    assert np.array_equal(ret, np.where(vis6, 1.0, 0.01))  # 1 after s6, 0.01 otherwise
    assert np.array_equal(vis6, visits[:, 5] > 0)
    assert (visits[:, 0] == 1).all()  # every episode ends by entering s1 once
    assert vis6.any() and (~vis6).any()
    assert np.array_equal(res["steps"], visits.sum(1))


def test_right_never_succeeding_ends_every_episode_in_one_step(params):
    p = copy.deepcopy(params)
    p["env"]["p_right"] = 0.0
    for algo in ("q_learning", "hdqn_tabular"):
        res = E.run_algo(algo, 1, {**p, "n_episodes": 50, "final_episodes": 10})
        assert (res["steps"] == 1).all() and (res["return"] == 0.01).all()


# ---------------------------------------------------------------------------------------------- oracle


def _eval_augmented(policy, p, rv, ru):
    """Expected return from (s2, unvisited) of a deterministic policy on (s, v), by a linear solve."""
    P = chain.transition_matrix(p)
    n = 10
    A, b = np.eye(n), np.zeros(n)
    for s in range(1, 6):
        for v in range(2):
            i = (s - 1) * 2 + v
            for t in range(6):
                q = P[s, policy[(s - 1) * 2 + v], t]
                vt = 1 if (v or t == 5) else 0
                if t == 0:
                    b[i] += q * (rv if vt else ru)
                elif q:
                    A[i, (t - 1) * 2 + vt] -= q
    return np.linalg.solve(A, b)[0]


@pytest.mark.parametrize("p,rv,ru", [(0.5, 1.0, 0.01), (0.3, 1.0, 0.01), (0.7, 2.0, 0.5), (0.5, 1.0, 0.0)])
def test_value_iteration_matches_closed_form_and_is_optimal(p, rv, ru):
    V, Q = O.value_iteration(p, rv, ru)
    cf = O.closed_form_return(p, rv, ru)
    assert V[1, 0] == pytest.approx(cf, abs=1e-12)
    # brute force over all 2^10 deterministic policies on (state, visited-s6): none beats VI
    best = max(_eval_augmented(pol, p, rv, ru) for pol in itertools.product((0, 1), repeat=10))
    assert best == pytest.approx(cf, abs=1e-12)


def test_paper_optimum_is_0208():
    assert O.closed_form_return() == pytest.approx(0.2 + 0.8 * 0.01, abs=1e-15)  # P(s6 before s1) = 1/5
    V, Q = O.value_iteration()
    assert V[1, 0] == pytest.approx(0.208, abs=1e-12)
    assert (Q[1:5, 0, chain.RIGHT] > Q[1:5, 0, chain.LEFT]).all()  # unvisited: go right


def test_policy_evaluators_agree_with_the_oracle():
    S = 6
    right = np.tile([0.0, 1.0], (S, 1))
    assert chain.flat_policy_return(right) == pytest.approx(0.208, abs=1e-12)  # memoryless 'always right'
    assert chain.flat_policy_return(np.tile([1.0, 0.0], (S, 1))) == pytest.approx(0.01, abs=1e-12)
    mu = np.zeros((S, S))
    mu[:5, 5] = 1.0
    mu[5, 0] = 1.0
    pi = np.zeros((S, S, 2))
    pi[:, :, 1] = 1.0
    pi[:, 0] = (1.0, 0.0)
    assert chain.hier_policy_return(mu, pi) == pytest.approx(0.208, abs=1e-12)
    # a flat policy written as a two-level one (controller ignores the goal) gives the same value
    rnd = np.random.default_rng(0).dirichlet([1, 1], size=S)
    assert chain.hier_policy_return(np.full((S, S), 1 / S), np.repeat(rnd[:, None], S, 1)) == \
        pytest.approx(chain.flat_policy_return(rnd), abs=1e-12)


def test_oracle_entry(params):
    out = O.oracle(params)
    assert out["experiment"] == "chain_hdqn"
    assert out["optimal_expected_return"] == pytest.approx(0.208, abs=1e-12)
    assert out["optimal_two_level_return"] == pytest.approx(0.208, abs=1e-12)
    assert 0.01 < out["optimal_two_level_return_at_final_epsilon"]["value"] < 0.208


# ---------------------------------------------------------------------------------------------- agents


def _check_meta_log(log, returns, start=1):
    """Each meta transition starts where its goal was chosen: s2 at an episode's start, else where the
    previous one ended; F sums the extrinsic reward of its whole goal period."""
    for ep in np.unique(log[:, 0]).astype(int):
        rows = log[log[:, 0] == ep]
        assert rows[0, 1] == start
        assert np.array_equal(rows[1:, 1], rows[:-1, 4])
        assert (rows[:-1, 3] == 0.0).all() and rows[-1, 4] == 0
        assert rows[:, 3].sum() == returns[ep]


def test_tabular_meta_transition_starts_at_goal_choice_state(params):
    res = hdqn_tabular.train(40, 1.0, 1.0, 0.0, eps_start=1.0, eps_end=1.0, seed=3, log_meta=10_000)
    log = res["meta_log"]
    _check_meta_log(log, res["return"])
    multi = [ep for ep in np.unique(log[:, 0]) if (log[:, 0] == ep).sum() >= 2]
    assert multi, "the case needs an episode with several goals"
    # alpha_meta = 1, gamma = 0: Q2(s0, g) = F of the last transition from (s0, g); replay the log to check
    Q2 = np.zeros((6, 6))
    for _, s0, g, F, _ in log:
        Q2[int(s0), int(g)] = F
    assert np.array_equal(res["Q2"], Q2)
    # a transition stored from its end state instead would have set Q2(s_end, g): the terminal row stays 0
    assert not res["Q2"][0].any()


def test_neural_meta_transitions_start_at_goal_choice_state(params):
    cfg = hdqn.HDQNConfig(n_episodes=60, anneal_steps=1, eps_start=1.0, eps_end=1.0)
    res = hdqn.train(cfg, seed=5, log_meta=10_000)
    _check_meta_log(res["meta_log"], res["return"])


@pytest.mark.parametrize("algo", ["q_learning", "hdqn_tabular", "hdqn"])
def test_deterministic_per_seed(params, algo):
    p = {**params, "n_episodes": 150, "eval_every": 50}
    a, b, c = E.train(algo, [7], p)[0], E.train(algo, [7], p)[0], E.train(algo, [8], p)[0]
    assert a.equals(b)
    assert not a.equals(c)


def test_tabular_hdqn_learns_and_beats_flat(params):
    p = copy.deepcopy(params)
    p.update(n_episodes=4000)
    p["epsilon"]["anneal_steps"] = 5000
    p["tabular"] = {"alpha": 0.05, "alpha_meta": 0.05}
    h, q = E.run_algo("hdqn_tabular", 0, p), E.run_algo("q_learning", 0, p)
    assert h["return"][-1000:].mean() > q["return"][-1000:].mean() + 0.05
    g = chain.hier_policy_return(chain.greedy_probs(h["Q2"]), chain.greedy_probs(h["Q1"]))
    assert g == pytest.approx(0.208, abs=1e-12)


def test_success_rate_epsilon_mode(params):
    res = hdqn_tabular.train(300, 0.1, 0.1, 0.99, ctrl_eps_mode="success_rate", success_window=20, seed=0)
    eps1 = res["epsilon_ctrl"]
    assert (eps1[0] == 1.0).all() and (eps1 >= 0.1).all() and (eps1[-1] < 1.0).any()


# ---------------------------------------------------------------------------------------------- neural pieces


def test_manual_gradients_match_autograd():
    import torch

    gen = torch.Generator().manual_seed(0)
    n = hdqn.OneHotMLP.size(12, 8, 2)
    theta, grad = torch.zeros(n, dtype=torch.float64), torch.zeros(n, dtype=torch.float64)
    net = hdqn.OneHotMLP(theta, grad, 0, 12, 8, 2, gen)
    s, g = torch.tensor([1, 2, 3, 5, 4]), torch.tensor([6, 11, 7, 6, 10])
    a, y = torch.tensor([0, 1, 1, 0, 1]), torch.tensor([0.3, -0.2, 1.0, 0.0, 0.5], dtype=torch.float64)
    q, pre = net.forward((s, g))
    net.td_backward((s, g), q, pre, a, y)
    th = theta.clone().requires_grad_(True)
    W1, b1, W2, b2 = th[:96].view(12, 8), th[96:104], th[104:120].view(8, 2), th[120:]
    x = torch.nn.functional.one_hot(s, 12).double() + torch.nn.functional.one_hot(g, 12).double()
    qa = (torch.relu(x @ W1 + b1) @ W2 + b2).gather(1, a[:, None])[:, 0]
    ((qa - y) ** 2).mean().backward()
    assert torch.allclose(grad, th.grad, atol=1e-12)
    assert np.allclose(net.q_np((1, 6)), q[0].detach().numpy())


def test_adam_matches_the_textbook_update():
    import torch

    theta = torch.randn(20, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    ref = theta.numpy().copy()
    ours = hdqn.Adam(theta, 2.5e-4)
    m, v, lr, b1, b2, eps = np.zeros(20), np.zeros(20), 2.5e-4, 0.9, 0.999, 1e-8
    for k in range(1, 6):
        gr = np.sin(np.arange(20.0) + k)
        ours.step(torch.from_numpy(gr))
        m, v = b1 * m + (1 - b1) * gr, b2 * v + (1 - b2) * gr**2  # Kingma & Ba (2015), Algorithm 1
        ref -= lr * (m / (1 - b1**k)) / (np.sqrt(v / (1 - b2**k)) + eps)
    assert np.allclose(theta.numpy(), ref, atol=1e-12, rtol=0)


# ---------------------------------------------------------------------------------------------- bad input


def _bad(cfg, path, value):
    cfg = copy.deepcopy(cfg)
    node = cfg["experiments"]["chain_hdqn"]["params"]
    for k in path[:-1]:
        node = node[k]
    node[path[-1]] = value
    return cfg


@pytest.mark.parametrize("path,value,match", [
    (["env", "p_right"], -0.1, r"chain_hdqn\.params\.env\.p_right: -0\.1 is less than the minimum"),
    (["env", "p_right"], 1.0, r"chain_hdqn\.params\.env\.p_right: 1\.0 is greater than or equal"),
    (["neural", "lr"], 1.5, r"chain_hdqn\.params\.neural\.lr: 1\.5 is greater than the maximum"),
    (["tabular", "alpha"], 0.0, r"chain_hdqn\.params\.tabular\.alpha: 0\.0 is less than or equal"),
    (["epsilon", "controller"], "adaptive", r"chain_hdqn\.params\.epsilon\.controller: 'adaptive' is not one of"),
    (["neural", "hiden"], 8, r"chain_hdqn\.params\.neural.*hiden"),
])
def test_bad_config_names_the_key(path, value, match):
    with pytest.raises(C.ConfigError, match=match):
        C.validate_config(_bad(C.load_config(REGISTRY), path, value), REGISTRY)


def test_runtime_checks_name_the_key(params):
    p = copy.deepcopy(params)
    p["env"]["p_right"] = 1.2
    with pytest.raises(ValueError, match="p_right"):
        E.train("q_learning", [0], p)
    with pytest.raises(ValueError, match="lr"):
        hdqn.HDQNConfig(n_episodes=1, lr=2.0).check()
    with pytest.raises(ValueError, match="alpha_meta"):
        hdqn_tabular.train(1, 0.1, -1.0, 0.9)
    with pytest.raises(ValueError, match="alpha"):
        q_learning.train(1, 1.5, 0.9)
