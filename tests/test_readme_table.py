"""README.md's claims table is generated from a claims.tsv (docs/claims_default.tsv, the default-scale
snapshot it was made from) by `hrlmeta readme-table`; it must equal what that renders."""

import shutil
import subprocess
import sys

import pandas as pd
import pytest

from hrlmeta import cli, readme
from hrlmeta.experiments import REGISTRY


def test_readme_table_is_the_rendering_of_the_snapshot():
    text = readme.README.read_text()
    want = readme.render_snapshot(registry=REGISTRY)
    assert readme.current_block(text) == want, (
        "README.md's claims table differs from docs/claims_default.tsv; regenerate it from a default-scale "
        "run with `hrlmeta readme-table --claims results/claims/claims.tsv` (never edit it by hand)")


def test_snapshot_lists_exactly_the_readme_claims_with_their_declared_expectations():
    snap = readme.read_claims(readme.SNAPSHOT)
    ids = [it["id"] for it in readme.load_listing()]
    assert list(snap["claim_id"]) == ids
    from hrlmeta.claims import declared_claims

    declared = {c["id"]: c for c in declared_claims(REGISTRY, check_measures=False)}
    for _, r in snap.iterrows():
        assert r["expected"] == str(declared[r["claim_id"]]["expected"]), r["claim_id"]
        assert r["verdict"] in ("holds", "fails", "inconclusive")


def _row(cid, est, lo, hi, verdict, **extra):
    return {"claim_id": cid, "experiment": "x", "source": "s", "statement": "st", "metric": "m",
            "expected": "6.7 (+-2.5%)", "estimate": est, "ci_low": lo, "ci_high": hi, "n_seeds": 4,
            "verdict": verdict, **extra}


def test_render_verdicts_with_and_without_budget_columns():
    ranges = {"a": (6.5, 6.9), "b": (6.5, 6.9), "c": (6.5, 6.9), "d": (0.5, None)}
    listing = [{"id": k} for k in ranges]
    plain = pd.DataFrame([_row("a", 6.4, 6.3, 6.45, "fails"), _row("b", 7.5, 7.2, 7.8, "fails"),
                          _row("c", 6.6, 6.45, 6.7, "inconclusive"), _row("d", 0.1, 0.06, 0.2, "fails")])
    out = readme.render(plain, listing, ranges)
    rows = [ln for ln in out.splitlines() if ln.startswith("| `")]
    assert rows[0].endswith("| fails |")                        # no budget column: plain verdict
    assert rows[1].endswith("| fails (above the claimed range) |")
    assert rows[2].endswith("| inconclusive |")
    budget = plain.assign(robust=[1.0, 0.5, None, None], scale="default", budget_fraction=[0.03, 0.03, 0.03, None])
    rows = [ln for ln in readme.render(budget, listing, ranges).splitlines() if ln.startswith("| `")]
    assert rows[0].endswith("| fails (under budget) |")         # short of the claim at 3% of the budget
    assert rows[1].endswith("| fails (above the claimed range) |")  # above: the budget excuses nothing
    assert rows[3].endswith("| fails |")                         # short of the claim, unknown budget
    full = budget.assign(budget_fraction=[1.0, 1.0, 1.0, 1.0])
    assert [ln for ln in readme.render(full, listing, ranges).splitlines() if ln.startswith("| `")][0].endswith(
        "| fails |")
    assert "Scale of these runs: default." in readme.render(budget, listing, ranges)


def test_render_refuses_a_claims_tsv_without_a_listed_claim():
    with pytest.raises(KeyError, match="lacks"):
        readme.render(pd.DataFrame([_row("a", 1, 0, 2, "holds")]), [{"id": "a"}, {"id": "zz"}], {"a": (0, 3)})


def test_command_writes_what_render_gives_and_is_idempotent(tmp_path):
    """`hrlmeta readme-table` on the snapshot rewrites a stale README block into exactly render(snapshot)."""
    rd = tmp_path / "README.md"
    stale = readme.BEGIN + "\n| old | table |\n" + readme.END
    rd.write_text("# title\n\nbefore\n\n" + stale + "\n\nafter\n")
    snap = tmp_path / "snap.tsv"
    shutil.copy(readme.SNAPSHOT, tmp_path / "claims.tsv")
    args = ["readme-table", "--claims", str(tmp_path / "claims.tsv"), "--readme", str(rd), "--snapshot", str(snap)]
    r = subprocess.run([sys.executable, "-m", "hrlmeta", *args], capture_output=True, text=True)  # as a user runs it
    assert r.returncode == 0, r.stderr
    text = rd.read_text()
    want = readme.render(readme.read_claims(readme.SNAPSHOT), readme.load_listing(), registry=REGISTRY)
    assert text == "# title\n\nbefore\n\n" + want + "\n\nafter\n"
    assert snap.read_text() == readme.SNAPSHOT.read_text()
    assert not snap.with_suffix(".note.md").exists()
    assert cli.main(args) == 0  # the later runs in this process (seconds saved, same code path)
    assert rd.read_text() == text
    # a provenance note goes under the table and beside the snapshot; a later run without it drops it
    assert cli.main(args + ["--note", "Partial: rows X from run Y."]) == 0
    assert "Partial: rows X from run Y.\n\n" + readme.END in rd.read_text()
    assert snap.with_suffix(".note.md").read_text() == "Partial: rows X from run Y.\n"
    assert readme.render_snapshot(snap, snap.with_suffix(".note.md"), registry=REGISTRY) == readme.current_block(rd.read_text())
    assert cli.main(args) == 0
    assert rd.read_text() == text and not snap.with_suffix(".note.md").exists()


