import numpy as np
import pytest

from hrlmeta import stats


def test_iqm_matches_definition():
    x = np.arange(1, 9, dtype=float)  # 8 values: middle 50% are 3,4,5,6
    assert stats.iqm(x[:, None][None])[0] == pytest.approx(4.5)
    # robust to outliers in the outer quartiles, unlike the mean
    y = np.array([1, 2, 3, 4, 5, 6, 7, 1e9])
    assert stats.iqm(y[:, None][None])[0] == pytest.approx(4.5)


def test_iqm_tolerates_a_few_infinities():
    x = np.array([1.0, 2, 3, 4, 5, 6, 7, np.inf])
    assert np.isfinite(stats.iqm(x[:, None][None])[0])


def test_bootstrap_is_seeded_and_deterministic():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(30, 2))
    a = stats.stratified_bootstrap_ci(x, "mean", reps=500, seed=7)
    b = stats.stratified_bootstrap_ci(x, "mean", reps=500, seed=7)
    c = stats.stratified_bootstrap_ci(x, "mean", reps=500, seed=8)
    assert a == b
    assert a[1:] != c[1:]
    assert a[1] < a[0] < a[2]


def test_bootstrap_is_stratified():
    # within-stratum values are constant -> every stratified resample has the same mean
    x = np.column_stack([np.zeros(10), np.full(10, 10.0)])
    est, lo, hi = stats.stratified_bootstrap_ci(x, "mean", reps=300, seed=0)
    assert est == lo == hi == pytest.approx(5.0)


def test_bootstrap_ci_coverage_close_to_nominal():
    # percentile CI of the mean of 40 normal draws covers the true mean ~95% of the time
    rng = np.random.default_rng(123)
    hits = 0
    trials = 200
    for t in range(trials):
        x = rng.normal(loc=2.0, size=40)
        _, lo, hi = stats.stratified_bootstrap_ci(x, "mean", reps=400, seed=t)
        hits += lo <= 2.0 <= hi
    assert 0.88 <= hits / trials <= 0.99


@pytest.mark.parametrize(
    "ci,rng_,expected",
    [
        ((3.2, 4.5), (3, 5), "holds"),
        ((5.5, 7.0), (3, 5), "fails"),
        ((1.0, 2.9), (3, 5), "fails"),
        ((2.5, 4.0), (3, 5), "inconclusive"),
        ((0.01, 0.2), (None, 0.05), "inconclusive"),
        ((-0.1, 0.04), (None, 0.05), "holds"),
        ((12.0, 20.0), (10, None), "holds"),
        ((float("nan"), 1.0), (0, 1), "inconclusive"),
    ],
)
def test_verdict(ci, rng_, expected):
    assert stats.verdict(*ci, *rng_) == expected


def test_bad_shapes_and_names_are_errors():
    with pytest.raises(ValueError, match="shaped"):
        stats.stratified_bootstrap_ci(np.zeros((2, 2, 2)))
    with pytest.raises(KeyError, match="unknown statistic 'mode'"):
        stats.stratified_bootstrap_ci(np.zeros(5), "mode")


def test_bootstrap_many_shares_draws_and_equals_one_at_a_time():
    rng = np.random.default_rng(3)
    a, b, c = rng.normal(size=(30, 2)), rng.normal(size=(30, 2)), rng.normal(size=12)
    scores = [a, a, b, c, a, np.empty((0, 2))]
    names = ["iqm", "mean", "median", "iqm", "iqm", "mean"]
    got = stats.bootstrap_many(scores, names, reps=700, seed=5, chunk=300)
    for x, s, g in zip(scores[:5], names[:5], got[:5]):
        assert g == stats.stratified_bootstrap_ci(x, s, reps=700, seed=5, chunk=300)
    assert got[0] == got[4]
    assert all(np.isnan(got[5]))


def test_side_of_a_failure():
    assert stats.side(6, 7, 3, 5) == "above" and stats.side(1, 2, 3, 5) == "below"
    assert stats.side(0.1, 0.2, None, 0.05) == "above" and stats.side(3.5, 4, 3, 5) == ""
    assert stats.side(2, 4, 3, 5) == ""


def test_median_ratio_closed_form_and_per_column_bootstrap():
    """Ratio of the two columns' medians; each column's runs are resampled on their own (two agents'
    independent seeds); +inf = censored run."""
    x = np.array([[4.0, 1.0], [6.0, 2.0], [8.0, 3.0]])
    assert stats.get_statistic("median_ratio")(x[None])[0] == 3.0
    assert stats.get_statistic("iqm_ratio")(x[None])[0] == 3.0  # 3 runs: the IQM keeps the middle one
    inf = np.inf
    cens = np.array([[inf, 1.0], [inf, 2.0], [8.0, 3.0]])
    assert stats.get_statistic("median_ratio")(cens[None])[0] == inf
    both = np.array([[inf, inf], [inf, inf], [8.0, 3.0]])
    assert np.isnan(stats.get_statistic("median_ratio")(both[None])[0])
    # the bootstrap draws rows per column independently: every replicate's column 0 median is one of
    # column 0's values, and the CI of a ratio whose columns are constant is that ratio exactly
    est, lo, hi = stats.stratified_bootstrap_ci(np.array([[6.0, 2.0]] * 5), "median_ratio", reps=200, seed=1)
    assert (est, lo, hi) == (3.0, 3.0, 3.0)
    # undefined replicates (both medians censored) widen the CI to [0, inf] rather than vanishing
    est, lo, hi = stats.stratified_bootstrap_ci(both, "median_ratio", reps=500, seed=2)
    assert np.isnan(est) and lo == 0.0 and hi == inf
    assert stats.verdict(lo, hi, 2, 3) == "inconclusive"
    with pytest.raises(ValueError, match=r"\(runs, 2\)"):
        stats.get_statistic("median_ratio")(np.ones((1, 4, 3)))


def test_percentile_ci_keeps_infinity_and_equals_numpy_on_finite():
    rng = np.random.default_rng(0)
    b = rng.normal(size=101)
    a = (1 - 0.95) / 2  # as the bootstrap computes it
    assert stats.percentile_ci(b, 0.95) == tuple(float(v) for v in np.quantile(b, [a, 1 - a]))
    b = np.r_[np.arange(10.0), [np.inf] * 10]
    lo, hi = stats.percentile_ci(b, 0.95)
    assert lo == pytest.approx(0.475) and hi == np.inf  # numpy: NaN (inf - inf) at the upper end
    assert all(np.isnan(stats.percentile_ci(np.r_[b, np.nan], 0.95)))  # NaN: undefined for non-ratios
