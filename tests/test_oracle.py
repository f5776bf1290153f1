"""The exact oracle: hand-checkable cases and option-model consistency."""

import numpy as np
import pytest

from hrlmeta.shared import solvers as orc
from hrlmeta.envs.fourrooms import make_fourrooms, make_grid, option_set

GAMMA = 0.9


def test_deterministic_corridor():
    env = make_grid("wwwwwww\nw     w\nwwwwwww", success_prob=1.0, start=(1, 1))
    goal = env.state((1, 5))
    sol = orc.solve_task(env.P, goal, env.start, GAMMA)
    assert sol["expected_steps"] == pytest.approx(4.0)
    # +1 arrives on the 4th step: value gamma^3
    assert sol["value_start"] == pytest.approx(GAMMA**3)
    assert orc.shortest_path_length(env.move_to, env.start, goal) == 4


def test_stochastic_two_cell_corridor_closed_form():
    # from the left cell, "right" reaches the goal w.p. 2/3, otherwise stays (walls): E = 3/2 steps
    env = make_grid("wwww\nw  w\nwwww", success_prob=2 / 3, start=(1, 1))
    sol = orc.solve_task(env.P, env.state((1, 2)), env.start, GAMMA)
    assert sol["expected_steps"] == pytest.approx(1.5)
    # V = (2/3) (1 + 0) + (1/3) gamma V  ->  V = (2/3) / (1 - gamma/3)
    assert sol["value_start"] == pytest.approx((2 / 3) / (1 - GAMMA / 3))


def test_deterministic_fourrooms_steps_equal_shortest_paths():
    res = orc.fourrooms_oracle({"G1": (7, 9), "G2": (9, 9), "X": (11, 1)}, gamma=GAMMA, success_prob=1.0)
    for g in ("G1", "G2", "X"):
        assert res["optimal_expected_steps"][g] == pytest.approx(res["shortest_path_length"][g])
        assert res["smdp"]["AH"]["expected_steps"][g] == pytest.approx(res["shortest_path_length"][g])
    assert res["shortest_path_length"]["G1"] == 14


def test_option_models_consistency():
    env = make_fourrooms()
    goal = env.state((7, 9))
    AH = option_set(env, "AH")
    m = orc.option_models(env.P, AH.act, AH.beta, goal, GAMMA)
    # primitive actions as options: R = P(goal), Pd = gamma P, D = 1
    for a in range(4):
        np.testing.assert_allclose(m.R[a], env.P[a, :, goal], atol=1e-12)
        np.testing.assert_allclose(m.Pd[a], GAMMA * env.P[a] * (np.arange(104) != goal) +
                                   GAMMA * env.P[a] * (np.arange(104) == goal), atol=1e-12)
        np.testing.assert_allclose(m.D[a], 1.0)
    # multi-step options: terminate w.p. 1, Bellman identities of the multi-time model hold
    for o in range(4, 12):
        I = np.flatnonzero(AH.act[o] >= 0)
        np.testing.assert_allclose(m.P1[o][I].sum(axis=1), 1.0, atol=1e-12)
        assert (m.D[o][I] >= 1.0).all()
        M = np.zeros((104, 104))
        M[I] = env.P[AH.act[o, I], I]
        cont = (AH.beta[o] == 0) & (np.arange(104) != goal)
        R_next = np.where(cont, np.nan_to_num(m.R[o]), 0.0)
        np.testing.assert_allclose(m.R[o][I], (M @ ((np.arange(104) == goal) + GAMMA * R_next))[I], atol=1e-12)
        D_next = np.where(cont, np.nan_to_num(m.D[o]), 0.0)
        np.testing.assert_allclose(m.D[o][I], (M @ (1.0 + D_next))[I], atol=1e-10)


def test_option_model_matches_simulation():
    env = make_fourrooms()
    goal = env.state((7, 9))
    H = option_set(env, "H")
    m = orc.option_models(env.P, H.act, H.beta, goal, GAMMA)
    o, s0 = 0, env.start  # upper-left room -> north hallway, from the start corner
    rng = np.random.default_rng(1)
    durations, ends = [], []
    for _ in range(4000):
        s, k = s0, 0
        while True:
            s = int(env.next_k[s, H.act[o, s], int(rng.random() * 9)])
            k += 1
            if H.beta[o, s] or s == goal:
                break
        durations.append(k)
        ends.append(s)
    assert np.mean(durations) == pytest.approx(m.D[o, s0], rel=0.05)
    p_target = np.mean(np.array(ends) == H.target[o])
    assert p_target == pytest.approx(m.P1[o, s0, H.target[o]], abs=0.03)


def test_smdp_values_bounded_by_primitive_optimum():
    env = make_fourrooms()
    goal = env.state((9, 9))
    V, _ = orc.primitive_values(env.P, goal, GAMMA)
    for name in ("H", "AH"):
        O = option_set(env, name)
        Vo, _ = orc.smdp_values(orc.option_models(env.P, O.act, O.beta, goal, GAMMA))
        assert (Vo <= V + 1e-10).all()
        if name == "AH":  # primitives included: the optimum is unchanged
            np.testing.assert_allclose(Vo, V, atol=1e-10)
        else:
            assert Vo[env.start] < V[env.start] - 1e-3


def test_expected_steps_rejects_unavailable_option():
    env = make_fourrooms()
    goal = env.state((7, 9))
    H = option_set(env, "H")
    m = orc.option_models(env.P, H.act, H.beta, goal, GAMMA)
    with pytest.raises(ValueError, match="initiation set"):
        orc.expected_steps(m, np.zeros(104, dtype=int))
