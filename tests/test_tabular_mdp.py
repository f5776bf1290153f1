"""Tabular MDP sampler and baselines against exact answers (hrlmeta.envs.tabular_mdp, hrlmeta.algos.mdp_baselines)."""

import itertools

import numpy as np
import pytest

from hrlmeta.algos import mdp_baselines as mb
from hrlmeta.envs.tabular_mdp import TabularMDPs, finite_horizon_q, sample_mdps
from hrlmeta.experiments.tabular_mdp_duan import analysis
from hrlmeta.experiments.tabular_mdp_duan import training as tabular_mdp_duan


def test_sampler_distributions():
    R, P = sample_mdps(np.random.default_rng(0), 4000, 10, 5)
    assert R.shape == (4000, 10, 5) and P.shape == (4000, 10, 5, 10)
    assert abs(R.mean() - 1.0) < 0.02 and abs(R.std() - 1.0) < 0.02
    np.testing.assert_allclose(P.sum(-1), 1.0)
    # flat Dirichlet(1,...,1) over 10 states: each marginal is Beta(1, 9): mean 0.1, variance 9/1100
    assert abs(P.mean() - 0.1) < 1e-9 and abs(P[..., 3].var() - 9 / 1100) < 5e-4


def test_env_step_statistics():
    R = np.array([[[2.0, -1.0], [0.0, 0.0]]]).repeat(20000, 0)
    P = np.array([[[[0.3, 0.7], [1.0, 0.0]], [[0.5, 0.5], [0.5, 0.5]]]]).repeat(20000, 0)
    env = TabularMDPs(R, P, horizon=3, rng=np.random.default_rng(1))
    s = env.reset()
    assert np.all(s == 0)
    s2, r, done = env.step(np.zeros(20000, int))
    assert abs(r.mean() - 2.0) < 0.03 and abs(r.std() - 1.0) < 0.03
    assert abs(s2.mean() - 0.7) < 0.01 and not done


def brute_force_optimal_value(R, P, H, s0=0):
    """Best expected return over all deterministic Markov policies (enumerated) by exact policy evaluation."""
    S, A = R.shape
    best = -np.inf
    for flat in itertools.product(range(A), repeat=S * H):
        pi = np.array(flat).reshape(H, S)
        V = np.zeros(S)
        for h in range(H - 1, -1, -1):
            a = pi[h]
            V = R[np.arange(S), a] + (P[np.arange(S), a] * V[None]).sum(1)
        best = max(best, V[s0])
    return best


def test_optimal_dp_equals_policy_enumeration():
    R, P = sample_mdps(np.random.default_rng(2), 3, n_states=2, n_actions=2)
    for i in range(3):
        Q = finite_horizon_q(R[i], P[i], 3)
        assert Q[0][0].max() == pytest.approx(brute_force_optimal_value(R[i], P[i], 3))
    np.testing.assert_allclose(mb.optimal_expected_return(R, P, 3),
                               [brute_force_optimal_value(R[i], P[i], 3) for i in range(3)])


def test_optimal_policy_simulated_return_matches_exact_value():
    R, P = sample_mdps(np.random.default_rng(3), 3000, 4, 3)
    res = mb.evaluate("optimal", 2, R, P, 5, np.random.default_rng(4))
    exact = 2 * mb.optimal_expected_return(R, P, 5).mean()
    assert res["totals"].mean() == pytest.approx(exact, abs=0.15)
    rnd = mb.evaluate("random", 2, R, P, 5, np.random.default_rng(4))["totals"].mean()
    assert rnd == pytest.approx(10.0, abs=0.2)  # E[mu] = 1 per step, 10 steps


