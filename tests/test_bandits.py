"""Bandit task sampler and baselines against exact answers (hrlmeta.envs.bandits, hrlmeta.algos.bandit_baselines)."""

import itertools

import numpy as np
import pytest

from hrlmeta.algos import bandit_baselines as bb
from hrlmeta.envs.bandits import BernoulliBandits, sample_means
from hrlmeta.experiments.bandits_duan import training as bandits_duan


def brute_force_bayes_value(n, k):
    """Bayes-optimal value by plain expectimax over per-arm (s, f) counts (no symmetry reduction)."""
    from functools import lru_cache

    @lru_cache(None)
    def V(counts, left):
        if left == 0:
            return 0.0
        best = -1.0
        for i in range(k):
            s, f = counts[2 * i], counts[2 * i + 1]
            p = (s + 1) / (s + f + 2)
            win = list(counts); win[2 * i] += 1
            lose = list(counts); lose[2 * i + 1] += 1
            best = max(best, p * (1 + V(tuple(win), left - 1)) + (1 - p) * V(tuple(lose), left - 1))
        return best

    return V((0,) * (2 * k), n)


def test_sampler_uniform_means():
    m = sample_means(np.random.default_rng(0), 20000, 5)
    assert m.shape == (20000, 5) and m.min() >= 0 and m.max() <= 1
    assert abs(m.mean() - 0.5) < 0.01 and abs(m.var() - 1 / 12) < 0.003
    with pytest.raises(ValueError, match="k"):
        sample_means(np.random.default_rng(0), 3, 1)


def test_pull_is_bernoulli_with_arm_mean():
    env = BernoulliBandits(np.tile([0.2, 0.9], (50000, 1)), np.random.default_rng(1))
    assert abs(env.pull(np.zeros(50000, int)).mean() - 0.2) < 0.01
    assert abs(env.pull(np.ones(50000, int)).mean() - 0.9) < 0.01


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_bayes_optimal_dp_matches_brute_force(n):
    assert bb.BayesOptimalDP(n, 2).value() == pytest.approx(brute_force_bayes_value(n, 2), abs=1e-12)
    assert bb.BayesOptimalDP(n, 3).value() == pytest.approx(brute_force_bayes_value(n, 3), abs=1e-12)


def test_bayes_optimal_closed_forms():
    assert bb.BayesOptimalDP(1, 2).value() == pytest.approx(0.5)
    # n=2: pull any arm; stay after a success (2/3), switch to the fresh arm after a failure (1/2)
    assert bb.BayesOptimalDP(2, 2).value() == pytest.approx(0.5 + 0.5 * 2 / 3 + 0.5 * 0.5)


def test_gittins_policy_attains_dp_value():
    rng = np.random.default_rng(2)
    means = sample_means(rng, 40000, 2)
    res = bb.evaluate("gittins", 3, 2, means, rng)
    assert res["totals"].mean() == pytest.approx(bb.BayesOptimalDP(3, 2).value(), abs=0.015)


def test_random_expected_total_is_half_n():
    rng = np.random.default_rng(3)
    res = bb.evaluate("random", 20, 5, sample_means(rng, 20000, 5), rng)
    assert res["totals"].mean() == pytest.approx(10.0, abs=0.1)


@pytest.mark.parametrize("name,hp", [("greedy", {}), ("ucb1", {"c": 1.0}), ("gittins_approx", {})])
def test_deterministic_instance_finds_the_paying_arm(name, hp):
    # arm 2 always pays, the others never do: after at most k pulls every sensible policy sticks to arm 2
    means = np.tile([0.0, 0.0, 1.0, 0.0], (200, 1))
    res = bb.evaluate(name, 40, 4, means, np.random.default_rng(4), **hp)
    assert res["totals"].min() >= 40 - 4 * (4 if name == "ucb1" else 1)
    assert res["regret_per_pull"][-1] == 0.0


def test_ucb1_index_closed_form():
    pol = bb.UCB1Policy(1, 2, 10, np.random.default_rng(0), c=0.5)
    pol.update(np.array([0]), np.array([1.0]))
    pol.update(np.array([1]), np.array([0.0]))
    idx = pol.index()[0]
    assert idx[0] == pytest.approx(2 / 3 + 0.5 * np.sqrt(2 * np.log(2) / 3))
    assert idx[1] == pytest.approx(1 / 3 + 0.5 * np.sqrt(2 * np.log(2) / 3))


