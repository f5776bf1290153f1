"""The claims engine on synthetic tables whose verdicts are known."""

import numpy as np
import pandas as pd
import pytest

from hrlmeta import claims
from hrlmeta.experiments import REGISTRY


def _claim(**kw):
    base = dict(
        id="synthetic_speedup",
        experiment="fourrooms_sutton",
        source="test",
        statement="B is 3-5x faster than A",
        metric="ratio A/B per seed",
        expected="3-5x",
        expected_range=[3, 5],
        measure="per_seed",
    )
    base.update(kw)
    return base


class FakeRegistry:
    """The registry the engine is handed: one experiment with the given measures."""

    def __init__(self, measures):
        self._measures = measures

    def measures(self, name):
        return self._measures

    def available(self):
        return ("fourrooms_sutton",)

    def claims_path(self, name):
        return None


def _fake_registry():
    ms = claims.Measures()

    @ms.register("per_seed")
    def per_seed(table, params, cp):
        per_seed = table.groupby("seed")["value"].mean()
        return claims.Samples(values=per_seed.to_numpy(), statistic="iqm", note="synthetic")

    return FakeRegistry(ms)


@pytest.mark.parametrize(
    "centre,expected",
    [(4.0, "holds"), (8.0, "fails"), (3.0, "inconclusive")],
)
def test_evaluate_synthetic_verdicts(monkeypatch, centre, expected):
    rng = np.random.default_rng(0)
    table = pd.DataFrame({"seed": np.arange(40), "value": centre + 0.2 * rng.standard_normal(40)})
    cfg = {"experiments": {"fourrooms_sutton": {"params": {}}}, "bootstrap": {"reps": 500, "seed": 1}}
    ev = claims.evaluate_all([_claim()], {"fourrooms_sutton": table}, cfg, _fake_registry())
    df, notes = ev.claims, ev.notes
    assert list(df.columns) == claims.COLUMNS
    row = df.iloc[0]
    assert row.verdict == expected
    assert row.ci_low <= row.estimate <= row.ci_high
    assert row.n_seeds == 40
    assert notes == {"synthetic_speedup": "synthetic"}
    assert row.kind == "experimental" and list(df.columns)[-2:] == ["kind", "learner_check"]
    df = claims.evaluate_all([_claim(kind="analytic")], {"fourrooms_sutton": table}, cfg, _fake_registry()).claims
    assert df.iloc[0].kind == "analytic"


def test_claims_of_experiments_without_tables_are_skipped(monkeypatch):
    df = claims.evaluate_all([_claim()], {}, {"experiments": {}}, _fake_registry()).claims
    assert df.empty


