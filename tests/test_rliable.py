"""The claims' statistics proven against rliable (Agarwal et al. 2021, "Deep RL at the Edge of the Statistical
Precipice"; the PyPI package `rliable`): on the per-seed values several claims of a default run were decided on
(tests/data/default_claim_samples.json, copied from that run's results/claims/samples.json), the IQM equals
rliable's ``metrics.aggregate_iqm`` and the 95% stratified-bootstrap interval of ``hrlmeta.claims.decide``
agrees with rliable's ``library.get_interval_estimates`` (percentile method, runs resampled within each task)
within the Monte-Carlo error of the two bootstraps."""

import importlib
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from hrlmeta import claims as K
from hrlmeta import stats
from hrlmeta.experiments import REGISTRY

DATA = Path(__file__).parent / "data" / "default_claim_samples.json"
REPS = 4000


def _import_rliable():
    """rliable 1.2.0 admits arch < 8; arch 7.x decorates with pandas' ``deprecate_kwarg(old, new)``, which
    pandas 3 changed to ``deprecate_kwarg(klass, old, new)``. Where that import fails, the warning class is
    supplied for arch's calls (a shim for this test's import only)."""
    try:
        return importlib.import_module("rliable.library"), importlib.import_module("rliable.metrics")
    except TypeError:
        for name in [m for m in sys.modules if m == "arch" or m.startswith(("arch.", "rliable"))]:
            del sys.modules[name]
        import pandas.util._decorators as dec

        orig = dec.deprecate_kwarg
        dec.deprecate_kwarg = lambda old, new, *a, **k: orig(FutureWarning, old, new, *a, **k)
        try:
            return importlib.import_module("rliable.library"), importlib.import_module("rliable.metrics")
        finally:
            dec.deprecate_kwarg = orig


rly, metrics = _import_rliable()
DECLARED = {c["id"]: c for c in K.declared_claims(REGISTRY, check_measures=False)}
SAMPLES = json.loads(DATA.read_text())["samples"]
#: rliable's aggregate for each of our statistics over all runs x tasks (rliable's own aggregate_median is
#: the median of per-task means, a different quantity: the median over all scores is passed as a function)
RLIABLE = {"iqm": lambda x: metrics.aggregate_iqm(x), "mean": lambda x: float(np.mean(x)),
           "median": lambda x: float(np.median(x))}


def _values(cid):
    return np.asarray([[float(v) for v in row] for row in SAMPLES[cid]["values"]], dtype=float)


def test_the_data_are_claims_of_this_checkout_with_several_shapes():
    assert len(SAMPLES) >= 4
    assert set(SAMPLES) <= set(DECLARED)
    stat_names = {SAMPLES[c]["statistic"] for c in SAMPLES}
    assert "iqm" in stat_names
    assert any(_values(c).shape[1] > 1 for c in SAMPLES), "at least one claim with several strata"


@pytest.mark.parametrize("cid", sorted(SAMPLES))
def test_iqm_equals_rliable(cid):
    x = _values(cid)
    assert np.isfinite(x).all()
    np.testing.assert_allclose(stats.iqm(x[None])[0], metrics.aggregate_iqm(x), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("cid", sorted(SAMPLES))
def test_interval_agrees_with_rliable(cid):
    x = _values(cid)
    statistic = SAMPLES[cid]["statistic"]
    claim = DECLARED[cid]
    assert claim.get("statistic", statistic) == statistic  # the statistic the claim is decided with
    ours = K.decide(claim, K.Samples(values=x, statistic=statistic), reps=REPS, confidence=0.95, seed=11)
    fn = RLIABLE[statistic]
    point, interval = rly.get_interval_estimates({cid: x}, lambda s: np.array([fn(s)]), method="percentile",
                                                 reps=REPS, confidence_interval_size=0.95,
                                                 random_state=np.random.RandomState(7))
    np.testing.assert_allclose(ours["estimate"], point[cid][0], rtol=1e-12, atol=1e-12)
    lo_r, hi_r = interval[cid][:, 0]
    # Monte-Carlo error of an interval end at REPS resamples: spread of our own ends over independent seeds;
    # with few seeds the bootstrap distribution is discrete, and the two libraries' percentile interpolations
    # may land anywhere between the order statistics around the 2.5% / 97.5% points, whose position a
    # bootstrap of REPS resamples knows to sqrt(q (1 - q) / REPS): three of those on either side are allowed too
    ends = np.array([stats.stratified_bootstrap_ci(x, statistic, reps=REPS, seed=s)[1:] for s in range(6)])
    sd = ends.std(axis=0, ddof=1)
    rng = np.random.default_rng(5)
    idx = rng.integers(0, x.shape[0], size=(REPS, *x.shape))
    boot = stats.get_statistic(statistic)(x[idx, np.arange(x.shape[1])])
    gap = np.array([np.quantile(boot, q, method="higher") - np.quantile(boot, q, method="lower")
                    + abs(np.quantile(boot, q + d) - np.quantile(boot, q - d))
                    for q in (0.025, 0.975) for d in [3 * np.sqrt(q * (1 - q) / REPS)]])
    scale = max(float(np.abs(x).max()), 1e-12)
    tol = 5 * np.sqrt(2) * sd + gap + 1e-9 * scale
    assert abs(ours["ci_low"] - lo_r) <= tol[0], (ours["ci_low"], lo_r, tol[0])
    assert abs(ours["ci_high"] - hi_r) <= tol[1], (ours["ci_high"], hi_r, tol[1])


def test_rliable_resamples_within_strata_as_we_do():
    """Two strata with disjoint values: a stratified bootstrap keeps each stratum's share in every resample,
    so the mean's interval is far narrower than an unstratified one; both libraries agree on it."""
    rng = np.random.default_rng(3)
    x = np.stack([rng.normal(0, 1, 12), rng.normal(100, 1, 12)], axis=1)
    _, lo, hi = stats.stratified_bootstrap_ci(x, "mean", reps=REPS, seed=0)
    _, interval = rly.get_interval_estimates({"x": x}, lambda s: np.array([np.mean(s)]), reps=REPS,
                                             random_state=np.random.RandomState(0))
    assert hi - lo < 1.0  # unstratified: ~ +-14 around 50
    np.testing.assert_allclose([lo, hi], interval["x"][:, 0], atol=0.1)