def test_posterior_counts_and_eps_greedy_extremes():
    pol = bb.EpsGreedyPolicy(3, 2, 5, np.random.default_rng(0), epsilon=1.0)
    pol.update(np.array([0, 1, 1]), np.array([1.0, 0.0, 1.0]))
    np.testing.assert_array_equal(pol.S, [[1, 0], [0, 0], [0, 1]])
    np.testing.assert_array_equal(pol.F, [[0, 0], [0, 1], [0, 0]])
    rng = np.random.default_rng(5)
    m = sample_means(rng, 5000, 5)
    r1 = bb.evaluate("eps_greedy", 10, 5, m, np.random.default_rng(6), epsilon=1.0)["totals"].mean()
    assert r1 == pytest.approx(5.0, abs=0.1)  # eps = 1 is the random policy


def test_ots_with_one_sample_is_thompson_in_distribution():
    m = sample_means(np.random.default_rng(7), 20000, 5)
    ts = bb.evaluate("thompson", 10, 5, m, np.random.default_rng(8))["totals"].mean()
    ots = bb.evaluate("ots", 10, 5, m, np.random.default_rng(9), n_samples=1)["totals"].mean()
    assert ots == pytest.approx(ts, abs=0.06)


def test_whittle_index_exceeds_mean_and_shrinks_with_data():
    S, F = np.array([[0.0, 5.0, 50.0]]), np.array([[0.0, 5.0, 50.0]])
    idx = bb.whittle_index(S, F)
    assert np.all(idx > 0.5) and idx[0, 0] > idx[0, 1] > idx[0, 2]


def test_tuning_picks_a_grid_value():
    best, scores = bb.tune("eps_greedy", 10, 5, [0.0, 1.0], 500, np.random.default_rng(0))
    assert best == 0.0 and scores[0.0] > scores[1.0]


PARAMS = {
    "cells": [{"n": 4, "k": 2}], "eval_tasks": 50, "tune_tasks": 20,
    "tuning_grids": {"eps_greedy": [0.0, 0.5], "ucb1": [0.5], "ots": [1, 2]},
    "gittins_exact_max_n": 12, "gittins_discount": 1.0, "curve_points": 5,
    "rl2": {"eval_tasks": 20, "cells": [{"n": 4, "k": 2, "iterations": 2, "batch_tasks": 8}],
            "ppo": {"batch_tasks": 8, "hidden": 8, "lr": 0.003, "gamma": 0.99, "gae_lambda": 0.3, "clip": 0.2,
                    "epochs": 1, "minibatches": 2, "entropy_coef": 0.01, "entropy_coef_final": 0.0,
                    "value_coef": 0.5, "max_grad_norm": 1.0, "torch_threads": 1}},
}


@pytest.mark.parametrize("algo", bandits_duan.ALGOS)
def test_train_is_deterministic_and_tidy(algo):
    from hrlmeta import tidy

    from hrlmeta.pipeline import keyed

    a = bandits_duan.train(algo, [3], PARAMS)[0]
    b = bandits_duan.train(algo, [3], PARAMS)[0]
    tidy.validate(tidy.normalise(keyed(a, "bandits_duan", algo, 3), "meta"), "meta")   # the caller adds the keys
    cols = [c for c in a.columns if c != "wall_s"]  # wall_s is a measured time
    assert a[cols].equals(b[cols])
    ev = a[a["phase"] == "eval"]
    assert len(ev) == 1 and ev["n"].iloc[0] == 4


def test_claim_samples_and_oracle():
    import pandas as pd

    t = pd.concat(bandits_duan.train("greedy", [0, 1], PARAMS))
    from hrlmeta.claims import measure_claim
    from hrlmeta.experiments.bandits_duan.measures import MEASURES

    claim = {"measure": "eval_return", "params": {"algo": "greedy", "n": 4, "k": 2}}
    s = measure_claim(MEASURES, claim, t, PARAMS)
    assert s.values.shape == (2,) and s.statistic == "mean"
    missing = measure_claim(MEASURES, {"measure": "eval_return", "params": {"algo": "rl2", "n": 4, "k": 2}}, t, PARAMS)
    assert missing.values.size == 0
    from hrlmeta.experiments.bandits_duan.oracle import oracle

    assert oracle(PARAMS)["bayes_optimal_total_reward"]["n4_k2"] == pytest.approx(
        brute_force_bayes_value(4, 2))
    with pytest.raises(KeyError, match="unknown algorithm"):
        bandits_duan.train("nope", [0], PARAMS)
