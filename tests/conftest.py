"""Shared fixtures: one smoke-scale workflow run per test session, in a scratch copy of the workflow.

hrlmeta is imported first: it pins the numerical kernels (hrlmeta.numerics.PINNED) before any test
module imports numpy, numba or torch, so in-process results match the workflow's."""

import hrlmeta  # noqa: F401  (first: see above)
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = [sys.executable, "-m", "snakemake"]
WORKFLOW_ITEMS = ("Snakefile", "workflow", "config", "profiles")


def copy_workflow(dest: Path) -> Path:
    """The workflow's files (not results/ or .snakemake/) copied into ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    for item in WORKFLOW_ITEMS:
        src = ROOT / item
        (shutil.copytree if src.is_dir() else shutil.copy)(src, dest / item)
    return dest


def run_snakemake(cwd, *args, check=True):
    """``snakemake --cores 2 --configfile config/smoke.yaml ARGS`` in ``cwd``; the output on failure."""
    r = subprocess.run([*SNAKEMAKE, "--cores", "2", "--configfile", "config/smoke.yaml", *args],
                       cwd=cwd, capture_output=True, text=True)
    if check and r.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed (rc {r.returncode}):\n"
                             f"{r.stdout[-4000:]}\n{r.stderr[-4000:]}")
    return r


@pytest.fixture(scope="session")
def smoke_local(tmp_path_factory):
    """The smoke workflow run once, locally, in a scratch copy (shared by the tests that read it)."""
    work = copy_workflow(tmp_path_factory.mktemp("smoke"))
    run_snakemake(work)
    return work


@pytest.fixture
def one_torch_thread():
    """One torch thread, as every training job of the workflow (small ops are slow with a pool); a test module
    opts in with ``pytestmark = pytest.mark.usefixtures("one_torch_thread")``."""
    import torch

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)

