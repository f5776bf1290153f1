"""Code fingerprints of training (hrlmeta.fingerprint): a change to the code a training job runs changes
its fingerprint (the workflow then reruns it), a change to figures, report prose, claims, measures,
comments or docstrings does not, and a change to one learner reaches only the jobs that run it."""

import shutil
from pathlib import Path

import pytest

from hrlmeta import fingerprint as F

SRC = Path(F.__file__).resolve().parent

JOBS = [("pointmaze_hiro", "hiro"), ("pointmaze_hiro", "td3"), ("learner_checks", "td3_pendulum"),
        ("learner_checks", "sac_pendulum"), ("fourrooms_sutton", "flat_q"), ("bandits_duan", "rl2")]


@pytest.fixture()
def tree(tmp_path):
    root = tmp_path / "hrlmeta"
    # the package's Python sources only (what a fingerprint reads)
    shutil.copytree(SRC, root, ignore=lambda d, names: [n for n in names if n == "__pycache__" or (
        not n.endswith(".py") and not (Path(d) / n).is_dir())])
    return root


def _prints(root):
    pkg = F._Package(root)      # one parse of the tree for every job
    return {job: F.digest(pkg.closure(F._roots(*job, root))) for job in JOBS}


def _edit(root, rel, old, new):
    p = root / rel
    s = p.read_text()
    assert old in s, (rel, old)
    p.write_text(s.replace(old, new, 1))


def test_copy_has_the_package_fingerprints(tree):
    F.training_fingerprint.cache_clear()
    got = _prints(tree)
    assert got == {job: F.training_fingerprint(*job) for job in JOBS}
    # the algorithms of one module share its fingerprint; a check of its own module has its own
    assert got[("pointmaze_hiro", "hiro")] == got[("pointmaze_hiro", "td3")]
    assert len(set(got.values())) == len(JOBS) - 1


@pytest.mark.parametrize("rel, old, new", [
    # the report's values and the figures of the experiment whose training they sit beside
    ("experiments/pointmaze_hiro/report.py", "def context(", "def _unused_helper():\n    return 1\n\n\ndef context("),
    ("experiments/pointmaze_hiro/figures.py", "def figures(table: pd.DataFrame, params: dict, outdir) -> None:\n",
     "def figures(table: pd.DataFrame, params: dict, outdir) -> None:\n    outdir = outdir\n"),
    ("claims/__init__.py", "from __future__ import annotations\n", "from __future__ import annotations\nX_UNUSED = 1\n"),
    ("experiments/pointmaze_hiro/measures.py", "from __future__ import annotations\n", "from __future__ import annotations\nX_UNUSED = 1\n"),
    # comments and docstrings
    ("algos/td3.py", "def soft_update(target: nn.Module, source: nn.Module, tau: float) -> None:\n",
     "def soft_update(target: nn.Module, source: nn.Module, tau: float) -> None:  # a comment\n"),
    ("algos/td3.py", '"""theta\' <- tau theta + (1 - tau) theta\' for every parameter."""', '"""Another docstring."""'),
    # the registry's description schema, and a module's `if __name__ == "__main__":` block
    ("experiments/__init__.py", '"title": {"type": "string", "minLength": 1},', '"title": {"type": "string", "minLength": 2},'),
    ("experiments/fourrooms_sutton/training.py", 'if __name__ == "__main__":  # pragma: no cover\n',
     'if __name__ == "__main__":  # pragma: no cover\n    print()\n'),
])
def test_changes_outside_training_rerun_nothing(tree, rel, old, new):
    before = _prints(tree)
    _edit(tree, rel, old, new)
    assert _prints(tree) == before


def test_a_learner_change_reaches_exactly_its_jobs(tree):
    before = _prints(tree)
    _edit(tree, "algos/td3.py", "torch._foreach_mul_(t, 1.0 - tau)", "torch._foreach_mul_(t, 1.0 - tau * 1.0)")
    after = _prints(tree)
    moved = {job for job in JOBS if after[job] != before[job]}
    assert moved == {("pointmaze_hiro", "hiro"), ("pointmaze_hiro", "td3"), ("learner_checks", "td3_pendulum")}


