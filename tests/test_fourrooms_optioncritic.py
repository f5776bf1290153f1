"""Option-critic Four Rooms (Bacon, Harb & Precup 2017): the paper's dynamics, the two gradient theorems
against finite differences of exact option values, the tabular agents on a corridor with known values,
and the experiment plugin (goal schedule, final terminations, claims)."""

import copy
import json
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest

from hrlmeta import config as C
from hrlmeta.algos import ac_pg, option_critic, sarsa0
from hrlmeta.algos.option_critic import exact_values, intra_option_gradient, termination_gradient
from hrlmeta.envs.fourrooms import HALLWAYS, make_fourrooms, make_grid
from hrlmeta import experiments as registry
from hrlmeta.experiments.fourrooms_optioncritic import analysis as E
from hrlmeta.experiments.fourrooms_optioncritic import training as T
from hrlmeta.experiments import REGISTRY

GAMMA = 0.9


@pytest.fixture(scope="module")
def params():
    return C.experiment_params(C.load_config(REGISTRY, "config/smoke.yaml"), E.EXPERIMENT)


# ---------------------------------------------------------------------------------------------- env


def test_fail_to_neighbour_probabilities_exact():
    env = make_fourrooms(2 / 3, "fail_to_neighbour")
    assert env.n_states == 104
    k = env.next_k.shape[2]
    for s in range(env.n_states):
        nbrs = {int(x) for x in env.move_to[s] if int(x) != s}
        for a in range(4):
            want = {}
            t = int(env.move_to[s, a])
            want[t] = Fraction(2, 3)
            for n in nbrs:
                want[n] = want.get(n, 0) + Fraction(1, 3) / len(nbrs)
            got = {int(x): Fraction(int((env.next_k[s, a] == x).sum()), k) for x in np.unique(env.next_k[s, a])}
            assert got == want, (s, a)
            np.testing.assert_allclose(env.P[a, s][list(want)], [float(v) for v in want.values()])
    # a corner: moving up (a wall) stays w.p. 2/3, else one of the two free neighbours
    s = env.state((1, 1))
    assert env.P[0, s, s] == pytest.approx(2 / 3)
    assert env.P[0, s, env.state((1, 2))] == pytest.approx(1 / 6)


def test_move_then_slip_is_the_released_code():
    env = make_fourrooms(2 / 3, "move_then_slip")
    s = env.state((1, 1))
    assert env.P[0, s, s] == 1.0  # into a wall: stay, no slip
    # right from (1, 1): to (1, 2) then w.p. 1/3 to one of its 3 free neighbours (1, 1), (1, 3), (2, 2)
    row = env.P[3, s]
    assert row[env.state((1, 2))] == pytest.approx(2 / 3)
    for c in ((1, 1), (1, 3), (2, 2)):
        assert row[env.state(c)] == pytest.approx(1 / 9)


def test_sutton_dynamics_unchanged():
    env = make_fourrooms()
    assert env.next_k.shape == (104, 4, 9)
    with pytest.raises(ValueError, match="dynamics"):
        make_fourrooms(2 / 3, "teleport")


# ------------------------------------------------------------------------------ gradient theorems


def _tiny_mdp(seed, n_s=4, n_a=3, n_o=2):
    rng = np.random.default_rng(seed)
    P = rng.random((n_a, n_s, n_s)) ** 3
    P /= P.sum(axis=2, keepdims=True)
    R = rng.normal(size=(n_s, n_a))
    theta = rng.normal(size=(n_o, n_s, n_a))
    vartheta = rng.normal(size=(n_o, n_s))
    pi_o = rng.random((n_s, n_o))
    pi_o /= pi_o.sum(axis=1, keepdims=True)
    return P, R, theta, vartheta, pi_o


def _fd(f, x, h=1e-6):
    g = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[idx] += h
        xm[idx] -= h
        g[idx] = (f(xp) - f(xm)) / (2 * h)
    return g


