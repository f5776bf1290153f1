"""pointmass_diayn's claims as the paper poses them (Eysenbach et al. 2019, Sec. 4.1): skills' end states
spread apart (``diayn_end_spread``) and skills pass a narrow bottleneck (``diayn_passage``), each decided on
constructed run tables where the paper's statement is true and where it is false (a control that does not
move must not decide either), plus the spread and the random-policy reference on hand-made inputs and the
training of a second skill count."""

import copy
import math

import numpy as np
import pandas as pd
import pytest

from hrlmeta import claims as K
from hrlmeta import config as C
from hrlmeta.experiments import REGISTRY
from hrlmeta.experiments.pointmass_diayn import analysis as E
from hrlmeta.experiments.pointmass_diayn import analysis as TA
from hrlmeta.experiments.pointmass_diayn import training as TR

DECLARED = {c["id"]: c for c in K.declared_claims(REGISTRY) if c["experiment"] == E.EXPERIMENT}


@pytest.fixture(scope="module")
def params():
    return C.experiment_params(C.load_config(REGISTRY), E.EXPERIMENT)


def _decide(claim_id: str, samples) -> dict:
    return K.decide(DECLARED[claim_id], samples, reps=500, confidence=0.95, seed=1)


def _measure(claim: dict, table, params) -> K.Samples:
    return K.measure_claim(REGISTRY.measures(E.EXPERIMENT), claim, table, params)


def _spec(claim_id: str, **cp) -> dict:
    c = copy.deepcopy(DECLARED[claim_id])
    c["params"] = {**c["params"], **cp}
    return c


# --------------------------------------------------------------------------- constructed final evaluations


def _line(start, end, T=10):
    s = np.linspace(0.0, 1.0, T + 1)
    return ((start[0] + s * (end[0] - start[0])).astype(np.float32),
            (start[1] + s * (end[1] - start[1])).astype(np.float32))


def _table(ends: dict, params, n_seeds=5, per=3, K=6, modes=("deterministic", "stochastic")):
    """Final evaluation rows: ``ends[algo](seed, layout, skill, episode) -> (x, y)`` gives each episode's
    final position, reached in a straight line from the layout's start."""
    rows = []
    for algo, end in ends.items():
        for seed in range(n_seeds):
            for layout in ("open", "passage"):
                start = TA.make_env(params, layout).start
                for mode in modes:
                    for skill in range(K):
                        for ep in range(per):
                            tx, ty = _line(start, end(seed, layout, skill, ep))
                            rows.append({"algo": algo, "seed": seed, "layout": layout, "eval_point": 5,
                                         "eval_mode": mode, "skill": skill, "num_skills": K,
                                         "traj_x": tx, "traj_y": ty})
    return pd.DataFrame(rows)


def _ring(radius, K=6, jitter=0.0):
    """Skill k ends on a circle of ``radius`` around the start (angle 2 pi k / K), a seed-dependent jitter."""
    def end(seed, layout, skill, ep):
        a = 2 * math.pi * skill / K + 0.05 * seed
        r = radius + jitter * ((seed % 3) - 1)
        if layout == "passage":  # inside the left room around its centre
            return (-0.5 + 0.4 * math.cos(a), 0.8 * math.sin(a))
        return (r * math.cos(a), r * math.sin(a))
    return end


def _still(seed, layout, skill, ep):
    """A control that does not move: every episode ends (almost) at the start."""
    return (0.0, 0.001 * skill) if layout == "open" else (-0.5, 0.001 * skill)


# --------------------------------------------------------------------------- the evaluation quantities


def test_pairwise_spread_by_hand():
    ends = np.array([[0.0, 0.0], [3.0, 0.0], [0.0, 4.0]])
    # three skills, one episode each: distances 3, 4, 5
    assert E.pairwise_spread(ends, [0, 1, 2]) == pytest.approx(4.0)
    assert E.pairwise_spread(ends, [0, 1, 2], "skill_means") == pytest.approx(4.0)
    # skill 0 twice at the origin: pairs of different skills 3, 3, 4, 4, 5 (the two skill-0 episodes are no pair)
    ends2 = np.array([[0.0, 0.0], [0.0, 0.0], [3.0, 0.0], [0.0, 4.0]])
    assert E.pairwise_spread(ends2, [0, 0, 1, 2]) == pytest.approx(19 / 5)
    # skill means: skill 0 at (0, 1) and (0, -1) has mean (0, 0); skill 1 at (6, 0): distance 6
    ends3 = np.array([[0.0, 1.0], [0.0, -1.0], [6.0, 0.0]])
    assert E.pairwise_spread(ends3, [0, 0, 1], "skill_means") == pytest.approx(6.0)
    assert E.pairwise_spread(ends3, [0, 0, 1]) == pytest.approx(math.hypot(6, 1))
    assert math.isnan(E.pairwise_spread(ends3, [0, 0, 0]))
    with pytest.raises(ValueError, match="points"):
        E.pairwise_spread(ends3, [0, 0, 1], "medians")


