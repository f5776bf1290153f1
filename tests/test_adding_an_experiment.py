"""docs/adding-an-experiment.md is a recipe that works: its files, written to a scratch directory outside
the package and found through HRLMETA_EXPERIMENTS, make an experiment that trains, measures and decides its
claim by hand (fast) and as a smoke workflow with Snakemake (marked ``workflow``)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from hrlmeta.experiments import ENV_VAR, REGISTRY

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "adding-an-experiment.md"
NAME = "coin_bandit"


def doc_files() -> dict[str, str]:
    """{relative path: content} of every ``<!-- file: PATH -->`` code block of the page."""
    text = DOC.read_text()
    found = re.findall(r"<!-- file: (\S+) -->\n```[a-z]*\n(.*?)```", text, re.S)
    return {path: body for path, body in found}


def write_experiment(root: Path) -> tuple[Path, Path]:
    """The page's experiment folder under ``root/experiments`` and its config overlay; returns both."""
    files = doc_files()
    exps = root / "experiments"
    for rel, body in files.items():
        dest = (exps / rel) if rel.startswith(f"{NAME}/") else (root / rel)
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(body)
    return exps, root / "config" / f"{NAME}.yaml"


def test_the_page_has_every_file_of_the_recipe():
    files = doc_files()
    for f in ("experiment.yaml", "__init__.py", "schema.yaml", "measures.py", "claims.yaml", "figures.py"):
        assert f"{NAME}/{f}" in files, f
    assert f"config/{NAME}.yaml" in files


@pytest.fixture
def coin(tmp_path, monkeypatch):
    exps, overlay = write_experiment(tmp_path)
    monkeypatch.setenv(ENV_VAR, str(exps))
    return tmp_path, overlay


def test_train_measure_and_decide_without_snakemake(coin):
    """The contract by hand: describe -> validate the config -> train every seed -> table -> claims."""
    from hrlmeta import pipeline
    from hrlmeta.config import load_config

    root, overlay = coin
    d = REGISTRY.describe(NAME)
    assert d["kind"] == "episodic" and d["algos"] == ("uniform", "best_arm") and d["figures"] == ("reward",)
    assert REGISTRY.available()[-1] == NAME  # after the built-ins (default order)
    assert REGISTRY.cost_units(NAME, "uniform", {"pulls": 2000, "means": [0.3, 0.7]}) == 2000.0
    cfg = load_config(REGISTRY, overlay)
    block = cfg["experiments"][NAME]
    params = block["params"]
    assert params["report_digits"] == 3   # the schema's default, filled in by the loader
    # a misspelt parameter fails with the key named
    from hrlmeta.config import ConfigError

    bad = yaml.safe_load(overlay.read_text())
    bad["experiments"][NAME]["params"]["pull"] = 5
    (root / "bad.yaml").write_text(yaml.safe_dump(bad))
    with pytest.raises(ConfigError, match=rf"experiments.{NAME}.params.*pull.*unknown key"):
        load_config(REGISTRY, root / "bad.yaml")

    runs = []
    for algo in block["algos"]:
        for seed in range(block["n_seeds"]):
            out = root / "results" / "runs" / f"{algo}_seed{seed}.parquet"
            df = pipeline.train(NAME, algo, seed, params, out, REGISTRY)
            runs.append(str(out))
            if seed == 0:  # deterministic per seed
                again, = REGISTRY.trainer(NAME)(algo, [seed], params)
                assert np.array_equal(again["return"].to_numpy(), df["return"].to_numpy())
    table = pipeline.build_table(NAME, runs, root / "results" / "tables" / f"{NAME}.parquet", REGISTRY)
    assert len(table) == 2 * block["n_seeds"] * params["pulls"]
    # the measure on the table agrees with a direct computation
    from hrlmeta.claims import measure_claim

    (claim,) = [c for c in __import__("hrlmeta.claims", fromlist=["x"]).declared_claims(REGISTRY)
                if c["experiment"] == NAME]
    s = measure_claim(REGISTRY.measures(NAME), claim, table, params)
    want = table[table["algo"] == "uniform"].groupby("seed")["return"].mean().to_numpy()
    np.testing.assert_array_equal(s.values, want)
    # decided by the engine: the closed form (0.3 + 0.7) / 2 = 0.5 lies in the CI, the claim holds
    tsv = root / "results" / "claims" / "claims.tsv"
    df = pipeline.claims(cfg, {NAME: str(root / "results" / "tables" / f"{NAME}.parquet")}, tsv,
                         registry=REGISTRY)
    row = df.set_index("claim_id").loc["coin_bandit_uniform_mean"]
    assert row.verdict == "holds" and row.kind == "analytic" and row.n_seeds == block["n_seeds"]
    assert row.ci_low <= 0.5 <= row.ci_high
    assert list(pd.read_csv(tsv, sep="\t").columns[-2:]) == ["kind", "learner_check"]
    # the report section: report.md's prose rendered with report.py's values
    from hrlmeta.report import report_text

    text = "\n".join(report_text(REGISTRY, NAME, table, params))
    mean = table[table["algo"] == "uniform"]["return"].mean()
    assert "(p1 + p2) / 2 = 0.50." in text and f"- uniform: {mean:.3f} per pull" in text
    # the other experiments have no table: their claims are left out (or, where the config disables the
    # experiment, listed as not run: no seeds, inconclusive)
    others = df[df["experiment"] != NAME]
    assert (others["n_seeds"] == 0).all() and (others["verdict"] == "inconclusive").all()


