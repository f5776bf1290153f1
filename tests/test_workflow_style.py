"""The workflow is formatted (snakefmt) and passes Snakemake's linter."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_snakefmt_clean():
    r = subprocess.run(
        [sys.executable, "-m", "snakefmt", "--check", "Snakefile", "workflow/"],
        cwd=ROOT, capture_output=True, text=True,
    )
    assert r.returncode == 0, r.stdout + r.stderr


def test_snakemake_lint_clean():
    r = subprocess.run(
        [sys.executable, "-m", "snakemake", "--lint", "--configfile", "config/smoke.yaml"],
        cwd=ROOT, capture_output=True, text=True,
    )
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert "Lints for" not in r.stdout + r.stderr, r.stdout[-3000:] + r.stderr[-3000:]
