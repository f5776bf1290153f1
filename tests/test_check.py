"""`hrlmeta check`: every mistake in the inputs is one line naming the file, the key and the value, before any
training starts; the workflow runs the same checks when it builds the DAG (`snakemake -n`, marked workflow)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hrlmeta import check
from hrlmeta.cli import main as cli_main
from hrlmeta.experiments import REGISTRY

ROOT = Path(__file__).resolve().parents[1]


class _Swapped:
    """The real registry with one experiment's folder files replaced by a scratch copy."""

    def __init__(self, name: str, folder: Path):
        self.name, self.folder = name, folder

    def __getattr__(self, attr):
        return getattr(REGISTRY, attr)

    def claims_path(self, name):
        return self.folder / "claims.yaml" if name == self.name else REGISTRY.claims_path(name)

    def schema_path(self, name):
        return self.folder / "schema.yaml" if name == self.name else REGISTRY.schema_path(name)


def _copy(tmp_path, name="taxi_maxq") -> Path:
    src = Path(REGISTRY.schema_path(name)).parent
    dest = tmp_path / name
    shutil.copytree(src, dest, ignore=shutil.ignore_patterns("__pycache__"))
    return dest


def _overlay(tmp_path, text: str) -> Path:
    p = tmp_path / "overlay.yaml"
    p.write_text(text)
    return p


def _one_line(found, *needles):
    assert len(found) == 1, found
    assert "\n" not in found[0]
    for n in needles:
        assert n in found[0], (n, found[0])


def test_the_checkout_has_no_problems_at_every_scale():
    for overlays in ((), ("config/smoke.yaml",), ("config/paper.yaml",)):
        assert check.problems(REGISTRY, overlays=[ROOT / o for o in overlays], base=ROOT / "config/config.yaml") == []


def test_measure_name_typo(tmp_path):
    folder = _copy(tmp_path)
    p = folder / "claims.yaml"
    p.write_text(p.read_text().replace("measure: gap\n", "measure: gapp\n", 1))
    found = check.experiment_problems(_Swapped("taxi_maxq", folder))
    _one_line(found, str(p), "maxq_reaches_recursive_optimum", "measure", "'gapp'", "did you mean gap")


def test_measure_typo_found_from_source_without_importing(tmp_path):
    """What the workflow runs when it builds the DAG: measures read from their source, torch not imported."""
    folder = _copy(tmp_path)
    p = folder / "claims.yaml"
    p.write_text(p.read_text().replace("measure: gap\n", "measure: gapp\n", 1))
    found = check.experiment_problems(_Swapped("taxi_maxq", folder), posings=False, imports=False)
    _one_line(found, str(p), "'gapp'", "did you mean gap")


def test_measures_read_from_source_equal_the_imported_ones():
    for name in REGISTRY.available():
        f = Path(REGISTRY.schema_path(name)).parent / "measures.py"
        if not f.exists():
            continue
        static, real = check.static_measures(f), REGISTRY.measures(name)
        assert set(static) == set(real), name
        for k, m in real.items():
            assert static[k].schema == m.schema, (name, k)


def test_measure_parameter_typo(tmp_path):
    folder = _copy(tmp_path)
    p = folder / "claims.yaml"
    p.write_text(p.read_text().replace("params: {reference: recursive_optimal, agent: maxq_q_abs,",
                                       "params: {referense: recursive_optimal, agent: maxq_q_abs,", 1))
    found = check.experiment_problems(_Swapped("taxi_maxq", folder))
    _one_line(found, str(p), "referense", "unknown key")


def test_duplicate_yaml_key_in_claims(tmp_path):
    folder = _copy(tmp_path)
    p = folder / "claims.yaml"
    p.write_text(p.read_text().replace("    statistic: iqm\n", "    statistic: iqm\n    statistic: median\n", 1))
    found = check.experiment_problems(_Swapped("taxi_maxq", folder))
    _one_line(found, str(p), "duplicate key 'statistic'")


def test_broken_experiment_yaml_is_one_line(tmp_path):
    bad = tmp_path / "experiment.yaml"
    bad.write_text("id: x\nalgos: [a, b\n")
    doc, problem = check.read_yaml(bad)
    assert doc is None and str(bad) in problem and "\n" not in problem


@pytest.mark.parametrize("text, needles", [
    ("bootstrapp:\n  reps: 10\n", ["bootstrapp", "unknown key", "did you mean bootstrap"]),
    ("experiments:\n  fourroms_sutton: {enabled: false}\n",
     ["experiments.fourroms_sutton", "unknown experiment", "did you mean fourrooms_sutton"]),
    ("experiments:\n  taxi_maxq:\n    algos: [maxq_qq]\n", ["experiments.taxi_maxq.algos", "'maxq_qq'", "did you mean"]),
    ("experiments:\n  taxi_maxq:\n    params:\n      n_episodez: 3\n", ["experiments.taxi_maxq.params", "n_episodez",
                                                                       "unknown key"]),
    ("experiments:\n  taxi_maxq:\n    n_seeds: many\n", ["experiments.taxi_maxq.n_seeds", "'many'"]),
    ("- a\n- b\n", ["overlay.yaml", "top level must be a mapping", "list"]),
    ("experiments:\n  taxi_maxq: {n_seeds: 3}\n  taxi_maxq: {n_seeds: 4}\n", ["overlay.yaml", "duplicate key 'taxi_maxq'"]),
    ("bootstrap: {reps: [1\n", ["overlay.yaml", "line"]),
])
def test_config_mistakes_are_one_line(tmp_path, text, needles):
    base = ROOT / "config/config.yaml"
    cfg, found = check.load_merged(base, [_overlay(tmp_path, text)])
    if cfg is not None:  # what check.problems does with a config that parsed, before the experiments' checks
        found = check.config_problems(cfg, REGISTRY, f"{base} + overlay.yaml")
    _one_line(found, *needles)