def test_load_claims_rejects_bad_declarations(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text("claims:\n  - id: x\n    experiment: e\n")
    with pytest.raises(claims.ClaimError, match="lacks"):
        claims.load_claims(p)
    p.write_text(
        "claims:\n  - {id: x, experiment: e, measure: m, source: s, statement: t, metric: m, expected: '1', "
        "expected_range: [5, 1]}\n"
    )
    with pytest.raises(claims.ClaimError, match="low 5 > high 1"):
        claims.load_claims(p)


HEAD = ("claims:\n  - {id: x, experiment: e, measure: m, source: s, statement: t, metric: m, expected: '1', "
        "expected_range: [1, 2], ")


@pytest.mark.parametrize("extra,match", [
    ("statment: typo", r"'x'.*statment: unknown key"),
    ("kind: guessed", r"'x'.*kind: 'guessed' is not one of"),
    ("expected_range: [1]", r"'x'.*expected_range"),
    ("statistic: trimmed", r"'x'.*statistic.*trimmed"),
    ("robustness: {vary: {statistic: [iqm]}, extra: 1}", r"'x'.*robustness.extra: unknown key"),
])
def test_unknown_or_bad_claim_keys_fail_naming_the_claim_and_key(tmp_path, extra, match):
    p = tmp_path / "c.yaml"
    p.write_text((HEAD + extra + "}\n").replace("expected_range: [1, 2], expected_range: [1]",
                                                 "expected_range: [1]"))
    with pytest.raises(claims.ClaimError, match=match):
        claims.load_claims(p)


def _measures():
    ms = claims.Measures()

    @ms.register("ratio", {"window": {"type": "integer", "minimum": 1}, "agent": {"type": "string"}},
                 required=["agent"])
    def ratio(table, params, cp):
        return claims.Samples(values=[1.0])

    return ms


def test_measure_names_and_parameters_are_validated_against_the_measure_schema():
    c = _claim(measure="ratio", params={"agent": "a", "window": 3})
    claims.check_measure(c, _measures())
    with pytest.raises(claims.ClaimError, match=r"'synthetic_speedup': measure: unknown measure 'ratoi'.*ratio"):
        claims.check_measure(_claim(measure="ratoi"), _measures())
    with pytest.raises(claims.ClaimError, match=r"'synthetic_speedup'.*params.windw: unknown key"):
        claims.check_measure(_claim(measure="ratio", params={"agent": "a", "windw": 3}), _measures())
    with pytest.raises(claims.ClaimError, match=r"'synthetic_speedup'.*'agent' is a required property"):
        claims.check_measure(_claim(measure="ratio", params={"window": 3}), _measures())
    # robustness paths and values are checked against the same schema
    bad_path = _claim(measure="ratio", params={"agent": "a"}, robustness={"vary": {"params.windw": [1, 2]}})
    with pytest.raises(claims.ClaimError, match=r"'synthetic_speedup'.*robustness.vary params.windw.*unknown key"):
        claims.check_measure(bad_path, _measures())
    bad_value = _claim(measure="ratio", params={"agent": "a"}, robustness={"vary": {"params.window": [1, 0]}})
    with pytest.raises(claims.ClaimError, match=r"robustness.vary params.window = \[0\].*minimum"):
        claims.check_measure(bad_value, _measures())


def test_declared_claims_are_valid_and_live_next_to_their_experiment():
    from hrlmeta.experiments import REGISTRY

    declared = claims.declared_claims(REGISTRY)  # validates every measure and parameter
    ids = [c["id"] for c in declared]
    assert len(ids) == len(set(ids)) >= 100
    for c in declared:
        assert c["experiment"] in REGISTRY.available(), c["id"]
        assert c["measure"] in REGISTRY.measures(c["experiment"]), c["id"]
    for stable in ("options_speedup_fourrooms", "options_speedup_seedblog", "options_reuse_goals",
                   "fomaml_perf_gap", "maxq_vs_random", "hiro_vs_flat", "meta_vs_transfer"):
        assert stable in ids


def test_an_extra_claims_file_adds_and_overrides(tmp_path):
    from hrlmeta.experiments import REGISTRY

    base = {c["id"]: c for c in claims.declared_claims(REGISTRY, check_measures=False)}
    over = dict(base["options_speedup_fourrooms"], expected_range=[2, 6])
    new = dict(base["options_speedup_fourrooms"], id="my_extra_claim")
    import yaml

    p = tmp_path / "extra.yaml"
    p.write_text(yaml.safe_dump({"claims": [over, new]}))
    got = claims.declared_claims(REGISTRY, p)
    by = {c["id"]: c for c in got}
    assert len(got) == len(base) + 1 and by["options_speedup_fourrooms"]["expected_range"] == [2, 6]
    assert [c["id"] for c in got].index("options_speedup_fourrooms") == list(base).index("options_speedup_fourrooms")
    bad = dict(new, id="bad", params={"agnt": "x"})
    p.write_text(yaml.safe_dump({"claims": [bad]}))
    with pytest.raises(claims.ClaimError, match=r"'bad'.*params.agnt: unknown key"):
        claims.declared_claims(REGISTRY, p)


# ----------------------------------------------------------------------------------------------
# robustness specifications, scale, budget
# ----------------------------------------------------------------------------------------------


def test_robustness_grid_is_the_product_and_the_union_of_subgrids():
    c = _claim(robustness={"vary": {"params.criterion.window": [1, 10], "statistic": ["iqm", "mean", "median"]}})
    grid = claims.robustness_grid(c)
    assert len(grid) == 6
    assert grid[0] == {"params.criterion.window": 1, "statistic": "iqm"}
    assert {(g["params.criterion.window"], g["statistic"]) for g in grid} == {
        (w, s) for w in (1, 10) for s in ("iqm", "mean", "median")}
    c = _claim(robustness={"vary": [
        {"params.w": [1], "statistic": ["iqm", "mean"]},
        {"params.w": [10, 20], "params.full": [False, True]},
        {"params.w": [1], "statistic": ["iqm"]},  # a duplicate of the first sub-grid's first spec
    ]})
    grid = claims.robustness_grid(c)
    assert len(grid) == 2 + 4
    assert {"params.w": 20, "params.full": True} in grid
    assert claims.robustness_grid(_claim()) == []


def test_set_dotted_copies_and_creates_intermediate_mappings():
    c = _claim(params={"criterion": {"window": 50, "tolerance": 1.0}, "agent": "x"})
    d = claims.set_dotted(c, "params.criterion.window", 20)
    assert d["params"]["criterion"] == {"window": 20, "tolerance": 1.0} and d["params"]["agent"] == "x"
    assert c["params"]["criterion"]["window"] == 50  # the original is untouched
    e = claims.set_dotted(_claim(), "params.criterion.full_window", True)
    assert e["params"] == {"criterion": {"full_window": True}}
    assert claims.set_dotted(c, "statistic", "median")["statistic"] == "median"
    with pytest.raises(claims.ClaimError, match="not a mapping"):
        claims.set_dotted(c, "params.agent.x", 1)


def test_load_claims_checks_robustness_and_budget(tmp_path):
    head = HEAD
    p = tmp_path / "c.yaml"
    p.write_text(head + "robustness: {vary: {statistic: [iqm, trimmed]}}}\n")
    with pytest.raises(KeyError, match="trimmed"):
        claims.load_claims(p)
    p.write_text(head + "robustness: {vary: {id: [a]}}}\n")
    with pytest.raises(claims.ClaimError, match="only 'statistic'"):
        claims.load_claims(p)
    p.write_text(head + "paper_budget: {value: 0, unit: steps, source: paper}}\n")
    with pytest.raises(claims.ClaimError, match="positive number"):
        claims.load_claims(p)
    p.write_text(head + "paper_budget: {value: 1.0e+6, unit: steps, source: paper}}\n")
    assert claims.load_claims(p)[0]["paper_budget"]["value"] == 1e6


def _shift_module(budget=None):
    """A registry whose measure ``per_seed``: per-seed value + claim param `shift` (default 0); counts its
    calls."""
    calls = []
    ms = claims.Measures()

    @ms.register("per_seed", {"shift": {"type": "number"}})
    def per_seed(table, params, cp):
        shift = cp.get("shift", 0.0)
        calls.append(shift)
        per_seed = table.groupby("seed")["value"].mean() + shift
        return claims.Samples(values=per_seed.to_numpy(), statistic="mean", note="shifted", budget=budget,
                              extra={"cost_s": 10.0})

    return FakeRegistry(ms), calls


def test_robust_share_on_a_constructed_case(monkeypatch):
    """Values ~4 (claimed 3-5): shift 0 and 0.5 hold, shift 5 fails above, shift -3.5 fails below, shift -1
    straddles 3 (inconclusive). Primary (shift 0) holds: robust = 2 of 5 shifts x 2 statistics."""
    rng = np.random.default_rng(0)
    # values 3.7 / 4.3 alternating: shift -1 puts the CI across the bound 3
    table = pd.DataFrame({"seed": np.arange(40)})
    table["value"] = 4.0 + np.where(table["seed"] % 2 == 0, 0.3, -0.3) + 0.01 * rng.standard_normal(40)
    mod, calls = _shift_module()
    c = _claim(params={"shift": 0.0},
               robustness={"vary": {"params.shift": [0.0, 0.5, 5.0, -3.5, -1.0], "statistic": ["mean", "median"]}})
    cfg = {"experiments": {"fourrooms_sutton": {"params": {}}}, "bootstrap": {"reps": 400, "seed": 1}}
    ev = claims.evaluate_all([c], {"fourrooms_sutton": table}, cfg, mod)
    rob = ev.robustness
    assert len(rob) == 10 and list(rob.columns) == ["claim_id", "params.shift", "statistic", *claims.ROBUSTNESS_TAIL]
    got = {(r["params.shift"], r["statistic"]): (r["verdict"], r["side"]) for _, r in rob.iterrows()}
    for st in ("mean", "median"):
        assert got[(0.0, st)] == ("holds", "") and got[(0.5, st)] == ("holds", "")
        assert got[(5.0, st)] == ("fails", "above") and got[(-3.5, st)] == ("fails", "below")
        assert got[(-1.0, st)][0] == "inconclusive"
    row = ev.claims.iloc[0]
    assert row.verdict == "holds" and row.robust == pytest.approx(4 / 10)
    # the primary specification is marked, and decided exactly as the primary
    prim = rob[rob["primary"]]
    assert list(zip(prim["params.shift"], prim["statistic"])) == [(0.0, "mean")]
    assert prim["estimate"].iloc[0] == row.estimate and prim["ci_low"].iloc[0] == row.ci_low
    # specifications differing only in the statistic are measured once (plus the primary's call, cached)
    assert sorted(calls) == sorted([0.0, 0.5, 5.0, -3.5, -1.0])
    sentence = claims.dependence_sentence(rob, c["id"], "holds")
    assert sentence.startswith("holds in 4/10 (the primary's verdict)")
    assert "fails (above) whenever shift = 5" in sentence and "fails (below) whenever shift = -3.5" in sentence
    # failures on the two sides are different verdicts: a fails-above primary agrees only with fails-above
    assert claims.dependence_sentence(rob, c["id"], "fails", "above").startswith("fails (above) in 2/10")


def test_dependence_sentence_names_a_threshold():
    rob = pd.DataFrame({"claim_id": "c", "w": [1, 10, 20, 50] * 2, "s": ["iqm"] * 4 + ["mean"] * 4,
                        "estimate": 1.0, "ci_low": 0.5, "ci_high": 1.5,
                        "verdict": ["holds", "holds", "fails", "fails"] * 2, "side": ["", "", "below", "below"] * 2,
                        "primary": False})
    s = claims.dependence_sentence(rob, "c", "holds")
    assert "holds in 4/8" in s and "fails (below) whenever w >= 20" in s and "holds whenever w <= 10" in s
    assert "by choice: w 1: 2/2, 10: 2/2, 20: 0/2, 50: 0/2." in s and "s iqm" not in s  # s does not matter
    assert claims.dependence_sentence(rob.assign(verdict="holds", side=""), "c", "holds").startswith(
        "holds in all 8 specifications")


def test_scale_detection():
    base = {"experiments": {"e": {"n_seeds": 30, "algos": ["a", "b"], "params": {"n": 2000, "device": "cpu"}}}}
    refs = {"default": base,
            "smoke": {"experiments": {"e": {"n_seeds": 3, "algos": ["a", "b"], "params": {"n": 60, "device": "cpu"}}}},
            "paper": {"experiments": {"e": {"n_seeds": 100, "algos": ["a", "b"], "params": {"n": 10000,
                                                                                           "device": "cpu"}}}}}

    def cfg(**block):
        return {"experiments": {"e": block}}

    assert claims.scale_of(base, "e", refs) == "default"
    # keys that do not change results are ignored: enabled, algos, threads, seeds_per_job, device, defaults
    assert claims.scale_of(cfg(n_seeds=3, algos=["a"], enabled=True, threads=4, seeds_per_job=3, first_seed=0,
                               params={"n": 60, "device": "cuda"}), "e", refs) == "smoke"
    assert claims.scale_of(cfg(n_seeds=100, algos=["a", "b"], params={"n": 10000}), "e", refs) == "paper"
    assert claims.scale_of(cfg(n_seeds=5, algos=["a", "b"], params={"n": 2000}), "e", refs) == "custom"
    assert claims.scale_of(cfg(n_seeds=30, first_seed=7, algos=["a"], params={"n": 2000}), "e", refs) == "custom"
    assert claims.scale_of(cfg(n_seeds=30, params={"n": 2000}), "other", refs) == "custom"


def test_scale_detection_on_the_repository_configs():
    from hrlmeta.config import load_config

    for overlay, scale in ((None, "default"), ("config/smoke.yaml", "smoke"), ("config/paper.yaml", "paper")):
        cfg = load_config(REGISTRY, *([overlay] if overlay else []))
        assert {claims.scale_of(cfg, e, registry=REGISTRY) for e in cfg["experiments"]} == {scale}, overlay


def test_budget_fraction_and_under_budget_rendering(monkeypatch):
    rng = np.random.default_rng(0)
    table = pd.DataFrame({"seed": np.arange(20), "value": 2.0 + 0.05 * rng.standard_normal(20)})
    mod, _ = _shift_module(budget=2.5e5)
    cfg = {"experiments": {"fourrooms_sutton": {"params": {}}}, "bootstrap": {"reps": 300, "seed": 1}}
    c = _claim(paper_budget={"value": 1e6, "unit": "env steps", "source": "paper"})
    ev = claims.evaluate_all([c, _claim(id="no_budget")], {"fourrooms_sutton": table}, cfg, mod)
    row = ev.claims.set_index("claim_id")
    assert row.loc["synthetic_speedup", "budget_fraction"] == pytest.approx(0.25)
    assert np.isnan(row.loc["no_budget", "budget_fraction"]) and np.isnan(row.loc["no_budget", "robust"])
    assert ev.budget["synthetic_speedup"]["cost_s"] == 10.0 and ev.budget["synthetic_speedup"]["falls_short"]
    assert row.loc["synthetic_speedup", "verdict"] == "fails"  # the tsv keeps the verdict
    # the rendering
    lab = claims.verdict_label
    assert lab("fails", 0.25, 2.0, [3, 5]) == claims.UNDER_BUDGET  # short of the claim, trained less
    assert lab("fails", 0.25, 8.0, [3, 5]) == "fails"  # faster than claimed: not a budget matter
    assert lab("fails", 1.0, 2.0, [3, 5]) == "fails"  # the paper's budget
    assert lab("fails", float("nan"), 2.0, [3, 5]) == "fails"  # budget unknown
    assert lab("fails", 0.5, 0.14, [None, 0.05]) == claims.UNDER_BUDGET  # a loss above an upper bound
    assert lab("holds", 0.25, 4.0, [3, 5]) == "holds" and lab("inconclusive", 0.25, 3.0, [3, 5]) == "inconclusive"
    assert lab("fails", 0.25) == claims.UNDER_BUDGET  # columns only: every under-budget failure
    assert lab("fails", 0.25, 2.0, [3, 5], binds=False) == "fails"  # no run was cut short by the budget


def test_report_renders_scale_robustness_and_budget(monkeypatch, tmp_path):
    from hrlmeta import report, speccurve

    rng = np.random.default_rng(0)
    table = pd.DataFrame({"seed": np.arange(20), "value": 2.0 + 0.05 * rng.standard_normal(20)})
    mod, _ = _shift_module(budget=2.5e5)
    cyaml = tmp_path / "claims.yaml"
    import yaml

    c = _claim(paper_budget={"value": 1e6, "unit": "env steps", "source": "paper"},
               robustness={"vary": {"params.shift": [0.0, 1.5, 3.0], "statistic": ["mean", "median"]}})
    cyaml.write_text(yaml.safe_dump({"claims": [c]}))
    cfg = {"claims": str(cyaml), "experiments": {"fourrooms_sutton": {"params": {}}},
           "bootstrap": {"reps": 300, "seed": 1}}
    ev = claims.evaluate_all([c], {"fourrooms_sutton": table}, cfg, mod)
    ev.claims["scale"] = "smoke"
    res = tmp_path / "results"
    claims.write_tsv(ev.claims, res / "claims" / "claims.tsv")
    claims.write_tsv(ev.robustness, res / "claims" / "robustness.tsv")
    (res / "claims" / "budget.json").write_text(__import__("json").dumps(ev.budget))
    figs = speccurve.write_figures(res / "claims" / "robustness.tsv", res / "claims" / "claims.tsv", [c],
                                   res / "figures")
    assert figs == [res / "figures" / "claims_robustness_synthetic_speedup.png"] and figs[0].stat().st_size > 5000
    text = report.build(cfg, res / "claims" / "claims.tsv", None, {}, res / "figures", res / "REPORT.md",
                        robustness_tsv=res / "claims" / "robustness.tsv", budget_json=res / "claims" / "budget.json",
                        registry=mod)
    assert text.splitlines()[0].startswith("**Smoke scale: these verdicts are not evidence**")
    assert "❌ fails (under budget)" in text
    assert "figures/claims_robustness_synthetic_speedup.png" in text
    assert "- `synthetic_speedup`: fails (below) in" in text
    assert "0.25 of it" in text and "needs about 40 s of one core per seed, 13 min for 20 seeds" in text