def test_a_check_module_change_reaches_only_its_check(tree):
    before = _prints(tree)
    _edit(tree, "experiments/learner_checks/check_sac.py", "def train_batch(", "def _x():\n    return 0\n\n\ndef train_batch(")
    assert _prints(tree) == before                      # an unreferenced new function changes nothing
    _edit(tree, "experiments/learner_checks/check_sac.py", "seeds = [int(s) for s in seeds]", "seeds = [int(s) + 0 for s in seeds]")
    after = _prints(tree)
    assert {job for job in JOBS if after[job] != before[job]} == {("learner_checks", "sac_pendulum")}


def test_training_code_of_the_experiment_itself(tree):
    before = _prints(tree)
    _edit(tree, "experiments/pointmaze_hiro/training.py", "def make_agent(algo: str, params: dict, gens: list[torch.Generator], device: str):\n",
          "def make_agent(algo: str, params: dict, gens: list[torch.Generator], device: str):\n    device = device\n")
    after = _prints(tree)
    assert {job for job in JOBS if after[job] != before[job]} == {("pointmaze_hiro", "hiro"), ("pointmaze_hiro", "td3")}


def test_run_tables_writer_reaches_every_job(tree):
    before = _prints(tree)
    _edit(tree, "pipeline.py", 'front = ["experiment", "env", "algo", "seed"]', 'front = ["experiment", "env", "algo", "seed"][:]')
    after = _prints(tree)
    assert all(after[job] != before[job] for job in JOBS)


def test_the_workflow_passes_the_fingerprint_to_training_jobs():
    import re

    text = re.sub(r"\s+", "", (SRC.parents[1] / "workflow" / "rules" / "train.smk").read_text())
    assert text.count("code=lambdawildcards:training_fingerprint(wildcards.experiment,wildcards.algo,registry=registry") == 2
    assert text.count("--code{params.code}") == 2


def test_an_experiment_outside_the_package_is_fingerprinted(tmp_path, monkeypatch):
    """A folder added through $HRLMETA_EXPERIMENTS: its own training code is in its fingerprint."""
    import sys

    from hrlmeta.experiments import ENV_VAR, Registry

    sys.path.insert(0, str(SRC.parents[1] / "tests"))
    from test_adding_an_experiment import NAME, write_experiment

    exps, _ = write_experiment(tmp_path)
    monkeypatch.setenv(ENV_VAR, str(exps))
    reg = Registry()
    reached = F.reached(NAME, "uniform", registry=reg)
    assert {f"hrlmeta.experiments.{NAME}.training:train", f"hrlmeta.experiments.{NAME}.training:_run"} <= set(reached)
    F.training_fingerprint.cache_clear()
    before = F.training_fingerprint(NAME, "uniform", registry=reg)
    training = exps / NAME / "training.py"
    text = training.read_text()
    assert "def train(" in text and "def _run(" in text
    training.write_text(text.replace("def train(", "def _extra():\n    return 1\n\n\ndef train(", 1))
    F.training_fingerprint.cache_clear()
    assert F.training_fingerprint(NAME, "uniform", registry=reg) == before      # unreferenced: unchanged
    training.write_text(text.replace("n = int(params[\"pulls\"])", "n = int(params[\"pulls\"]) + 0", 1))
    F.training_fingerprint.cache_clear()
    assert F.training_fingerprint(NAME, "uniform", registry=reg) != before      # its training code: changed
    with pytest.raises(ValueError, match=NAME):
        F.training_fingerprint(NAME, "uniform")                                 # no registry: not found


def test_a_data_file_a_training_job_reads_is_in_its_fingerprint(tree):
    """pg_cartpole's check completes its params from the task family's schema while it runs
    (meta_task_family.with_defaults): a default changed there reruns that job, and no other."""
    shutil.copy(SRC / "shared" / "meta_task_family.schema.yaml", tree / "shared")
    F.training_fingerprint.cache_clear()
    pg, td3 = (F.training_fingerprint("learner_checks", a, tree) for a in ("pg_cartpole", "td3_pendulum"))
    _edit(tree, "shared/meta_task_family.schema.yaml", "default: 30,", "default: 31,")
    F.training_fingerprint.cache_clear()
    assert F.training_fingerprint("learner_checks", "pg_cartpole", tree) != pg
    assert F.training_fingerprint("learner_checks", "td3_pendulum", tree) == td3
    F.training_fingerprint.cache_clear()
