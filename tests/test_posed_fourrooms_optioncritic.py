"""optioncritic_terminations_at_doorways as the paper poses it ("termination events are more likely to occur
near the doorways", Bacon, Harb & Precup 2017, Fig. 3): the declared claim decided on constructed tables of
termination events (holds where events gather at the doorways, fails where they are spread in proportion to
visits), and the events logged by a tiny real run checked against a pure-Python replay of its evaluation
episodes."""

import json

import numpy as np
import pandas as pd
import pytest

from hrlmeta import claims as K
from hrlmeta import config as C
from hrlmeta.experiments import REGISTRY
from hrlmeta.experiments.fourrooms_optioncritic import analysis as E
from hrlmeta.experiments.fourrooms_optioncritic import training as T

CLAIM = "optioncritic_terminations_at_doorways"
# the experiment's own claims.yaml, as the workflow declares it (other experiments' claims are not needed)
DECLARED = {c["id"]: c for c in K.load_claims(REGISTRY.claims_path(E.EXPERIMENT), experiment=E.EXPERIMENT)}
AGENTS = ["option_critic_4", "option_critic_8"]


@pytest.fixture(scope="module")
def params():
    return C.experiment_params(C.load_config(REGISTRY, "config/smoke.yaml"), E.EXPERIMENT)


@pytest.fixture(scope="module")
def env(params):
    return E._env(float(params["success_prob"]), params["dynamics"])


def _events_json(visits: np.ndarray, terms: np.ndarray, episodes: int = 100) -> str:
    visits, terms = np.asarray(visits, dtype=np.int64), np.asarray(terms, dtype=np.int64)
    return json.dumps({"n_options": int(visits.shape[0]), "episodes": episodes, "goal": [11, 11],
                       "visits": visits.tolist(), "terminations": terms.tolist(),
                       "steps": int(visits.sum()) + episodes, "decisions": int(terms.sum()) + episodes,
                       "reached": episodes})


def _table(params, make, n_seeds=10) -> pd.DataFrame:
    """One last-episode row per agent and seed; ``make(agent, seed) -> (visits, terminations)``, (O, S)."""
    rows = []
    for agent in AGENTS:
        for seed in range(n_seeds):
            v, t = make(agent, seed)
            rows.append({"algo": agent, "seed": seed, "episode": params["n_episodes"], "goal_row": 11,
                         "goal_col": 11, "final_beta": "", "eval_terminations": _events_json(v, t)})
    return pd.DataFrame(rows)


def _measure(params, table, claim=None):
    claim = claim or DECLARED[CLAIM]
    return K.measure_claim(REGISTRY.measures(claim["experiment"]), claim, table, params)


def _decide(samples, claim=None):
    return K.decide(claim or DECLARED[CLAIM], samples, reps=500, confidence=0.95, seed=1)


def _grid_verdicts(params, table):
    """{(radius, statistic, threshold): verdict} over the declared robustness grid."""
    out = {}
    for spec in K.robustness_grid(DECLARED[CLAIM]):
        c = K.apply_spec(DECLARED[CLAIM], spec)
        out[(spec["params.radius"], spec["statistic"], spec["expected_range"][0])] = _decide(_measure(params, table, c),
                                                                                            c)["verdict"]
    return out


def test_declared_posing_is_termination_events_above_one():
    c = DECLARED[CLAIM]
    assert c["measure"] == "termination_events"
    assert c["expected_range"] == [np.nextafter(1.0, 2.0), None]  # '> 1' as a closed float range
    assert {s["expected_range"][0] for s in K.robustness_grid(c)} == {np.nextafter(1.0, 2.0), 1.25, 1.5}
    assert {s["params.radius"] for s in K.robustness_grid(c)} == {0, 1, 2}
    assert [r["result_known"] for r in c["revisions"]] == [True, True]
    assert c["revisions"][0]["date"] == "2026-12-03"


def test_events_gathered_at_the_doorways_hold(params, env):
    near = sorted(E.doorway_cells(params, 1))

    def make(agent, seed):
        o = E.N_OPTIONS[agent]
        v = np.full((o, env.n_states), 20 + seed)
        t = np.full((o, env.n_states), 2)
        t[:, near] = 15
        return v, t

    table = _table(params, make)
    s = _measure(params, table)
    assert s.values.shape == (10, 2)
    share_t = 12 * 15 / (12 * 15 + (env.n_states - 12) * 2)
    np.testing.assert_allclose(s.values, share_t / (12 / env.n_states))
    assert _decide(s)["verdict"] == "holds"