def test_psrl_posterior_updates():
    pol = mb.PSRLPolicy(1, 2, 2, 3, np.random.default_rng(0), prior_reward_mean=0.0,
                        prior_reward_precision=1.0, reward_precision=1.0)
    for r in (1.0, 3.0):
        pol.update(np.array([0]), np.array([1]), np.array([r]), np.array([1]))
    mu, tau1 = pol.reward_posterior()
    assert tau1[0, 0, 1] == 3.0 and mu[0, 0, 1] == pytest.approx(4.0 / 3.0)
    assert mu[0, 1, 0] == 0.0 and tau1[0, 1, 0] == 1.0
    np.testing.assert_allclose(pol.transition_posterior_mean()[0, 0, 1], [1 / 4, 3 / 4])
    # posterior samples concentrate at the posterior mean with the posterior spread
    pol.rng = np.random.default_rng(1)
    Rs = np.array([pol.sample_mdp()[0][0, 0, 1] for _ in range(4000)])
    assert Rs.mean() == pytest.approx(4 / 3, abs=0.03) and Rs.std() == pytest.approx(1 / np.sqrt(3), abs=0.02)


def test_opsrl_q_dominates_psrl_and_beb_bonus():
    pol = mb.OPSRLPolicy(5, 3, 2, 4, np.random.default_rng(0), n_samples=6)
    pol.plan()
    assert pol.Q.shape == (4, 5, 3, 2)
    g = mb.GreedyPolicy(5, 3, 2, 4, np.random.default_rng(0))
    g.plan()
    b = mb.BEBPolicy(5, 3, 2, 4, np.random.default_rng(0), beta=2.0)
    b.plan()
    np.testing.assert_allclose(b.Q[-1], g.Q[-1] + 2.0)  # unvisited: bonus beta / (1 + 0)


def test_learners_beat_random():
    R, P = sample_mdps(np.random.default_rng(5), 300)
    rnd = mb.evaluate("random", 10, R, P, 10, np.random.default_rng(6))["totals"].mean()
    for name in ("psrl", "beb"):
        assert mb.evaluate(name, 10, R, P, 10, np.random.default_rng(6))["totals"].mean() > rnd + 15


PARAMS = {
    "n_episodes": [2], "horizon": 3, "n_states": 3, "n_actions": 2, "eval_tasks": 30, "tune_tasks": 10,
    "prior_reward_mean": 0.0, "tuning_grids": {"opsrl": [1, 2], "beb": [0.5]},
    "rl2": {"eval_tasks": 10, "cells": [{"n": 2, "iterations": 2, "batch_tasks": 8}],
            "ppo": {"batch_tasks": 8, "hidden": 8, "lr": 0.003, "gamma": 0.99, "gae_lambda": 0.3, "clip": 0.2,
                    "epochs": 1, "minibatches": 2, "entropy_coef": 0.01, "entropy_coef_final": 0.0,
                    "value_coef": 0.5, "max_grad_norm": 1.0, "torch_threads": 1}},
}


@pytest.mark.parametrize("algo", analysis.ALGOS)
def test_train_is_deterministic_and_tidy(algo):
    from hrlmeta import tidy

    a = tabular_mdp_duan.train(algo, [1], PARAMS)[0]
    b = tabular_mdp_duan.train(algo, [1], PARAMS)[0]
    from hrlmeta.pipeline import keyed

    tidy.validate(tidy.normalise(keyed(a, "tabular_mdp_duan", algo, 1), "meta"), "meta")   # the caller adds the keys
    cols = [c for c in a.columns if c != "wall_s"]
    assert a[cols].equals(b[cols])


def test_best_baseline_claim_is_per_seed_max():
    import pandas as pd

    t = pd.concat([df for a in ("psrl", "beb") for df in tabular_mdp_duan.train(a, [0, 1], PARAMS)])
    from hrlmeta.experiments.tabular_mdp_duan.measures import MEASURES

    best = MEASURES["eval_return"](t, PARAMS, {"algo": "best_baseline", "n": 2}).values
    ev = t[t["phase"] == "eval"].pivot_table(index="seed", columns="algo", values="return")
    np.testing.assert_allclose(best, ev.max(axis=1).to_numpy())