def test_random_policy_reference_by_hand(params):
    # one step from the centre, no wall reached: the end points are start + 0.1 * U, U uniform on [-1, 1]^2,
    # so two independent episodes end 0.1 * 2 * 0.5214... apart (mean distance of two uniform points in the
    # unit square: (2 + sqrt 2 + 5 ln(1 + sqrt 2)) / 15)
    one = copy.deepcopy(params)
    one["env"]["horizon"] = 1
    unit = (2 + math.sqrt(2) + 5 * math.log(1 + math.sqrt(2))) / 15
    assert TA.random_policy_spread(one, "open") == pytest.approx(0.2 * unit, rel=0.02)
    # seeded: the same value every time; more steps spread the end points further
    assert TA.random_policy_spread(params, "open") == TA.random_policy_spread(params, "open")
    assert TA.random_policy_spread(params, "open") > 5 * TA.random_policy_spread(one, "open")


def test_passage_count_by_hand(params):
    # skills 0, 1 cross the wall (x = 0) in every episode, skill 2 in one of its 3 episodes, the rest never
    def end(seed, layout, skill, ep):
        if skill in (0, 1) or (skill == 2 and ep == 0):
            return (0.5, 0.0)
        return (-0.8, 0.5)
    t = _table({"diayn": end}, params, n_seeds=1)
    n = TA.passage_skills(t, params, "deterministic", 0.5)
    assert n[("diayn", 0)] == 2
    assert TA.passage_skills(t, params, "deterministic", 0.3)[("diayn", 0)] == 3  # 1 of 3 episodes >= 0.3
    assert TA.passage_skills(t, params, "deterministic", 1.0)[("diayn", 0)] == 2


# --------------------------------------------------------------------------- diayn_end_spread


def test_end_spread_holds_when_skills_end_far_apart(params):
    claim = DECLARED["diayn_end_spread"]
    assert claim["params"]["eval_mode"] == "deterministic" and claim["params"]["reference"] == "random_policy"
    assert claim["params"]["skill_count"] == "primary" and claim["params"]["layouts"] == ["open"]
    # 6 skills end on a circle of radius 0.9 (a hexagon: mean pairwise distance 1.49 x 0.9 = 1.34), the control
    # does not move; the random-policy reference of the open box is below 1
    table = _table({"diayn": _ring(0.9, jitter=0.02), "random_skills": _still}, params)
    s = _measure(claim, table, params)
    ref = TA.random_policy_spread(params, "open")
    hexagon = (6 * 1 + 6 * math.sqrt(3) + 3 * 2) / 15
    assert s.values.shape == (5, 1)
    assert s.values[0, 0] == pytest.approx(hexagon * 0.88 - ref, rel=1e-4)  # seed 0: radius 0.9 - 0.02
    assert _decide("diayn_end_spread", s)["verdict"] == "holds"
    assert "random skills" in s.note and "uniform random policy" in s.note


def test_end_spread_is_not_decided_by_a_control_that_does_not_move(params):
    claim = DECLARED["diayn_end_spread"]
    # skills that move, but only 0.3 from the start: farther apart than the still control's, yet closer than
    # two random-policy episodes end
    table = _table({"diayn": _ring(0.3, jitter=0.02), "random_skills": _still}, params)
    against_control = _measure(_spec("diayn_end_spread", reference="none"), table, params)
    assert (against_control.values > 0).all()
    assert _decide("diayn_end_spread", against_control)["verdict"] == "holds"  # the trivial comparison
    s = _measure(claim, table, params)
    assert (s.values < 0).all()
    assert _decide("diayn_end_spread", s)["verdict"] == "fails"


def test_end_spread_fails_when_the_control_spreads_as_far(params):
    claim = DECLARED["diayn_end_spread"]
    wide = _ring(0.95)  # the control's skills end even farther apart (radius 0.95) than DIAYN's (0.9)
    table = _table({"diayn": _ring(0.9), "random_skills": wide}, params)
    s = _measure(claim, table, params)
    assert (s.values < 0).all()
    assert _decide("diayn_end_spread", s)["verdict"] == "fails"


def test_end_spread_grid_varies_mode_reference_and_skill_count():
    grid = K.robustness_grid(DECLARED["diayn_end_spread"])
    assert {g.get("params.eval_mode") for g in grid} == {"deterministic", "stochastic"}
    assert {g.get("params.reference") for g in grid} >= {"random_policy", "none"}
    assert {g.get("params.skill_count") for g in grid} >= {"primary", "other"}
    assert {tuple(g["params.layouts"]) for g in grid if "params.layouts" in g} == {("open",), ("open", "passage")}


# --------------------------------------------------------------------------- diayn_passage