def test_one_folder_is_the_whole_experiment(coin, capsys):
    """Writing the folder alone (no config overlay, no cost rate, no README edit) makes the experiment part
    of every run, with every built-in experiment still enabled: `hrlmeta list`, `hrlmeta plan` (priced from
    the folder's estimate), the generated README table, the config at each scale, and the claims table."""
    from hrlmeta import cli, pipeline
    from hrlmeta.config import enabled_experiments, load_config, with_folder_blocks
    from hrlmeta.readme import render_what_runs

    root, _ = coin
    builtin = [n for n in REGISTRY.available() if n != NAME]
    assert cli.main(["list"]) == 0 and NAME in capsys.readouterr().out
    cfg = load_config(REGISTRY)
    on = [n for n in builtin if cfg["experiments"][n].get("enabled", True)]   # as config/config.yaml has them
    assert len(on) >= 14 and enabled_experiments(cfg, REGISTRY) == [*on, NAME]
    block = cfg["experiments"][NAME]
    assert block["algos"] == ["uniform", "best_arm"] and block["n_seeds"] == 8 and block["params"]["pulls"] == 2000
    smoke = load_config(REGISTRY, ROOT / "config" / "smoke.yaml")
    assert smoke["experiments"][NAME]["params"] == {"means": [0.3, 0.7], "pulls": 500, "report_digits": 3}   # its smoke block
    # the config files override the folder, where they name the experiment
    over = with_folder_blocks({"experiments": {NAME: {"n_seeds": 3, "params": {"pulls": 10}}}}, REGISTRY)
    assert over["experiments"][NAME]["n_seeds"] == 3 and over["experiments"][NAME]["params"]["means"] == [0.3, 0.7]
    assert cli.main(["plan"]) == 0
    plan = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["plan"]
    assert set(on) <= set(plan) and plan[NAME]["unmeasured"] == []
    assert 0 < plan[NAME]["cpu_hours"] < 0.1
    assert f"`{NAME}`" in render_what_runs(REGISTRY)
    assert cli.main(["freeze"]) == 0 and (root / "experiments" / NAME / "claims.lock").exists()   # the recipe's step
    capsys.readouterr()
    assert cli.main(["check"]) == 0, capsys.readouterr()
    # the claims table of a run with every experiment enabled holds the new experiment's claim
    runs = []
    for algo in block["algos"]:
        for seed in range(block["n_seeds"]):
            out = root / "results" / "runs" / NAME / algo / f"seed{seed}.parquet"
            pipeline.train(NAME, algo, seed, block["params"], out, REGISTRY)
            runs.append(str(out))
    table = root / "results" / "tables" / f"{NAME}.parquet"
    pipeline.build_table(NAME, runs, table, REGISTRY)
    df = pipeline.claims(cfg, {NAME: str(table)}, root / "results" / "claims" / "claims.tsv", registry=REGISTRY)
    assert df.set_index("claim_id").loc["coin_bandit_uniform_mean"].verdict == "holds"


@pytest.mark.workflow
def test_the_smoke_dag_with_every_experiment_holds_the_new_one(tmp_path):
    """`snakemake -n` at smoke scale, every built-in experiment enabled, the folder written and nothing else:
    the DAG trains, tabulates and figures the new experiment beside all the others."""
    from conftest import copy_workflow

    work = copy_workflow(tmp_path / "work")
    exps, _ = write_experiment(tmp_path / "plugin")
    env = {**os.environ, ENV_VAR: str(exps)}
    r = subprocess.run([sys.executable, "-m", "snakemake", "-n", "--cores", "2", "--configfile", "config/smoke.yaml"],
                       cwd=work, env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-4000:]
    out = r.stdout
    for algo in ("uniform", "best_arm"):
        assert f"results/benchmarks/train/{NAME}/{algo}/seeds0-7.json" in out
    assert f"results/tables/{NAME}.parquet" in out and f"results/figures/{NAME}_reward.png" in out
    for name in REGISTRY.available():
        assert f"results/tables/{name}.parquet" in out, name


@pytest.mark.workflow
def test_smoke_workflow_of_the_new_experiment_alone(tmp_path):
    """The smoke DAG with only the new experiment enabled (an overlay), found through HRLMETA_EXPERIMENTS:
    training jobs, table, figure, claims and report, end to end."""
    from conftest import copy_workflow

    work = copy_workflow(tmp_path / "work")
    exps, overlay = write_experiment(tmp_path / "plugin")
    only = yaml.safe_load(overlay.read_text())
    for name in REGISTRY.available():
        if name != NAME:
            only["experiments"][name] = {"enabled": False}
    (work / "config" / "only_coin.yaml").write_text(yaml.safe_dump(only))
    env = {**os.environ, ENV_VAR: str(exps)}
    r = subprocess.run([sys.executable, "-m", "snakemake", "--cores", "2", "--configfile", "config/smoke.yaml",
                        "config/only_coin.yaml"], cwd=work, env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-4000:]
    res = work / "results"
    assert sorted(p.name for p in (res / "runs" / NAME).rglob("*.parquet")) == sorted(
        f"seed{s}.parquet" for s in range(8) for _ in ("uniform", "best_arm"))
    assert (res / "figures" / f"{NAME}_reward.png").stat().st_size > 1000
    claims = pd.read_csv(res / "claims" / "claims.tsv", sep="\t").set_index("claim_id")
    row = claims.loc["coin_bandit_uniform_mean"]
    # the overlay sets the folder's own default block (8 seeds, 2000 pulls) over its smoke block: default scale
    assert row.verdict == "holds" and row.kind == "analytic" and row.scale == "default"
    report = (res / "REPORT.md").read_text()
    assert f"## `{NAME}`" in report and "closed form (p1 + p2) / 2" in report
    assert not (res / "tables" / "fourrooms_sutton.parquet").exists()
    assert json.loads((res / "claims" / "notes.json").read_text())["coin_bandit_uniform_mean"].startswith("uniform")
