"""taxi_maxq's speed claims posed as Dietterich (2000, Sec. 7.1) reads them: on the learning curves averaged
over training trials (seeds), the primitive steps at which each averaged curve reaches the recursively optimal
level; on constructed run tables whose answer is known, each declared claim (its folder's claims.yaml) holds
where the paper's statement is true and fails where it is not."""

import copy

import numpy as np
import pandas as pd
import pytest

from hrlmeta import claims as K
from hrlmeta.config import experiment_params, load_config
from hrlmeta.experiments import REGISTRY
from hrlmeta.experiments.taxi_maxq import curves as CV

CLAIMS = {c["id"]: c for c in K.load_claims(REGISTRY.claims_path("taxi_maxq"), experiment="taxi_maxq")}
MEASURES = REGISTRY.measures("taxi_maxq")
LEVEL = {"noisy_fickle": -2.0, "deterministic": 7.5}   # the constructed tables' recursively optimal returns
N_STEPS = 160_000
EP_LEN = 50          # primitive steps per constructed trial: 100 trials = 5,000 steps


@pytest.fixture(scope="module")
def params():
    p = copy.deepcopy(experiment_params(load_config(REGISTRY), "taxi_maxq"))
    p["n_steps"] = N_STEPS
    return p


def _table(learn_at: dict, variant: str = "noisy_fickle", noise: float = 2.0, gap: float = 30.0,
           seed: int = 0) -> pd.DataFrame:
    """Runs whose trial returns are the level - ``gap`` until a seed's own learning step, the level after it
    (plus N(0, noise)); ``learn_at``: algo -> that step for each seed (inf: never learns)."""
    rng = np.random.default_rng(seed)
    level = LEVEL[variant]
    frames = []
    n_ep = N_STEPS // EP_LEN + 1
    cum = EP_LEN * np.arange(1, n_ep + 1)
    for algo, steps in learn_at.items():
        for s, t in enumerate(steps):
            ret = np.where(cum <= t, level - gap, level) + rng.normal(0.0, noise, n_ep)
            frames.append(pd.DataFrame({
                "algo": algo, "seed": s, "variant": variant, "episode": np.arange(1, n_ep + 1),
                "steps": EP_LEN, "cum_steps": cum, "return": ret, "optimal_return": level + 1.0,
                "recursive_optimal_return": level, "random_return": -400.0,
                "final_policy_return": level, "final_hierarchical_return": level, "final_hg_return": level}))
    return pd.concat(frames, ignore_index=True)


def _spread(t0: float, n: int = 20, width: float = 4000.0) -> np.ndarray:
    return t0 + np.linspace(-width / 2, width / 2, n)


def _decide(cid: str, table, params, **override) -> dict:
    claim = copy.deepcopy(CLAIMS[cid])
    for path, value in override.items():
        claim = K.set_dotted(claim, path.replace("__", "."), value)
    samples = K.measure_claim(MEASURES, claim, table, params)
    return CV.decide(claim, samples, reps=300, confidence=0.95, seed=1)


# ------------------------------------------------------------------ the curve machinery


def test_crossing_rules_by_hand():
    xs = np.arange(1, 11) * 100
    agg = np.array([-9, -5, 0.5, -2, 0, 1, 1, 1, -0.5, 1.0])
    first = CV.Criterion(level=0.0, xs=xs, rule="first", hold=0)
    assert first.steps(agg) == 300                       # the first touch
    held = CV.Criterion(level=0.0, xs=xs, rule="first", hold=200)
    assert held.steps(agg) == 500                        # 0, 1, 1 at 500..700
    stays = CV.Criterion(level=0.0, xs=xs, rule="stays")
    assert stays.steps(agg) == 1000                      # only the last point is followed by nothing below
    assert CV.Criterion(level=5.0, xs=xs).steps(agg) == np.inf
    # a hold longer than what is left of the run: held to the end counts
    assert CV.Criterion(level=0.0, xs=xs, rule="first", hold=10_000).steps(agg) == 1000


def test_seed_curve_is_the_trailing_mean_of_finished_trials():
    cum = np.array([10, 20, 30, 40])
    ret = np.array([1.0, 3.0, 5.0, 7.0])
    got = CV.seed_curve(cum, ret, 2, np.array([5, 10, 25, 40, 100]))
    np.testing.assert_allclose(got, [-np.inf, 1.0, 2.0, 6.0, 6.0])


