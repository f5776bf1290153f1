"""The tabular agents: exact answers on tiny problems, convergence to the oracle in the rooms task,
determinism, and the experiment plugin's run table."""

import numpy as np
import pytest

from hrlmeta.shared import solvers as orc
from hrlmeta.algos import flat_q, intra_option_q, smdp_q
from hrlmeta.envs.fourrooms import OptionSet, make_fourrooms, make_grid, option_set, primitive_options
from hrlmeta.experiments import REGISTRY

GAMMA = 0.9


@pytest.fixture(scope="module")
def corridor():
    env = make_grid("wwwwwww\nw     w\nwwwwwww", success_prob=1.0, start=(1, 1))
    return env, env.state((1, 5))


def _go_right(env, goal):
    """Primitives plus one option 'run right until the goal' (beta = 1 only at the goal)."""
    n = env.n_states
    beta = np.zeros((1, n))
    beta[0, goal] = 1
    run = OptionSet(names=("run-right",), act=np.full((1, n), 3), beta=beta, target=(goal,))
    return primitive_options(env) + run


def test_flat_q_corridor_exact_values(corridor):
    env, goal = corridor
    r = flat_q.train(env.next_k, env.start, goal, 400, alpha=0.5, gamma=GAMMA, epsilon=0.3, seed=0)
    assert r["reached"].all()
    # deterministic corridor: Q*(s, right) = gamma^(d-1), d = distance to the goal
    for s in range(4):
        assert r["Q"][s, 3] == pytest.approx(GAMMA ** (3 - s), abs=1e-6)
    greedy = r["Q"][:4].argmax(axis=1)
    assert (greedy == 3).all()
    np.testing.assert_array_equal(r["decisions"], r["steps"])


@pytest.mark.parametrize("mod", [smdp_q, intra_option_q])
def test_options_corridor_exact_values(corridor, mod):
    env, goal = corridor
    opts = _go_right(env, goal)
    r = mod.train(env.next_k, opts, env.start, goal, 2000, alpha=0.5, gamma=GAMMA, epsilon=0.5, seed=0)
    assert r["reached"].all()
    # SMDP learning updates only the option chosen at a decision point (the start is one in every
    # episode); intra-option learning updates every consistent option ("right" and "run-right") at
    # every step, so it learns exact values in every state
    for s in range(4) if mod is intra_option_q else [0]:
        assert r["Q"][s, 4] == pytest.approx(GAMMA ** (3 - s), abs=1e-6)
        assert r["Q"][s, 3] == pytest.approx(GAMMA ** (3 - s), abs=1e-6)
    assert (r["decisions"] <= r["steps"]).all()


def test_smdp_option_only_takes_one_decision(corridor):
    env, goal = corridor
    n = env.n_states
    beta = np.zeros((1, n))
    beta[0, goal] = 1
    only = OptionSet(names=("run-right",), act=np.full((1, n), 3), beta=beta, target=(goal,))
    r = smdp_q.train(env.next_k, only, env.start, goal, 5, alpha=0.5, gamma=GAMMA, epsilon=0.0, seed=0)
    np.testing.assert_array_equal(r["steps"], 4)
    np.testing.assert_array_equal(r["decisions"], 1)
    assert r["Q"][env.start, 0] == pytest.approx(0.5 * (1 - 0.5**5) / 0.5 * GAMMA**3, rel=1e-12)


@pytest.fixture(scope="module")
def rooms():
    env = make_fourrooms()
    goal = env.state((7, 9))
    sets = {k: option_set(env, k) for k in ("A", "H", "AH")}
    models = {k: orc.option_models(env.P, v.act, v.beta, goal, GAMMA) for k, v in sets.items()}
    opt = orc.expected_steps(models["A"], orc.greedy(orc.smdp_values(models["A"])[1]))[env.start]
    opt_h = orc.expected_steps(models["H"], orc.greedy(orc.smdp_values(models["H"])[1]))[env.start]
    return env, goal, sets, models, opt, opt_h


def _greedy_steps(models, Q, start):
    return orc.expected_steps(models, orc.greedy_from_table(Q, models.init))[start]