def test_paper_scale_table_is_the_rendering_of_its_snapshot():
    begin, _, snapshot = readme.BLOCKS["paper"]
    text = readme.README.read_text()
    assert begin in text and snapshot.exists()
    want = readme.render_snapshot(snapshot, snapshot.with_suffix(".note.md"), block="paper", registry=REGISTRY)
    assert readme.current_block(text, "paper") == want, (
        "README.md's paper-scale table differs from docs/claims_paper.tsv; regenerate it with "
        "`hrlmeta readme-table --block paper --claims results/claims/claims.tsv` after a paper-scale run")
    snap = readme.read_claims(snapshot)
    assert set(snap["scale"]) == {"paper"} and (snap["n_seeds"] > 0).all()


def test_wall_time_claims_are_labelled_as_measured_timings():
    timing = readme.timing_claims(REGISTRY)
    assert {"fomaml_cost_ratio", "directed_maml_compute"} <= timing
    block = readme.current_block(readme.README.read_text())
    for ln in block.splitlines():
        if ln.startswith("| `"):
            cid = ln.split("`")[1]
            assert ln.endswith(f"({readme.TIMING_LABEL}) |") == (cid in timing), ln
    assert f"*{readme.TIMING_LABEL}*" in block


def test_differences_compare_every_claim_exactly_except_measured_timings():
    snap = readme.read_claims(readme.SNAPSHOT)
    assert readme.differences(snap, registry=REGISTRY) == []
    rerun = snap.copy()
    timing = sorted(readme.timing_claims(REGISTRY) & set(snap["claim_id"]))
    assert timing
    rerun.loc[rerun["claim_id"].isin(timing), ["estimate", "ci_low", "ci_high"]] *= 1.37  # another machine
    assert readme.differences(rerun, registry=REGISTRY) == []
    other = rerun["claim_id"] == "maml_adaptation_gain"
    rerun.loc[other, "estimate"] = float(rerun.loc[other, "estimate"].iloc[0]) * (1 + 1e-5)  # 6th digit
    assert [d.split(":")[0] for d in readme.differences(rerun, registry=REGISTRY)] == ["maml_adaptation_gain"]
    flipped = snap.copy()
    flipped.loc[flipped["claim_id"] == "maml_adaptation_gain", "verdict"] = "inconclusive"
    assert "verdict holds -> inconclusive" in readme.differences(flipped, registry=REGISTRY)[0]
    assert readme.differences(snap[snap["claim_id"] != "maml_adaptation_gain"], registry=REGISTRY) == ["maml_adaptation_gain: missing"]


def test_report_labels_measured_timings_too():
    from types import SimpleNamespace

    from hrlmeta import report

    r = SimpleNamespace(claim_id="fomaml_cost_ratio", verdict="fails", estimate=2.0, ci_low=1.9, ci_high=2.1)
    ranges = {"fomaml_cost_ratio": (8, 12)}
    labelled = report.verdict_text(r, ranges, timing={"fomaml_cost_ratio"})
    assert labelled == report.verdict_text(r, ranges) + f" ({report.TIMING_LABEL})"
    assert report.TIMING_LABEL not in report.verdict_text(r, ranges, timing={"other"})
    table = report.claims_markdown(pd.DataFrame([_row("fomaml_cost_ratio", 2.0, 1.9, 2.1, "fails")]), ranges,
                                   timing=readme.timing_claims(REGISTRY))
    assert report.TIMING_LABEL in table


def test_what_runs_table_is_generated_from_the_experiment_folders():
    """README's "What runs" table is rendered from each folder's experiment.yaml (its `readme` row text and
    `algos`): a new folder appears in it by `hrlmeta readme-table`, without editing README.md by hand."""
    text = readme.README.read_text()
    assert readme.what_runs_block(text) == readme.render_what_runs(REGISTRY), (
        "README.md's \"What runs\" table differs from the experiment folders; regenerate it with "
        "`hrlmeta readme-table --claims ...` (never edit it by hand)")
    for name in REGISTRY.available():
        assert f"| `{name}` |" in text


def test_a_new_folder_appears_in_the_what_runs_table(tmp_path, monkeypatch):
    from hrlmeta.experiments import ENV_VAR, Registry

    sys.path.insert(0, str(readme.ROOT / "tests"))
    from test_adding_an_experiment import NAME, write_experiment

    exps, _ = write_experiment(tmp_path)
    monkeypatch.setenv(ENV_VAR, str(exps))
    reg = Registry()
    table = readme.render_what_runs(reg)
    assert f"| `{NAME}` |" in table and all(f"| `{n}` |" in table for n in REGISTRY.available())
    copy = tmp_path / "README.md"
    shutil.copy(readme.README, copy)
    assert readme.write_what_runs(reg, copy) and f"| `{NAME}` |" in readme.what_runs_block(copy.read_text())