def test_bootstrap_resamples_whole_seeds():
    """Seeds whose curves are identical: every resample has the same mean curve, so the CI is a point; with
    two kinds of seed the resampled crossing moves with the share of each kind (whole curves)."""
    xs = np.arange(1, 101) * 1000
    crit = CV.Criterion(level=0.0, xs=xs, rule="first", hold=0)
    same = np.tile(np.where(xs >= 40_000, 1.0, -10.0), (10, 1))
    boot = CV.CurveBootstrap([(same, crit)], "steps")
    assert boot("mean", reps=200, seed=0) == (40_000.0, 40_000.0, 40_000.0)
    early = np.where(xs >= 20_000, 1.0, -10.0)
    late = np.where(xs >= 60_000, 1.0, -10.0)
    mixed = np.array([early] * 10 + [late] * 10)
    est, lo, hi = CV.CurveBootstrap([(mixed, crit)], "steps")("mean", reps=300, seed=0)
    assert est == 60_000 and lo == 60_000 and hi == 60_000    # the mean curve waits for every seed
    est, lo, hi = CV.CurveBootstrap([(mixed, crit)], "steps")("median", reps=300, seed=0)
    assert lo == 20_000 and hi == 60_000                       # the median curve follows the majority
    # ratio of two agents; a censored denominator gives 0, a censored numerator +inf
    never = np.full((5, 100), -10.0)
    assert CV.CurveBootstrap([(same, crit), (never, crit)], "ratio")("mean", reps=50)[0] == 0.0
    assert CV.CurveBootstrap([(never, crit), (same, crit)], "ratio")("mean", reps=50)[0] == np.inf


# ------------------------------------------------------------------ maxq_abs_faster_than_flat


def test_flat_twice_as_long_holds(params):
    t = _table({"flat_q": _spread(80_000), "maxq_q_abs": _spread(40_000)})
    row = _decide("maxq_abs_faster_than_flat", t, params)
    assert row["verdict"] == "holds" and 1.6 < row["estimate"] < 2.1


def test_flat_faster_fails(params):
    t = _table({"flat_q": _spread(40_000), "maxq_q_abs": _spread(80_000)})
    row = _decide("maxq_abs_faster_than_flat", t, params)
    assert row["verdict"] == "fails" and row["estimate"] < 1


def test_flat_five_times_as_long_fails(params):
    t = _table({"flat_q": _spread(125_000), "maxq_q_abs": _spread(20_000)})
    row = _decide("maxq_abs_faster_than_flat", t, params)
    assert row["verdict"] == "fails" and row["estimate"] > 2.83


def test_flat_never_reaching_fails_above(params):
    t = _table({"flat_q": [np.inf] * 20, "maxq_q_abs": _spread(40_000)})
    row = _decide("maxq_abs_faster_than_flat", t, params)
    assert row["verdict"] == "fails" and row["estimate"] == np.inf


def test_the_mean_curve_is_not_the_mean_of_first_passages(params):
    """Half of MAXQ's seeds learn at 20,000 steps, half at 100,000; flat Q's all at 80,000. Per seed, MAXQ is
    2.5x faster on half of the seeds and slower on the rest; the averaged MAXQ curve reaches the level only
    when its last seeds do, after flat Q's: the paper's reading says MAXQ is not faster."""
    maxq = np.r_[_spread(20_000, 10), _spread(100_000, 10)]
    t = _table({"flat_q": _spread(80_000), "maxq_q_abs": maxq})
    row = _decide("maxq_abs_faster_than_flat", t, params)
    assert row["verdict"] == "fails" and row["estimate"] < 1
    per_seed = _decide("maxq_abs_faster_than_flat", t, params, params__reading="per_seed", statistic="median")
    assert per_seed["estimate"] > 1   # the per-seed reading sees the fast half


def test_a_brief_touch_is_not_attained(params):
    """MAXQ's returns are at the level from 20,000 to 30,000 steps, then below it again until ~40,000: its
    averaged curve (100 trials = 5,000 steps) touches the level from ~25,000 to ~30,000 and falls back. Held
    for 10,000 steps (the config) the level is attained at ~45,000; a first touch (hold 0) is ~25,000."""
    t = _table({"flat_q": _spread(80_000), "maxq_q_abs": _spread(40_000)})
    m = t["algo"].eq("maxq_q_abs")
    dip = m & t["cum_steps"].between(20_000, 30_000)
    t.loc[dip, "return"] = LEVEL["noisy_fickle"] + 0.5
    s = K.measure_claim(MEASURES, CLAIMS["maxq_abs_steps_to_recursive_optimum"], t, params)
    assert 40_000 < s.extra["bootstrap"].estimate("mean") < 50_000
    claim = K.set_dotted(CLAIMS["maxq_abs_steps_to_recursive_optimum"], "params.criterion.hold", 0)
    s0 = K.measure_claim(MEASURES, claim, t, params)
    assert 20_000 < s0.extra["bootstrap"].estimate("mean") < 26_000