@pytest.mark.parametrize("algo,set_name,episodes,tol", [
    ("flat", "A", 6000, 0.15),
    ("smdp", "H", 1000, 0.05),
    ("smdp", "AH", 6000, 0.25),
    ("intra", "AH", 4000, 0.15),
])
def test_rooms_greedy_policy_converges_to_oracle(rooms, algo, set_name, episodes, tol):
    env, goal, sets, models, opt, opt_h = rooms
    kw = dict(start=env.start, goal=goal, n_episodes=episodes, alpha=0.125, gamma=GAMMA, epsilon=0.1, seed=3)
    if algo == "flat":
        r = flat_q.train(env.next_k, **kw)
    elif algo == "smdp":
        r = smdp_q.train(env.next_k, sets[set_name], **kw)
    else:
        r = intra_option_q.train(env.next_k, sets[set_name], **kw)
    target = opt_h if set_name == "H" else opt
    got = _greedy_steps(models[set_name], r["Q"], env.start)
    assert target <= got + 1e-9
    assert got <= (1 + tol) * target, (algo, set_name, got, target)
    # early episodes are long (random walk), late ones near the optimum plus exploration
    assert r["steps"][-200:].mean() < 2 * opt


def test_runs_are_deterministic_and_seed_dependent(rooms):
    env, goal, sets, *_ = rooms
    kw = dict(start=env.start, goal=goal, n_episodes=50, alpha=0.125, gamma=GAMMA, epsilon=0.1)
    a = intra_option_q.train(env.next_k, sets["AH"], seed=7, **kw)
    b = intra_option_q.train(env.next_k, sets["AH"], seed=7, **kw)
    c = intra_option_q.train(env.next_k, sets["AH"], seed=8, **kw)
    np.testing.assert_array_equal(a["steps"], b["steps"])
    np.testing.assert_array_equal(a["Q"], b["Q"])
    assert not np.array_equal(a["steps"], c["steps"])


def test_snapshots_and_bad_input(rooms):
    env, goal, sets, *_ = rooms
    r = flat_q.train(env.next_k, env.start, goal, 5, 0.125, seed=0, snapshots=[1, 5])
    assert r["Q_snapshots"].shape == (2, 104, 4)
    np.testing.assert_array_equal(r["Q_snapshots"][1], r["Q"])
    with pytest.raises(ValueError, match="snapshot"):
        flat_q.train(env.next_k, env.start, goal, 5, 0.125, snapshots=[6])
    with pytest.raises(ValueError, match="goal"):
        smdp_q.train(env.next_k, sets["H"], env.start, 999, 5, 0.125)


def test_experiment_plugin_run_table():
    from hrlmeta import tidy
    from hrlmeta.config import deep_merge, experiment_params, load_config, load_yaml
    from hrlmeta.experiments.fourrooms_sutton import analysis as E
    from hrlmeta.experiments.fourrooms_sutton import training

    params = experiment_params(load_config(REGISTRY, "config/smoke.yaml"), "fourrooms_sutton")
    params = deep_merge(params, {"n_episodes": 30})
    frames = []
    for algo in E.ALGOS:
        df = training.train(algo, [1], params)[0]
        df2 = training.train(algo, [1], params)[0]
        assert df.equals(df2)
        df["experiment"], df["algo"], df["seed"] = "fourrooms_sutton", algo, 1
        tidy.validate(tidy.normalise(df, "episodic"), "episodic")
        frames.append(df)
    assert set(frames[0]["goal"]) == {"G1", "G2", "R1"}  # flat_q plays the reuse goal too
    assert set(frames[1]["goal"]) == {"G1", "G2"}  # the H-only agent does not
    assert (frames[0]["decisions"] == frames[0]["steps"]).all()
    import pandas as pd

    table = pd.concat(frames, ignore_index=True)
    ct = E.criterion_table(table, params)
    assert {"etc", "censored"} <= set(ct.columns)
    assert (ct["etc"] >= 1).all() and (ct["etc"] <= 30).all()
    from hrlmeta.claims import load_claims, measure_claim
    from hrlmeta.experiments.fourrooms_sutton.measures import MEASURES

    claims = load_claims(REGISTRY.claims_path("fourrooms_sutton"), experiment="fourrooms_sutton")
    for c in claims:
        s = measure_claim(MEASURES, c, table, params)
        assert s.values.ndim == 2 and s.note


