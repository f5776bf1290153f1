"""Every mistake of the issue "mistakes found late", answered before any training starts by one line naming
the file, the key and the value: by `hrlmeta check` (fast tier) and by `snakemake -n` (workflow tier).

Each case is written into a scratch copy: config mistakes as an overlay, experiment mistakes into the docs'
worked example (docs/adding-an-experiment.md), found through HRLMETA_EXPERIMENTS. Two mistakes are caught by
Snakemake's own command line before the workflow is read (a missing --configfile file, a dotted --config
entry); there the test holds Snakemake's last line to naming the file or the entry, and `hrlmeta check`
(which takes the same --configfile) to the one line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from hrlmeta.experiments import ENV_VAR

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).parent))
from test_adding_an_experiment import write_experiment  # noqa: E402

#: (case, overlay text or None, (file in the example folder, old, new: None deletes the file) or None, needles of
#: the one line)
CASES = [
    ("measure_name_typo", None, ("claims.yaml", "measure: mean_reward", "measure: diference"),
     ["claims.yaml", "coin_bandit_uniform_mean", "diference"]),
    ("measure_param_typo", None, ("claims.yaml", "params: {algo: uniform}", "params: {algoo: uniform}"),
     ["claims.yaml", "coin_bandit_uniform_mean", "algoo"]),
    ("training_py_missing", None, ("training.py", "def train(", None), ["coin_bandit/training.py", "missing"]),
    ("broken_experiment_yaml", None, ("experiment.yaml", "algos: [uniform, best_arm]", "algos: [uniform, best_arm"),
     ["experiment.yaml", "line"]),
    ("top_level_typo", "bootstrapp:\n  reps: 10\n", None, ["bootstrapp", "unknown key", "did you mean bootstrap"]),
    ("misspelled_disabled_experiment", "experiments:\n  fourroms_sutton: {enabled: false}\n", None,
     ["experiments.fourroms_sutton", "unknown experiment", "did you mean fourrooms_sutton"]),
    ("bad_value", "experiments:\n  taxi_maxq:\n    n_seeds: many\n", None, ["experiments.taxi_maxq.n_seeds", "'many'"]),
    ("duplicate_key", "experiments:\n  taxi_maxq: {n_seeds: 3}\n  taxi_maxq: {n_seeds: 4}\n", None,
     ["bad.yaml", "duplicate key 'taxi_maxq'"]),
]


def _write(tmp_path, overlay, edit):
    """The worked example, frozen as its recipe says (`hrlmeta freeze`), then the case's edit."""
    from hrlmeta.cli import main

    exps, _ = write_experiment(tmp_path / "plugin")
    before = os.environ.get(ENV_VAR)
    os.environ[ENV_VAR] = str(exps)
    try:
        assert main(["freeze"]) == 0
    finally:
        if before is None:
            del os.environ[ENV_VAR]
        else:
            os.environ[ENV_VAR] = before
    if edit is not None:
        f, old, new = edit
        p = exps / "coin_bandit" / f
        text = p.read_text()
        assert old in text, (f, old)
        if new is None:
            p.unlink()
        else:
            p.write_text(text.replace(old, new))
    return exps


def _the_line(text: str, needles) -> str:
    lines = [ln for ln in text.splitlines() if all(n in ln for n in needles)]
    assert len(lines) >= 1, text[-3000:]
    return lines[0]


#: the folder cases run the whole `hrlmeta check` here; the config cases' lines come from the same config check,
#: which tests/test_check.py::test_config_mistakes_are_one_line runs on each of them (in milliseconds)
FOLDER_CASES = [c for c in CASES if c[2] is not None]


@pytest.mark.parametrize("case, overlay, edit, needles", FOLDER_CASES, ids=[c[0] for c in FOLDER_CASES])
def test_hrlmeta_check_answers_in_one_line(case, overlay, edit, needles, tmp_path, monkeypatch, capsys):
    from hrlmeta.cli import main

    exps = _write(tmp_path, overlay, edit)
    monkeypatch.setenv(ENV_VAR, str(exps))
    args = ["check"]
    if overlay is not None:
        (tmp_path / "bad.yaml").write_text(overlay)
        args += ["--configfile", str(tmp_path / "bad.yaml")]
    assert main(args) == 1
    out = capsys.readouterr().out
    assert out.splitlines()[-1] == "1 problem(s)", out
    _the_line(out, needles)


def test_hrlmeta_check_names_a_missing_configfile(tmp_path, capsys):
    from hrlmeta.cli import main

    assert main(["check", "--configfile", str(tmp_path / "nope.yaml")]) == 1
    _the_line(capsys.readouterr().out, ["nope.yaml", "file not found"])


@pytest.mark.workflow
@pytest.mark.parametrize("case, overlay, edit, needles", CASES, ids=[c[0] for c in CASES])
def test_snakemake_dry_run_answers_in_one_line(case, overlay, edit, needles, tmp_path):
    from conftest import copy_workflow

    work = copy_workflow(tmp_path / "wf")
    exps = _write(tmp_path, overlay, edit)
    args = [sys.executable, "-m", "snakemake", "-n"]
    if overlay is not None:
        (work / "config" / "bad.yaml").write_text(overlay)
        args += ["--configfile", "config/bad.yaml"]
    r = subprocess.run(args, cwd=work, capture_output=True, text=True, env={**os.environ, ENV_VAR: str(exps)})
    text = r.stdout + r.stderr
    assert r.returncode != 0, text[-3000:]
    _the_line(text, needles)
    assert "Failed validating" not in text          # no schema dump
    assert "rule train" not in text and "localrule train" not in text   # nothing scheduled


@pytest.mark.workflow
@pytest.mark.parametrize("args, needle", [
    (["--configfile", "config/nope.yaml"], "config/nope.yaml"),
    (["--config", "experiments.taxi_maxq.n_seeds=5"], "Config entry must start with a valid identifier"),
], ids=["missing_configfile", "dotted_config_entry"])
def test_snakemake_own_command_line_errors_end_in_a_line_that_names_the_input(args, needle, tmp_path):
    """Snakemake parses --configfile and --config before the workflow exists: its last line names the input."""
    from conftest import copy_workflow

    work = copy_workflow(tmp_path / "wf")
    r = subprocess.run([sys.executable, "-m", "snakemake", "-n", *args], cwd=work, capture_output=True, text=True)
    assert r.returncode != 0
    lasts = [[ln for ln in out.splitlines() if ln.strip()][-1:] for out in (r.stdout, r.stderr)]
    assert any(needle in ln for last in lasts for ln in last), (lasts, r.stdout[-2000:], r.stderr[-2000:])