def _crossing(n_skills):
    """The first ``n_skills`` skills go through the opening (0, 0) to the right room; the rest stay left."""
    def end(seed, layout, skill, ep):
        if layout == "passage" and skill < n_skills:
            return (0.5, 0.0)
        return (-0.5 + 0.3 * math.cos(skill), 0.3 * math.sin(skill)) if layout == "passage" else (0.5, 0.0)
    return end


def test_passage_holds_when_skills_leave_the_room(params):
    claim = DECLARED["diayn_passage"]
    assert claim["params"]["eval_mode"] == "deterministic" and claim["params"]["baseline"] == "none"
    table = _table({"diayn": _crossing(3), "random_skills": _still}, params)
    s = _measure(claim, table, params)
    np.testing.assert_allclose(s.values, 3.0)
    assert _decide("diayn_passage", s)["verdict"] == "holds"
    assert "random skills" in s.note and "0.000" in s.note  # the control's own count is reported


def test_passage_fails_when_at_most_one_skill_leaves(params):
    claim = DECLARED["diayn_passage"]
    for n in (0, 1):
        table = _table({"diayn": _crossing(n), "random_skills": _still}, params)
        s = _measure(claim, table, params)
        np.testing.assert_allclose(s.values, float(n))
        assert _decide("diayn_passage", s)["verdict"] == "fails"


def test_passage_against_the_control_subtracts_its_count(params):
    # a control whose skills pass as well: DIAYN's 3 minus the control's 2 is 1 (< 2) in the grid specification
    table = _table({"diayn": _crossing(3), "random_skills": _crossing(2)}, params)
    s = _measure(_spec("diayn_passage", baseline="random_skills"), table, params)
    np.testing.assert_allclose(s.values, 1.0)
    assert _decide("diayn_passage", s)["verdict"] == "fails"


# --------------------------------------------------------------------------- skill counts


def test_claims_read_the_skill_count_they_name(params):
    six = _table({"diayn": _ring(0.3), "random_skills": _still}, params, K=6)
    ten = _table({"diayn": _ring(0.9, K=10), "random_skills": _still}, params, K=10)
    both = pd.concat([six, ten], ignore_index=True)
    p = copy.deepcopy(params)
    assert p["agent"]["num_skills"] == 6 and p["agent"]["other_num_skills"] == [10]
    primary = _measure(DECLARED["diayn_end_spread"], both, p)
    other = _measure(_spec("diayn_end_spread", skill_count="other"), both, p)
    assert "K = 6" in primary.note and "K = 10" in other.note
    assert (primary.values < 0).all() and (other.values > 0).all()
    # without a second trained count the 'other' specification has no seeds (inconclusive, not an error)
    p["agent"]["other_num_skills"] = []
    empty = _measure(_spec("diayn_end_spread", skill_count="other"), six, p)
    assert empty.values.size == 0
    assert _decide("diayn_end_spread", empty)["verdict"] == "inconclusive"
    for cid in ("diayn_coverage", "diayn_passage"):
        assert _measure(_spec(cid, skill_count="other"), six, p).values.size == 0


TINY = {
    "env": {"layouts": ["open"], "horizon": 10, "start": {"passage": [-0.5, 0.0]}},
    "agent": {"num_skills": 3, "other_num_skills": [2], "hidden": [8], "batch_size": 16, "total_steps": 100,
              "min_pool": 50, "n_envs": 5, "updates_per_step": 0.5},
    "eval": {"every": 100, "episodes_per_skill": 2, "fresh_classifier": {"steps": 2}},
}


def _full(params: dict) -> dict:
    """``params`` completed with the schema's defaults, as the config loader hands them to the code."""
    return C.schema_defaults(copy.deepcopy(params), C.load_schema(E.EXPERIMENT, REGISTRY))


def test_a_second_skill_count_is_trained_beside_without_touching_the_primary():
    both = TR.train("diayn", [0], _full(TINY))[0]
    assert list(dict.fromkeys(both["num_skills"])) == [3, 2]  # primary first
    one = copy.deepcopy(TINY)
    del one["agent"]["other_num_skills"]
    alone = TR.train("diayn", [0], _full(one))[0]
    cols = ["layout", "eval_mode", "eval_point", "skill", "return", "acc", "coverage"]
    pd.testing.assert_frame_equal(both[both["num_skills"] == 3][cols].reset_index(drop=True),
                                  alone[cols].reset_index(drop=True))
    fin = E.final_rows(both)
    assert set(fin["num_skills"]) == {2, 3} and (fin["env_steps"] == 100).all()
    assert E.select_skill_count(both, TINY) == 3 and E.select_skill_count(both, TINY, "other") == 2
    assert E.select_skill_count(both, {"agent": {}}, "other") == 2  # read from the table where params do not say
    assert REGISTRY.cost_units(E.EXPERIMENT, "diayn", TINY) == 2 * REGISTRY.cost_units(E.EXPERIMENT, "diayn", one)
    with pytest.raises(ValueError, match="other_num_skills"):
        TR.train("diayn", [0], _full({**TINY, "agent": {**TINY["agent"], "other_num_skills": [3]}}))