# ------------------------------------------------------------------ maxq_abs_steps_to_recursive_optimum


@pytest.mark.parametrize("t0, verdict", [
    (37_000, "holds"),      # crossing ~ 37,000 + 2,000 (spread) + ~5,000 (100 trials to fill the window)
    (90_000, "fails"),      # too late
    (8_000, "fails"),       # too early
])
def test_steps_to_recursive_optimum(params, t0, verdict):
    t = _table({"maxq_q_abs": _spread(t0)})
    row = _decide("maxq_abs_steps_to_recursive_optimum", t, params)
    assert row["verdict"] == verdict, row
    assert row["n_seeds"] == 20


def test_steps_never_reached_fails(params):
    t = _table({"maxq_q_abs": [np.inf] * 20})
    row = _decide("maxq_abs_steps_to_recursive_optimum", t, params)
    assert row["verdict"] == "fails" and row["estimate"] == np.inf


# ------------------------------------------------------------------ maxq_abs_faster_than_flat_deterministic


def test_deterministic_faster_holds_and_slower_fails(params):
    ok = _table({"flat_q": _spread(50_000), "maxq_q_abs": _spread(30_000)}, variant="deterministic")
    assert _decide("maxq_abs_faster_than_flat_deterministic", ok, params)["verdict"] == "holds"
    slow = _table({"flat_q": _spread(30_000), "maxq_q_abs": _spread(50_000)}, variant="deterministic")
    assert _decide("maxq_abs_faster_than_flat_deterministic", slow, params)["verdict"] == "fails"


# ------------------------------------------------------------------ maxq_noabs_vs_flat


def test_noabs_slower_than_flat_holds_and_faster_fails(params):
    ok = _table({"flat_q": _spread(60_000), "maxq_q": _spread(120_000)})
    row = _decide("maxq_noabs_vs_flat", ok, params)
    assert row["verdict"] == "holds" and row["estimate"] < 1
    never = _table({"flat_q": _spread(60_000), "maxq_q": [np.inf] * 20})
    assert _decide("maxq_noabs_vs_flat", never, params)["verdict"] == "holds"
    bad = _table({"flat_q": _spread(120_000), "maxq_q": _spread(40_000)})
    row = _decide("maxq_noabs_vs_flat", bad, params)
    assert row["verdict"] == "fails" and row["estimate"] > 1


# ------------------------------------------------------------------ declarations


def test_speed_claims_read_the_mean_curve_and_keep_the_per_seed_reading_in_the_grid():
    for cid in ("maxq_abs_faster_than_flat", "maxq_abs_faster_than_flat_deterministic", "maxq_noabs_vs_flat",
                "maxq_abs_steps_to_recursive_optimum"):
        c = CLAIMS[cid]
        assert c["params"]["reading"] == "mean_curve" and c["statistic"] == "mean"
        grid = K.robustness_grid(c)
        assert any(s.get("params.reading") == "per_seed" for s in grid)
        assert {0, 10000} <= {s.get("params.criterion.hold") for s in grid}
        assert any(s.get("params.criterion.rule") == "stays" for s in grid)
        assert "posed" in c
        if cid != "maxq_abs_steps_to_recursive_optimum":
            rev = c["revisions"][-1]
            assert rev["date"] == "2026-12-07" and rev["result_known"] is True


def test_samples_without_the_curve_bootstrap_are_inconclusive(params):
    """The placeholder values of a curve claim decide nothing by themselves: an engine that ignores
    ``extra["bootstrap"]`` says inconclusive instead of deciding another quantity."""
    t = _table({"flat_q": _spread(80_000), "maxq_q_abs": _spread(40_000)})
    s = K.measure_claim(MEASURES, CLAIMS["maxq_abs_faster_than_flat"], t, params)
    plain = K.Samples(values=s.values, statistic=s.statistic)
    row = K.decide(CLAIMS["maxq_abs_faster_than_flat"], plain, reps=100, confidence=0.95, seed=0)
    assert row["verdict"] == "inconclusive" and row["n_seeds"] == 20