def test_exact_values_satisfy_bellman_equations():
    P, R, th, vt, po = _tiny_mdp(3)
    ex = exact_values(P, R, GAMMA, th, vt, po, temperature=0.5)
    # Q_Omega(s, w) = sum_a pi_w(a|s) Q_U(s, w, a);  Q_U = r + gamma sum_s' P U(w, s')
    np.testing.assert_allclose(ex["Q_Omega"], np.einsum("wsa,swa->sw", ex["pi"], ex["Q_U"]), atol=1e-12)
    U = (1 - ex["beta"]) * ex["Q_Omega"].T + ex["beta"] * ex["V_Omega"][None]
    np.testing.assert_allclose(ex["Q_U"], R[:, None, :] + GAMMA * np.einsum("ast,wt->swa", P, U), atol=1e-12)


@pytest.mark.parametrize("seed,temperature", [(0, 1.0), (1, 0.3), (2, 2.0)])
def test_intra_option_policy_gradient_theorem(seed, temperature):
    P, R, th, vt, po = _tiny_mdp(seed)
    s0, w0 = 1, 0
    grad, _ = intra_option_gradient(P, R, GAMMA, th, vt, po, s0, w0, temperature)
    fd = _fd(lambda x: exact_values(P, R, GAMMA, x, vt, po, temperature)["Q_Omega"][s0, w0], th)
    assert np.abs(fd).max() > 1e-3  # a non-trivial gradient
    np.testing.assert_allclose(grad, fd, atol=1e-7)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_termination_gradient_theorem(seed):
    P, R, th, vt, po = _tiny_mdp(seed)
    s1, w0 = 2, 1
    grad, _ = termination_gradient(P, R, GAMMA, th, vt, po, s1, w0, 0.7)
    fd = _fd(lambda x: exact_values(P, R, GAMMA, th, x, po, 0.7)["U"][w0, s1], vt)
    assert np.abs(fd).max() > 1e-3
    np.testing.assert_allclose(grad, fd, atol=1e-7)


# ---------------------------------------------------------------------------------------- agents


@pytest.fixture(scope="module")
def corridor():
    env = make_grid("wwwwwww\nw     w\nwwwwwww", success_prob=1.0, start=(1, 1))
    return env, env.state((1, 5))


def _exact_right(goal):
    return np.array([GAMMA ** (goal - 1 - s) for s in range(goal)])


def test_option_critic_corridor(corridor):
    env, goal = corridor
    goals = np.full(300, goal)
    r = option_critic.train(env.next_k, goals, 1, gamma=GAMMA, epsilon=0.0, seed=1)
    # one option: its advantage is always 0, so its termination weights never move (beta = 1/2 exactly)
    np.testing.assert_array_equal(r["vartheta"], 0.0)
    # the option learns to run right: exact values of "right", near-optimal episodes
    np.testing.assert_allclose(r["QU"][:goal, 0, 3], _exact_right(goal), atol=1e-6)
    np.testing.assert_allclose(r["Q"][:goal, 0], _exact_right(goal), atol=1e-4)
    assert r["reached"][-50:].all()
    assert (r["decisions"] <= r["steps"]).all() and (r["decisions"] >= 1).all()
    r4 = option_critic.train(env.next_k, goals, 4, gamma=GAMMA, seed=1)
    assert r4["beta"].shape == (4, env.n_states) and ((r4["beta"] > 0) & (r4["beta"] < 1)).all()
    # with the max baseline the advantage is never positive: terminations can only grow
    assert (r4["vartheta"] >= 0).all()


