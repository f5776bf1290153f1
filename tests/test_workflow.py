"""The smoke workflow end to end: whole DAG, resume after an interrupt, byte-identical reruns."""

import pandas as pd
import pytest

from conftest import run_snakemake as _sm

pytestmark = pytest.mark.workflow


@pytest.fixture(scope="module")
def smoke(smoke_local):
    """The session's smoke run (tests/conftest.py), shared with the Slurm test's comparison."""
    return smoke_local


def test_smoke_produces_every_output(smoke):
    res = smoke / "results"
    claims = pd.read_csv(res / "claims" / "claims.tsv", sep="\t")
    assert list(claims.columns) == [
        "claim_id", "experiment", "source", "statement", "metric", "expected",
        "estimate", "ci_low", "ci_high", "n_seeds", "verdict", "robust", "scale", "budget_fraction", "kind",
        "learner_check",
    ]
    assert set(claims["verdict"]) <= {"holds", "fails", "inconclusive"}
    assert set(claims["scale"]) == {"smoke"}
    rob = pd.read_csv(res / "claims" / "robustness.tsv", sep="\t")
    assert list(rob.columns[:1]) == ["claim_id"] and list(rob.columns[-6:-2]) == ["estimate", "ci_low", "ci_high",
                                                                                  "verdict"]
    with_rob = set(rob["claim_id"])
    assert "options_speedup_fourrooms" in with_rob
    assert claims.set_index("claim_id").loc[sorted(with_rob), "robust"].between(0, 1).all()
    assert (res / "figures" / "claims_robustness_options_speedup_fourrooms.png").exists()
    assert {"options_speedup_fourrooms", "options_speedup_seedblog", "options_reuse_goals"} <= set(
        claims["claim_id"]
    )
    report = (res / "REPORT.md").read_text()
    assert "## Claims" in report and "options_speedup_fourrooms" in report
    assert report.splitlines()[0].startswith("**Smoke scale: these verdicts are not evidence**")
    for png in (res / "figures").glob("*.png"):
        assert png.stat().st_size > 5000, png
        assert f"figures/{png.name}" in report
    tables = sorted((res / "tables").glob("*.parquet"))
    assert tables
    for t in tables:
        df = pd.read_parquet(t)
        assert df["seed"].nunique() >= 1 and df["experiment"].nunique() == 1
    assert any((res / "benchmarks" / "train").rglob("*.tsv"))
    # every training job wrote its timing file: each seed's rows, wall and CPU seconds
    from hrlmeta.pipeline import read_timing

    timings = sorted((res / "benchmarks" / "train").rglob("*.json"))
    assert timings
    for t in timings:
        doc = read_timing(t)
        assert doc["seeds"] == [r["seed"] for r in doc["runs"]] and all(r["cpu_s"] >= 0 for r in doc["runs"])
        for s in doc["seeds"]:
            assert (res / "runs" / doc["experiment"] / doc["algo"] / f"seed{s}.parquet").exists()
    # the HTML report's front page: the claims, with links to their figures
    front = (res / "report" / "claims.rst").read_text()
    assert "options_speedup_fourrooms" in front and "`fourrooms_sutton_speedup.png`_" in front
    # the seed is in every run's path
    runs = list((res / "runs").rglob("*.parquet"))
    assert runs and all(p.name.startswith("seed") for p in runs)


def test_rerun_has_nothing_to_do(smoke):
    r = _sm(smoke, "-n")
    assert "Nothing to be done" in r.stdout + r.stderr


def _first_run(res, kind):
    """The first run file of an experiment whose tables are (episodic) / are not (meta) timing-free."""
    for run in sorted((res / "runs").rglob("seed*.parquet")):
        has_timing = "wall_s" in pd.read_parquet(run).columns
        if has_timing == (kind == "meta"):
            return run
    return None


@pytest.mark.parametrize("kind", ["episodic", "meta"])
def test_interrupted_run_resumes_and_is_deterministic(smoke, kind):
    """An interrupted workflow: one run and everything downstream of it are missing. Rerunning redoes
    only that (no other run is touched), and the result is byte-identical -- for meta-RL tables,
    identical apart from the measured wall_s timings."""
    from hrlmeta.tidy import without_measured

    res = smoke / "results"
    run = _first_run(res, kind)
    if run is None:
        pytest.skip(f"no {kind} experiment in the smoke config")
    experiment = run.parts[-3]
    table = res / "tables" / f"{experiment}.parquet"
    before_run, before_table = run.read_bytes(), table.read_bytes()
    # no other run is touched
    untouched = {p: p.stat().st_mtime_ns for p in (res / "runs").rglob("*.parquet") if p != run}
    for p in [run, table, res / "claims" / "claims.tsv", res / "REPORT.md",
              *(res / "figures").glob(f"{experiment}_*.png")]:
        p.unlink()
    r = _sm(smoke, "-n")
    plan = r.stdout + r.stderr
    # the job-stats table ("rule  count") appears at the start and the end of a dry run: the one
    # missing run is trained alone (`seed_run`), no training chunk reruns
    jobs = {tuple(line.split()) for line in plan.splitlines() if line.startswith(("train", "seed_run"))}
    assert jobs == {("seed_run", "1")}, plan
    _sm(smoke)
    assert {p: p.stat().st_mtime_ns for p in untouched} == untouched  # nothing else recomputed
    assert (res / "REPORT.md").exists()
    if kind == "episodic":
        assert run.read_bytes() == before_run
        assert table.read_bytes() == before_table
    else:
        import io

        old = pd.read_parquet(io.BytesIO(before_table))
        new = pd.read_parquet(table)
        pd.testing.assert_frame_equal(without_measured(old), without_measured(new))


def test_claims_are_decided_without_torch_or_gymnasium(smoke, tmp_path):
    """The smoke run's saved tables decided again in a process where torch and gymnasium cannot be imported:
    the same claims.tsv rows (deciding claims imports only the experiments' analysis)."""
    import json
    import subprocess
    import sys

    from hrlmeta.config import enabled_experiments, load_config
    from hrlmeta.experiments import REGISTRY

    cfg = load_config(REGISTRY, str(smoke / "config" / "smoke.yaml"))
    exps = enabled_experiments(cfg, REGISTRY)   # every one: no experiment's analysis needs torch
    cfg = {**cfg, "only": exps}
    tables = [f"{e}={smoke / 'results' / 'tables' / (e + '.parquet')}" for e in exps]
    out = tmp_path / "claims.tsv"
    args = ["claims", *[a for t in tables for a in ("--table", t)], "--out", str(out), "--notes", str(tmp_path / "n.json"),
            "--robustness", str(tmp_path / "r.tsv"), "--budget", str(tmp_path / "b.json"),
            "--samples", str(tmp_path / "s.json"), "--config-json", json.dumps(cfg)]
    code = ("import sys\nfor m in ('torch', 'gymnasium'):\n    sys.modules[m] = None\n"
            "from hrlmeta.cli import main\nsys.exit(main(sys.argv[1:]))\n")
    r = subprocess.run([sys.executable, "-c", code, *args], cwd=smoke, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-3000:]
    got = pd.read_csv(out, sep="\t").set_index("claim_id")
    want = pd.read_csv(smoke / "results" / "claims" / "claims.tsv", sep="\t").set_index("claim_id")
    assert set(got["experiment"]) == set(exps)
    pd.testing.assert_frame_equal(got, want.loc[got.index, got.columns], check_dtype=False)
