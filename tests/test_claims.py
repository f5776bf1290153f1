"""The claims engine on synthetic tables whose verdicts are known."""

import types

import numpy as np
import pandas as pd
import pytest

from hrlmeta import claims


def _claim(**kw):
    base = dict(
        id="synthetic_speedup",
        experiment="fourrooms_sutton",
        source="test",
        statement="B is 3-5x faster than A",
        metric="ratio A/B per seed",
        expected="3-5x",
        expected_range=[3, 5],
    )
    base.update(kw)
    return base


def _fake_module(ratio_by_seed):
    def claim_samples(claim, table, params):
        per_seed = table.groupby("seed")["value"].mean()
        return claims.Samples(values=per_seed.to_numpy(), statistic="iqm", note="synthetic")

    return types.SimpleNamespace(KIND="episodic", ALGOS=("a",), train=None, claim_samples=claim_samples)


@pytest.mark.parametrize(
    "centre,expected",
    [(4.0, "holds"), (8.0, "fails"), (3.0, "inconclusive")],
)
def test_evaluate_synthetic_verdicts(monkeypatch, centre, expected):
    rng = np.random.default_rng(0)
    table = pd.DataFrame({"seed": np.arange(40), "value": centre + 0.2 * rng.standard_normal(40)})
    monkeypatch.setattr("hrlmeta.experiments.get", lambda name: _fake_module(None))
    cfg = {"experiments": {"fourrooms_sutton": {"params": {}}}, "bootstrap": {"reps": 500, "seed": 1}}
    df, notes = claims.evaluate([_claim()], {"fourrooms_sutton": table}, cfg)
    assert list(df.columns) == claims.COLUMNS
    row = df.iloc[0]
    assert row.verdict == expected
    assert row.ci_low <= row.estimate <= row.ci_high
    assert row.n_seeds == 40
    assert notes == {"synthetic_speedup": "synthetic"}


def test_claims_of_experiments_without_tables_are_skipped(monkeypatch):
    df, _ = claims.evaluate([_claim()], {}, {"experiments": {}})
    assert df.empty


def test_load_claims_rejects_bad_declarations(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text("claims:\n  - id: x\n    experiment: e\n")
    with pytest.raises(claims.ClaimError, match="lacks"):
        claims.load_claims(p)
    p.write_text(
        "claims:\n  - {id: x, experiment: e, source: s, statement: t, metric: m, expected: '1', "
        "expected_range: [5, 1]}\n"
    )
    with pytest.raises(claims.ClaimError, match="low 5 > high 1"):
        claims.load_claims(p)


def test_declared_claims_file_is_valid():
    declared = claims.load_claims("config/claims.yaml")
    ids = {c["id"] for c in declared}
    from hrlmeta import experiments

    for c in declared:
        assert c["experiment"] in experiments.EXPERIMENTS, c["id"]
    for stable in ("options_speedup_fourrooms", "options_speedup_seedblog", "options_reuse_goals"):
        assert stable in ids