def test_sarsa_and_ac_corridor(corridor):
    env, goal = corridor
    goals = np.full(300, goal)
    s = sarsa0.train(env.next_k, goals, alpha=0.5, gamma=GAMMA, seed=0)
    np.testing.assert_allclose(s["Q"][:goal, 3], _exact_right(goal), atol=1e-6)
    a = ac_pg.train(env.next_k, goals, gamma=GAMMA, seed=0)
    np.testing.assert_allclose(a["V"][:goal], _exact_right(goal), atol=1e-4)
    assert a["reached"].all() and s["reached"].all()
    with pytest.raises(ValueError, match="alpha"):
        sarsa0.train(env.next_k, goals, alpha=0.0)
    with pytest.raises(ValueError, match="alpha_beta"):
        option_critic.train(env.next_k, goals, 2, alpha_beta=1.5)


# ------------------------------------------------------------------------------------ experiment


def test_goal_schedule_paired_and_in_lower_right_room(params):
    env = make_fourrooms(2 / 3, "fail_to_neighbour")
    news = set()
    for seed in range(30):
        goals, new = T.goal_schedule(seed, params)
        k = params["switch_episode"]
        assert (goals[:k] == env.state(HALLWAYS[2])).all() and (goals[k:] == env.state(new)).all()
        assert env.state(new) in env.rooms[3]
        news.add(new)
    assert len(news) > 5  # a per-seed draw


def test_train_rows_deterministic_and_final_terminations(params):
    a = T.train("option_critic_4", [3], params)[0]
    b = T.train("option_critic_4", [3], params)[0]
    pd.testing.assert_frame_equal(a, b)
    assert (a["final_beta"].iloc[:-1] == "").all()
    d = json.loads(a["final_beta"].iloc[-1])
    assert d["n_options"] == 4 and np.asarray(d["beta"]).shape == (4, 104)
    ft = E.final_terminations(a.assign(algo="option_critic_4", seed=3))
    assert len(ft) == 4 * 104 and ft["beta"].between(0, 1).all()
    s = T.train("sarsa0", [3], params)[0]
    assert (s["final_beta"] == "").all() and (s["decisions"] == s["steps"]).all()
    assert (s["eval_terminations"] == "").all() and (a["eval_terminations"].iloc[:-1] == "").all()
    assert (T.train("option_critic_4", [3], dict(params, eval_episodes=0))[0]["eval_terminations"] == "").all()
    assert list(s["phase"].unique()) == ["before_switch", "after_switch"]
    bad = a.assign(algo="x", seed=0)
    bad.loc[bad.index[-1], "final_beta"] = '{"n_options": 4, "beta": [[2.0]]}'
    with pytest.raises(ValueError, match="final_beta"):
        E.final_terminations(bad)


def test_termination_ratio_hand_case(params):
    env = make_fourrooms(2 / 3, "fail_to_neighbour")
    near = E.doorway_cells(params, 1)
    assert len(near) == 12  # 4 hallways and their 2 neighbours each
    beta = np.full((2, env.n_states), 0.25)
    beta[:, sorted(near)] = 0.75
    k = params["n_episodes"]
    row = {"algo": "option_critic_4", "seed": 0, "episode": k, "goal_row": 11, "goal_col": 11,
           "final_beta": json.dumps({"n_options": 2, "beta": beta.tolist()})}
    r = E.termination_ratio(pd.DataFrame([row]), params, "option_critic_4", 1)
    assert r.loc[0] == pytest.approx(3.0)