def test_episodes_to_criterion_rule():
    from hrlmeta.experiments.fourrooms_sutton.analysis import episodes_to_criterion

    ep = np.arange(1, 9)
    v = np.array([100, 50, 9, 30, 9, 9, 9, 9.0])
    assert episodes_to_criterion(ep, v, reference=10, tolerance=0.0) == (5, False)
    assert episodes_to_criterion(ep, v, reference=10, tolerance=2.0) == (3, False)  # 30 <= 30
    assert episodes_to_criterion(ep, v[::-1], reference=10, tolerance=0.0) == (8, True)
    # window 2: trailing means 100, 75, 29.5, 19.5, 19.5, 9, 9, 9
    assert episodes_to_criterion(ep, v, reference=10, tolerance=1.0, window=2) == (4, False)


def test_full_window_criterion():
    from hrlmeta.experiments.fourrooms_sutton.analysis import episodes_to_criterion

    ep = np.arange(1, 9)
    v = np.array([9, 9, 100, 9, 9, 9, 9, 9.0])
    # partial windows: the mean of the first episode alone (9) is defined at episode 1
    assert episodes_to_criterion(ep, v, reference=10, tolerance=1.0, window=3) == (6, False)
    assert episodes_to_criterion(ep, [9.0] * 8, reference=10, tolerance=0.0, window=3) == (1, False)
    # full windows: nothing is defined before episode 3
    assert episodes_to_criterion(ep, [9.0] * 8, reference=10, tolerance=0.0, window=3, full_window=True) == (3, False)
    assert episodes_to_criterion(ep, v, reference=10, tolerance=1.0, window=3, full_window=True) == (6, False)
    # a window longer than the block is never full: censored
    assert episodes_to_criterion(ep, [9.0] * 8, 10, 0.0, window=9, full_window=True) == (8, True)
    assert episodes_to_criterion(ep, [9.0] * 8, 10, 0.0, window=1, full_window=True) == (1, False)


def test_vectorised_criterion_table_equals_the_per_block_rule():
    """criterion_table (matrix over blocks, cached per table) == episodes_to_criterion block by block."""
    import pandas as pd

    from hrlmeta.experiments.fourrooms_sutton import analysis as E

    rng = np.random.default_rng(4)
    rows = []
    for algo in ("flat_q", "smdp_q_mixed"):
        for seed in range(3):
            for goal in ("G1", "G2"):
                steps = np.maximum(5, (300 * np.exp(-np.arange(40) / (6 + 4 * seed)) * rng.lognormal(0, 0.5, 40)))
                greedy = np.where(np.arange(40) % 5 == 0, steps * 0.8, np.nan)
                rows.append(pd.DataFrame({"algo": algo, "seed": seed, "goal": goal, "phase": "first",
                                          "episode": np.arange(1, 41), "steps": steps.round(), "greedy_steps": greedy,
                                          "optimal_steps": 20.0, "option_set_optimal_steps": 22.0}))
    table = pd.concat(rows, ignore_index=True)
    for crit in ({"measure": "behaviour", "tolerance": 1.0, "window": 5, "full_window": False, "reference": "primitive"},
                 {"measure": "behaviour", "tolerance": 0.5, "window": 10, "full_window": True, "reference": "own"},
                 {"measure": "greedy", "tolerance": 0.1, "window": 5, "reference": "primitive"}):
        ct = E.criterion_table(table, {"criterion": crit}).set_index(["algo", "seed", "goal"])
        for (algo, seed, goal), g in table.groupby(["algo", "seed", "goal"]):
            ref = 20.0 if crit["reference"] == "primitive" else 22.0
            if crit["measure"] == "greedy":
                s = g.dropna(subset=["greedy_steps"])
                want = E.episodes_to_criterion(s["episode"], s["greedy_steps"], ref, crit["tolerance"])
            else:
                want = E.episodes_to_criterion(g["episode"], g["steps"], ref, crit["tolerance"], crit["window"],
                                               crit["full_window"])
            got = ct.loc[(algo, seed, goal)]
            assert (int(got["etc"]), bool(got["censored"])) == want, (crit, algo, seed, goal)