def test_events_in_proportion_to_visits_fail(params, env):
    """Lift exactly 1: every visit ends the option with the same probability, wherever it is."""
    rng = np.random.default_rng(0)

    def make(agent, seed):
        v = 2 * rng.integers(1, 50, size=(E.N_OPTIONS[agent], env.n_states))
        return v, v // 2

    table = _table(params, make)
    s = _measure(params, table)
    np.testing.assert_array_equal(s.values, 1.0)
    assert _decide(s)["verdict"] == "fails"
    assert set(_grid_verdicts(params, table).values()) == {"fails"}


def test_fewer_events_near_the_doorways_fail(params, env):
    near = sorted(E.doorway_cells(params, 1))

    def make(agent, seed):
        v = np.full((E.N_OPTIONS[agent], env.n_states), 30)
        t = np.full_like(v, 12)
        t[:, near] = 3
        return v, t

    s = _measure(params, _table(params, make))
    assert (s.values < 1).all() and _decide(s)["verdict"] == "fails"


def test_binomial_events_at_one_rate_never_hold(params, env):
    """Events drawn at the same rate everywhere: the lift scatters around 1, the claim must not hold."""
    rng = np.random.default_rng(3)

    def make(agent, seed):
        v = rng.integers(5, 60, size=(E.N_OPTIONS[agent], env.n_states))
        return v, rng.binomial(v, 0.4)

    s = _measure(params, _table(params, make, n_seeds=20))
    assert abs(float(np.median(s.values)) - 1.0) < 0.1
    assert _decide(s)["verdict"] != "holds"


def test_size_of_the_effect_is_read_on_the_grid(params, env):
    """A lift of 1.3 at radius 1 holds at > 1 and 1.25, fails at 1.5."""
    near = sorted(E.doorway_cells(params, 1))

    def make(agent, seed):
        v = np.full((E.N_OPTIONS[agent], env.n_states), 100)
        t = np.full_like(v, 20)
        t[:, near] = 26
        return v, t

    table = _table(params, make)
    s = _measure(params, table)
    share = 12 * 26 / (12 * 26 + (env.n_states - 12) * 20)
    np.testing.assert_allclose(s.values, share / (12 / env.n_states))
    assert 1.25 < s.values[0, 0] < 1.5
    g = _grid_verdicts(params, table)
    one = np.nextafter(1.0, 2.0)
    for stat in ("iqm", "median", "mean"):
        assert g[(1, stat, one)] == g[(1, stat, 1.25)] == "holds"
        assert g[(1, stat, 1.5)] == "fails"


def test_malformed_event_logs_are_rejected(params, env):
    v = np.full((4, env.n_states), 3)
    bad = _events_json(v, v + 1)  # more events than visits
    row = {"algo": "option_critic_4", "seed": 0, "eval_terminations": bad}
    with pytest.raises(ValueError, match="at most one event per visit"):
        E.eval_terminations(pd.DataFrame([row]))
    d = json.loads(_events_json(v, v))
    d["decisions"] += 1
    with pytest.raises(ValueError, match="disagree"):
        E.eval_terminations(pd.DataFrame([dict(row, eval_terminations=json.dumps(d))]))


# ---------------------------------------------------------------------------- logging on a real run


def _tiny(params):
    return dict(params, n_episodes=60, switch_episode=30, eval_episodes=12, max_steps=300)


def _replay(env, goal, Q, theta, vartheta, epsilon, temperature, max_steps, n_episodes, seed):
    """The evaluation episodes in plain Python on NumPy's legacy generator (the same Mersenne Twister
    stream numba's compiled np.random draws from): a trace of (cell arrived in, running option, option
    after the draw) per termination draw, and the options chosen per episode."""
    np.random.seed(seed)
    n_states = env.n_states
    k = env.next_k.shape[2]

    def choose(s):
        if np.random.random() < epsilon:
            return int(np.random.random() * Q.shape[1])
        best, choice, ties = Q[s, 0], 0, 1
        for i in range(1, Q.shape[1]):
            if Q[s, i] > best:
                best, choice, ties = Q[s, i], i, 1
            elif Q[s, i] == best:
                ties += 1
                if np.random.random() * ties < 1.0:
                    choice = i
        return choice

    trace, chosen = [], []
    for _ in range(n_episodes):
        s = int(np.random.random() * (n_states - 1))
        s = s + 1 if s >= goal else s
        w = choose(s)
        n_chosen, t = 1, 0
        while True:
            p = np.exp((theta[w, s] - theta[w, s].max()) / temperature)  # as tabular.boltzmann_probs
            p /= p.sum()
            u, c, a = np.random.random(), 0.0, len(p) - 1
            for i in range(len(p) - 1):
                c += p[i]
                if u < c:
                    a = i
                    break
            s2 = int(env.next_k[s, a, int(np.random.random() * k)])
            t += 1
            if s2 == goal or t >= max_steps:
                break
            ended = np.random.random() < 1.0 / (1.0 + np.exp(-vartheta[w, s2]))
            w_before = w
            if ended:
                w = choose(s2)
                n_chosen += 1
            trace.append((s2, w_before, ended))
            s = s2
        chosen.append(n_chosen)
    return trace, chosen


