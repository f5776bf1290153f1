"""The intervals the report and the figures print come from the claims' bootstrap (the config's `bootstrap`
block), not from a bootstrap of their own."""

from __future__ import annotations

import numpy as np

from hrlmeta import stats
from hrlmeta.config import load_schema


def test_report_ci_uses_the_config_bootstrap_and_its_schema_defaults():
    x = np.random.default_rng(3).normal(size=12)
    props = load_schema("config")["properties"]["bootstrap"]["properties"]
    assert stats.REPORT_BOOTSTRAP == {k: props[k]["default"] for k in ("reps", "confidence", "seed")}
    assert stats.report_ci(x, "mean") == stats.stratified_bootstrap_ci(x, "mean", reps=2000, confidence=0.95,
                                                                       seed=20261121)
    with stats.bootstrap_settings({"reps": 300, "confidence": 0.9, "seed": 7}):
        got = stats.report_ci(x, "iqm")
    assert got == stats.stratified_bootstrap_ci(x, "iqm", reps=300, confidence=0.9, seed=7)
    assert stats.REPORT_BOOTSTRAP["reps"] == 2000          # restored after the block


def test_experiment_report_intervals_follow_the_settings():
    """bandits_duan's report table: the same numbers under another bootstrap seed give other interval ends."""
    from hrlmeta.experiments.bandits_duan.analysis import _ci

    v = np.random.default_rng(0).normal(size=8)
    with stats.bootstrap_settings({"seed": 1}):
        a = _ci(v)
    with stats.bootstrap_settings({"seed": 2}):
        b = _ci(v)
    assert a[0] == b[0] and (a[1], a[2]) != (b[1], b[2])
    with stats.bootstrap_settings({"seed": 1}):
        assert _ci(v) == stats.stratified_bootstrap_ci(v, "mean", reps=2000, confidence=0.95, seed=1)
