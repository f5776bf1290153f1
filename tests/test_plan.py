"""`hrlmeta plan`: jobs and CPU-hours of a config, from measured per-unit costs."""

import json
import math
import subprocess
import sys

import pytest

from hrlmeta import plan
from hrlmeta.config import ROOT, load_config
from hrlmeta.experiments import REGISTRY


@pytest.fixture(scope="module")
def smoke_cfg():
    return load_config(REGISTRY, ROOT / "config" / "smoke.yaml")


def test_job_count_equals_the_workflows(smoke_cfg):
    """The plan's job count is the number of jobs Snakemake schedules for the same config."""
    r = subprocess.run([sys.executable, "-m", "snakemake", "-n", "--forceall", "--configfile",
                        "config/smoke.yaml"], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
    total = next(int(line.split()[1]) for line in r.stdout.splitlines() if line.startswith("total "))
    assert plan.plan(smoke_cfg, {"experiments": {}}, registry=REGISTRY)["total_jobs"] == total - 1  # minus the target `all`


def test_calibrate_divides_measured_cpu_by_units(tmp_path, smoke_cfg):
    """Calibration reads the training jobs' timing files (`hrlmeta train --timing`), not their logs."""
    from hrlmeta.pipeline import write_timing

    params = smoke_cfg["experiments"]["fourrooms_sutton"]["params"]
    job = tmp_path / "benchmarks" / "train" / "fourrooms_sutton" / "flat_q" / "seeds0-2.json"
    write_timing(job, "fourrooms_sutton", "flat_q",
                 [{"seed": s, "rows": 120, "wall_s": 9.1, "cpu_s": cpu} for s, cpu in ((0, 1.5), (1, 2.5), (2, 2.0))])
    (job.parent / "seeds0-2.log").write_text("fourrooms_sutton/flat_q/seed0: 1 rows in 1s (99 CPU-s)\n")  # ignored
    costs = plan.calibrate(tmp_path, smoke_cfg, measured_on="test", registry=REGISTRY)
    u = plan.units("fourrooms_sutton", "flat_q", params, REGISTRY)
    assert u == len(params["main_goals"] + params["reuse_goals"]) * params["n_episodes"]
    rate = costs["experiments"]["fourrooms_sutton"]["cpu_s_per_unit"]["flat_q"]
    assert rate == pytest.approx(6.0 / (3 * u), rel=1e-5)
    assert costs["experiments"]["fourrooms_sutton"]["seeds_measured"]["flat_q"] == 3
    (job.parent / "bad.json").write_text("{}")
    with pytest.raises(ValueError, match="bad.json"):
        plan.calibrate(tmp_path, smoke_cfg, registry=REGISTRY)
    (job.parent / "bad.json").unlink()
    # the estimate for a config is seeds x units x rate (+ start-up per job), minutes x safety for Slurm
    n = smoke_cfg["experiments"]["fourrooms_sutton"]["n_seeds"]
    est = plan.plan(smoke_cfg, costs, registry=REGISTRY)["plan"]["fourrooms_sutton"]
    assert est["per_algo"]["flat_q"] == pytest.approx((n * u * rate + plan.STARTUP_CPU_S) / 3600, abs=1e-4)
    assert est["unmeasured"] == ["smdp_q_options", "smdp_q_mixed", "intra_option_q"]
    big = {**smoke_cfg, "experiments": {**smoke_cfg["experiments"], "fourrooms_sutton": {
        **smoke_cfg["experiments"]["fourrooms_sutton"], "params": {**params, "n_episodes": 10**7}}}}
    mins = plan.job_minutes(big, "fourrooms_sutton", "flat_q", 3, costs, registry=REGISTRY)
    assert mins == math.ceil(plan.SAFETY * (3 * rate * u / params["n_episodes"] * 10**7 + plan.STARTUP_CPU_S) / 60)
    assert plan.job_minutes(smoke_cfg, "fourrooms_sutton", "intra_option_q", 3, costs, registry=REGISTRY) == plan.UNMEASURED_MINUTES


def test_memory_requests_come_from_measured_peaks(tmp_path, smoke_cfg):
    """A job's mem_mb is its algorithm's largest measured peak RSS x MEM_SAFETY: from the timing file's
    peak_rss_mb, else from max_rss of Snakemake's benchmark file of the same job; unmeasured: the fallback."""
    from hrlmeta.pipeline import read_timing, write_timing

    base = tmp_path / "benchmarks" / "train" / "fourrooms_sutton"
    runs = [{"seed": 0, "rows": 1, "wall_s": 1.0, "cpu_s": 1.0}]
    write_timing(base / "flat_q" / "seed0.json", "fourrooms_sutton", "flat_q", runs, peak_rss_mb=812.34)
    write_timing(base / "flat_q" / "seed1.json", "fourrooms_sutton", "flat_q", runs, peak_rss_mb=640.0)
    assert read_timing(base / "flat_q" / "seed0.json")["peak_rss_mb"] == 812.3
    write_timing(base / "intra_option_q" / "seed0.json", "fourrooms_sutton", "intra_option_q", runs)   # older file
    (base / "intra_option_q" / "seed0.tsv").write_text("s\th:m:s\tmax_rss\tmax_vms\n3.1\t0:00:03\t1450.5\t2000\n")
    write_timing(base / "smdp_q_mixed" / "seed0.json", "fourrooms_sutton", "smdp_q_mixed", runs)      # no peak at all
    costs = plan.calibrate(tmp_path, smoke_cfg, registry=REGISTRY)
    peaks = costs["experiments"]["fourrooms_sutton"]["peak_rss_mb"]
    assert peaks == {"flat_q": 812.3, "intra_option_q": 1450.5}
    assert plan.job_mem_mb("fourrooms_sutton", "flat_q", costs) == 1300           # 1.5 x 812.3 = 1218.5 -> 1300
    assert plan.job_mem_mb("fourrooms_sutton", "intra_option_q", costs) == 2200   # 1.5 x 1450.5 -> 2200
    assert plan.job_mem_mb("fourrooms_sutton", "smdp_q_mixed", costs) == plan.UNMEASURED_MEM_MB
    costs["experiments"]["fourrooms_sutton"]["peak_rss_mb"]["flat_q"] = 10.0
    assert plan.job_mem_mb("fourrooms_sutton", "flat_q", costs) == plan.MIN_MEM_MB
    merged = plan.merge_costs({"experiments": {"fourrooms_sutton": {"cpu_s_per_unit": {"x": 1.0}, "peak_rss_mb": {"x": 5.0}}}},
                              costs)
    assert merged["experiments"]["fourrooms_sutton"]["peak_rss_mb"] == {"x": 5.0, **peaks, "flat_q": 10.0}


def test_every_default_job_has_a_measured_peak_and_the_profile_respects_threads():
    import yaml

    from hrlmeta.config import ROOT, load_config

    cfg = load_config(REGISTRY)
    costs = plan.load_costs()
    for exp in cfg["experiments"]:
        if not cfg["experiments"][exp].get("enabled", True):
            continue
        for algo in cfg["experiments"][exp]["algos"]:
            assert algo in costs["experiments"][exp]["peak_rss_mb"], (exp, algo)
            assert plan.MIN_MEM_MB <= plan.job_mem_mb(exp, algo, costs) < plan.UNMEASURED_MEM_MB
    profile = yaml.safe_load((ROOT / "profiles" / "slurm" / "config.yaml").read_text())
    assert "cpus_per_task" not in profile.get("default-resources", {})   # it would override every rule's threads


def test_cli_prints_json_plan_for_the_paper_scale():
    r = subprocess.run([sys.executable, "-m", "hrlmeta", "plan", "--configfile", "config/paper.yaml"],
                       cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout.strip().splitlines()[-1])
    cfg = load_config(REGISTRY, ROOT / "config" / "paper.yaml")
    assert set(out["plan"]) == {e for e, b in cfg["experiments"].items() if b.get("enabled", True)}
    assert out["total_cpu_hours"] == pytest.approx(sum(r["cpu_hours"] for r in out["plan"].values()), abs=0.01)
    assert all(isinstance(r["jobs"], int) and r["jobs"] > 0 for r in out["plan"].values())


def test_marginal_rate_bench_writes_rates_and_keeps_the_rest(tmp_path, monkeypatch):
    """`bench marginal_rate` trains one seed at two sizes, prices both with the experiment's cost units, and
    --write merges the marginal rate (with how it was measured) into a costs file without dropping other
    entries; a later whole-run calibration of other experiments keeps that note. The CPU clock is replaced
    by a fixed sequence (1 CPU-s for the first run, 2 for the second), so the rate is known exactly."""
    import types

    import yaml

    from hrlmeta import plan
    from hrlmeta.bench import marginal_rate

    ticks = iter([0.0, 1.0, 10.0, 12.0])
    monkeypatch.setattr(marginal_rate, "time", types.SimpleNamespace(process_time=lambda: next(ticks)))
    costs = tmp_path / "costs.yaml"
    costs.write_text("# header kept\nexperiments:\n  taxi_maxq:\n    cpu_s_per_unit: {flat_q: 1.0e-06}\n")
    out = marginal_rate.main(["--experiment", "chain_hdqn", "--algos", "q_learning", "--param", "n_episodes",
                              "--values", "100", "200", "--configfile", "config/smoke.yaml", "--set", "final_episodes=50", "--write",
                              "--costs", str(costs)])
    r = out["algos"]["q_learning"]
    assert r["units"] == [100, 200] and r["cpu_s"] == [1.0, 2.0]
    assert r["marginal_cpu_s_per_unit"] == pytest.approx(1.0 / 100)
    doc = yaml.safe_load(costs.read_text())
    assert costs.read_text().startswith("# header kept")
    assert doc["experiments"]["taxi_maxq"]["cpu_s_per_unit"] == {"flat_q": 1.0e-06}
    entry = doc["experiments"]["chain_hdqn"]
    assert entry["cpu_s_per_unit"]["q_learning"] == pytest.approx(0.01)
    assert "--values 100 200" in entry["marginal_rate"]["command"]
    merged = plan.merge_costs(doc, {"experiments": {"taxi_maxq": {"cpu_s_per_unit": {"flat_q": 2.0e-06}}}})
    assert merged["experiments"]["chain_hdqn"]["marginal_rate"] == entry["marginal_rate"]
    assert merged["experiments"]["chain_hdqn"]["cpu_s_per_unit"]["q_learning"] == pytest.approx(0.01)
