"""Every experiment of the registry keeps the contract the workflow relies on, at its smoke-scale params
and one seed, in process (no Snakemake): each algorithm trains and writes a valid run table, the runs
concatenate into a valid tidy table, every figure its experiment.yaml names is drawn, and every claim
it declares is measured on that table (a verdict, not an error)."""

import pandas as pd
import pytest

from hrlmeta import pipeline, tidy
from hrlmeta.claims import declared_claims, evaluate_all
from hrlmeta.config import ROOT, load_config
from hrlmeta.experiments import REGISTRY

SEED = 0


@pytest.fixture(scope="module")
def smoke_cfg():
    return load_config(REGISTRY, ROOT / "config" / "smoke.yaml")


@pytest.fixture(scope="module")
def claims_by_experiment():
    out: dict[str, list[dict]] = {}
    for c in declared_claims(REGISTRY):
        out.setdefault(c["experiment"], []).append(c)
    return out


@pytest.mark.parametrize("experiment", REGISTRY.available())
def test_experiment_trains_tabulates_draws_and_measures(experiment, smoke_cfg, claims_by_experiment, tmp_path):
    block = smoke_cfg["experiments"][experiment]
    params = block.get("params", {})
    desc = REGISTRY.describe(experiment)
    runs = []
    for algo in block["algos"]:
        out = tmp_path / "runs" / algo / f"seed{SEED}.parquet"
        timings: list[dict] = []
        df = pipeline.train(experiment, algo, SEED, params, out, REGISTRY, timings=timings)
        assert out.exists() and len(df) and set(df["algo"]) == {algo} and set(df["seed"]) == {SEED}
        tidy.validate(tidy.read_parquet(out), desc["kind"], where=str(out))
        assert timings == [{"seed": SEED, "rows": len(df), "wall_s": timings[0]["wall_s"],
                            "cpu_s": timings[0]["cpu_s"]}]
        runs.append(str(out))
    table_path = tmp_path / "table.parquet"
    table = pipeline.build_table(experiment, runs, table_path, REGISTRY)
    assert set(table["algo"]) == set(block["algos"])

    drawn = pipeline.figures(experiment, table_path, params, tmp_path / "figures", REGISTRY)
    assert [p.name for p in drawn] == [f"{experiment}_{n}.png" for n in desc["figures"]]
    assert all(p.stat().st_size > 1000 for p in drawn)

    declared = claims_by_experiment.get(experiment, [])
    cfg = {**smoke_cfg, "experiments": {experiment: {**block, "n_seeds": 1}}}
    ev = evaluate_all(declared, {experiment: tidy.read_parquet(table_path)}, cfg, REGISTRY)
    assert list(ev.claims["claim_id"]) == [c["id"] for c in declared]
    assert set(ev.claims["verdict"]) <= {"holds", "fails", "inconclusive"}
    assert isinstance(ev.claims, pd.DataFrame)