def test_claims_and_robustness_keys(params):
    frames = [T.train(a, [s], params)[0].assign(algo=a, seed=s) for a in E.ALGOS for s in range(2)]
    table = pd.concat(frames, ignore_index=True)
    from hrlmeta.claims import measure_claim
    from hrlmeta.experiments.fourrooms_optioncritic.measures import MEASURES

    claim = {"id": "x", "measure": "recovery", "params": {"baseline": "sarsa0", "agent": "option_critic_4",
                                                          "window": 20}}
    v20 = measure_claim(MEASURES, claim, table, params).values
    assert v20.shape == (2,) and np.isfinite(v20).all()
    c5 = copy.deepcopy(claim)
    c5["params"]["window"] = 5
    by_hand = E.recovery_ratio(table, params, "sarsa0", "option_critic_4", 5)
    np.testing.assert_allclose(measure_claim(MEASURES, c5, table, params).values, by_hand.to_numpy())
    sub = table[(table["episode"] > params["switch_episode"]) & (table["episode"] <= params["switch_episode"] + 5)]
    m = sub.groupby(["algo", "seed"])["steps"].mean()
    assert by_hand.loc[0] == pytest.approx(m[("sarsa0", 0)] / m[("option_critic_4", 0)])
    t = measure_claim(MEASURES, {"id": "t", "measure": "terminations",
                                 "params": {"agents": ["option_critic_4", "option_critic_8"]}}, table, params)
    assert t.values.shape == (2, 2) and t.budget == params["n_episodes"]
    ev = measure_claim(MEASURES, {"id": "e", "measure": "termination_events",
                                  "params": {"agents": ["option_critic_4", "option_critic_8"]}}, table, params)
    assert ev.values.shape == (2, 2) and np.isfinite(ev.values).all() and ev.budget == params["n_episodes"]
    by_hand = E.termination_lift(table, params, "option_critic_8", 1)
    np.testing.assert_allclose(ev.values[:, 1], by_hand.to_numpy())
    assert (registry.cost_units("fourrooms_optioncritic", "option_critic_8", params)
            > registry.cost_units("fourrooms_optioncritic", "sarsa0", params) > 0)


def test_bad_params_rejected():
    cfg = C.load_config(REGISTRY)
    bad = copy.deepcopy(cfg)
    bad["experiments"][E.EXPERIMENT]["params"]["dynamics"] = "teleport"
    with pytest.raises(C.ConfigError, match=r"fourrooms_optioncritic\.params\.dynamics"):
        C.validate_config(bad, REGISTRY)
    p = dict(C.experiment_params(cfg, E.EXPERIMENT), switch_episode=10**6)
    with pytest.raises(ValueError, match="switch_episode"):
        T.train("sarsa0", [0], p)


def test_bench_reports_contract_fields():
    from hrlmeta.bench import optioncritic as bench

    out = bench.main(["--episodes", "40", "--repeats", "1", "--python-episodes", "10"])
    assert set(out["env_steps_per_s"]) == set(E.ALGOS)
    assert all(v > 0 for v in out["env_steps_per_s"].values())
    assert out["speedup_vs_python"] == pytest.approx(
        out["env_steps_per_s"]["option_critic_4"] / out["python_option_critic_4_steps_per_s"])


def test_python_reference_learns_the_corridor(corridor):
    """The bench's pure-Python option-critic is the same algorithm: it learns the corridor too."""
    from hrlmeta.bench.optioncritic import python_option_critic

    env, goal = corridor
    early = python_option_critic(env.next_k, np.full(20, goal), 4, gamma=GAMMA, seed=0)
    total = python_option_critic(env.next_k, np.full(220, goal), 4, gamma=GAMMA, seed=0)
    # after 20 episodes the last 200 average at most 2 x the expected optimum (uniform start: mean 2.5 moves)
    assert (total - early) / 200 < 5.0


def test_oracle_deterministic_moves_equal_mean_shortest_path(params):
    from hrlmeta.shared.solvers import shortest_path_length

    p = dict(params, success_prob=1.0)
    env = make_fourrooms(1.0, "fail_to_neighbour")
    goal = env.state(tuple(p["first_goal"]))
    want = np.mean([shortest_path_length(env.move_to, s, goal) for s in range(env.n_states) if s != goal])
    from hrlmeta.experiments.fourrooms_optioncritic.oracle import oracle

    got = oracle(p)["optimal_expected_steps"]["first_goal"]
    assert got == pytest.approx(want, abs=1e-9)
    # the paper's slips make the optimum longer
    assert oracle(params)["optimal_expected_steps"]["first_goal"] > want