def test_missing_configfile_is_one_line(tmp_path):
    cfg, found = check.load_merged(ROOT / "config/config.yaml", [tmp_path / "nope.yaml"])
    assert cfg is None
    _one_line(found, "nope.yaml", "file not found")


def test_missing_cost_rate_is_named(tmp_path):
    costs = tmp_path / "costs.yaml"
    text = (ROOT / "config/costs.yaml").read_text()
    costs.write_text(text.replace("      maxq_q_abs_greedy:", "      maxq_q_abs_greedyy:"))
    cfg, _ = check.load_merged(ROOT / "config/config.yaml", [])
    found = check.cost_problems(cfg, REGISTRY, costs)
    assert any("experiments.taxi_maxq.cpu_s_per_unit.maxq_q_abs_greedy" in f for f in found), found


def test_cli_exit_status_and_lines(tmp_path, capsys):
    bad = _overlay(tmp_path, "bootstrapp: {}\n")
    assert cli_main(["check", "--configfile", str(bad)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == "1 problem(s)" and "bootstrapp" in out[0]


@pytest.mark.workflow
def test_snakemake_dry_run_stops_on_the_same_line(tmp_path):
    from conftest import copy_workflow

    work = copy_workflow(tmp_path / "wf")
    (work / "config" / "bad.yaml").write_text("bootstrapp: {}\n")
    r = subprocess.run([sys.executable, "-m", "snakemake", "-n", "--configfile", "config/bad.yaml"], cwd=work,
                       capture_output=True, text=True)
    assert r.returncode != 0
    text = r.stdout + r.stderr
    assert "bootstrapp: unknown key (did you mean bootstrap?" in text
    assert "Failed validating" not in text  # no schema dump


def test_only_runs_a_subset_and_names_a_typo_in_one_line():
    from hrlmeta.config import enabled_experiments, load_config, restrict

    cfg = load_config(REGISTRY)
    assert enabled_experiments(restrict(cfg, "taxi_maxq, fourrooms_sutton"), REGISTRY) == ["fourrooms_sutton", "taxi_maxq"]
    assert enabled_experiments(restrict(cfg, ["taxi_maxq"]), REGISTRY) == ["taxi_maxq"]
    assert enabled_experiments(restrict(cfg, None), REGISTRY) == enabled_experiments(cfg, REGISTRY)
    found = check.problems(REGISTRY, only="taxi_maxq,fourrooms_sutoon")
    assert len(found) == 1 and "only: 'fourrooms_sutoon' is not an experiment" in found[0]
    assert "did you mean fourrooms_sutton" in found[0]
    found = check.problems(REGISTRY, only="lunarlander_meta")
    assert len(found) == 1 and "not enabled" in found[0]
    assert check.problems(REGISTRY, overlays=[ROOT / "config/paper.yaml"], only="lunarlander_meta") == []


def test_every_subcommand_spells_overlays_configfile():
    from hrlmeta.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    for name, p in sub.choices.items():
        flags = {f for a in p._actions for f in a.option_strings}
        assert "--config" not in flags, name
        for a in p._actions:
            if a.option_strings and a.option_strings != ["-h", "--help"]:
                assert a.help, (name, a.option_strings)


def test_schema_extends_states_a_family_s_parameters_once(tmp_path):
    """The meta-RL experiments' schema.yaml extend one shared base (shared/meta_task_family.schema.yaml) and add
    their task family's env block; a base that is missing or makes a cycle is a one-line error."""
    from hrlmeta.config import ConfigError, _extended, load_schema
    from hrlmeta.experiments import REGISTRY

    shared = {"device", "policy", "meta", "directed", "eval", "cost"}
    for name in ("cartpole_meta", "cartpole_flip_meta", "lunarlander_meta"):
        s = load_schema(name, REGISTRY)
        assert set(s["properties"]) == shared | {"env"} and s["additionalProperties"] is False
        assert "extends" not in s and name in s["description"]
    assert "flip_prob" in load_schema("cartpole_flip_meta", REGISTRY)["properties"]["env"]["properties"]
    (tmp_path / "a.yaml").write_text("extends: b.yaml\nproperties: {x: {type: integer}}\n")
    (tmp_path / "b.yaml").write_text("extends: a.yaml\n")
    import pytest

    with pytest.raises(ConfigError, match="cycle"):
        _extended(tmp_path / "a.yaml")
    (tmp_path / "c.yaml").write_text("extends: nowhere.yaml\n")
    with pytest.raises(ConfigError, match="nowhere.yaml: file not found"):
        _extended(tmp_path / "c.yaml")