def test_logged_events_match_a_replay_of_the_evaluation(params, env):
    from hrlmeta.algos import option_critic

    p = _tiny(params)
    algo, seed = "option_critic_4", 2
    df = T.train(algo, [seed], p)[0]
    pd.testing.assert_frame_equal(df, T.train(algo, [seed], p)[0])  # seeded
    assert (df["eval_terminations"].iloc[:-1] == "").all()
    ev = E.eval_terminations(df.assign(algo=algo, seed=seed), n_states=env.n_states)
    d = json.loads(df["eval_terminations"].iloc[-1])
    assert d["episodes"] == 12 and len(ev) == 4 * env.n_states
    goal = env.state(tuple(d["goal"]))
    goals, _ = T.goal_schedule(seed, p)
    assert goal == goals[-1]

    # the run's final tables, as train computes them (checked against its logged final_beta)
    run_seed = int(np.random.SeedSequence([seed, E.ALGOS.index(algo)]).generate_state(1)[0])
    res = option_critic.train(env.next_k, goals, 4, alpha_critic=p["alpha_critic"], alpha_theta=p["alpha_theta"],
                              alpha_beta=p["alpha_beta"], epsilon=p["epsilon"], xi=p["xi"],
                              intra_baseline=p["intra_baseline"], gamma=p["gamma"], temperature=p["temperature"],
                              max_steps=p["max_steps"], seed=run_seed)
    np.testing.assert_array_equal(np.round(res["beta"], 6), json.loads(df["final_beta"].iloc[-1])["beta"])
    eval_seed = int(np.random.SeedSequence([seed, E.ALGOS.index(algo), T._EVAL_STREAM]).generate_state(1)[0])
    trace, chosen = _replay(env, goal, res["Q"], res["theta"], res["vartheta"], p["epsilon"], p["temperature"],
                            p["max_steps"], 12, eval_seed)

    # option switches counted from the replayed trace = the logged termination events, cell by cell
    visits = np.zeros((4, env.n_states), dtype=np.int64)
    terms = np.zeros_like(visits)
    for s2, w, ended in trace:
        visits[w, s2] += 1
        terms[w, s2] += ended
    np.testing.assert_array_equal(np.asarray(d["visits"]), visits)
    np.testing.assert_array_equal(np.asarray(d["terminations"]), terms)
    assert int(terms.sum()) == sum(chosen) - 12 == d["decisions"] - 12 > 0
    # events only where the options were, never at the goal (the episode ends there)
    grid_v = ev.groupby("state")["visits"].sum()
    grid_t = ev.groupby("state")["terminations"].sum()
    assert (grid_t[grid_v == 0] == 0).all() and grid_v.loc[goal] == 0
    assert (ev["terminations"] <= ev["visits"]).all()


def test_extreme_terminations(env):
    """beta = 1 everywhere: every visit is an event; beta = 0: none (each episode runs one option)."""
    from hrlmeta.experiments.fourrooms_optioncritic.evaluation import check_counts, evaluate

    rng = np.random.default_rng(0)
    Q = rng.normal(size=(env.n_states, 3))
    theta = rng.normal(size=(3, env.n_states, 4))
    goal = env.state((7, 9))
    kw = dict(epsilon=0.1, temperature=1.0, max_steps=200, n_episodes=15, seed=4)
    hi = evaluate(env.next_k, goal, Q, theta, np.full((3, env.n_states), 50.0), **kw)
    lo = evaluate(env.next_k, goal, Q, theta, np.full((3, env.n_states), -50.0), **kw)
    for r in (hi, lo):
        check_counts(r)
        assert r["visits"][:, goal].sum() == 0
    np.testing.assert_array_equal(hi["terminations"], hi["visits"])
    assert lo["terminations"].sum() == 0 and (lo["decisions"] == 1).all()
    assert (hi["decisions"] == hi["steps"]).all()  # one choice at the start and one after every draw
