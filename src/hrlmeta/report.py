"""``results/REPORT.md``: the claims table with verdicts, each experiment's findings and figures, the
config that produced them and the software versions."""

from __future__ import annotations

import json
import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path

import pandas as pd
import yaml

from . import experiments as registry
from . import tidy

VERDICT_MARK = {"holds": "✅ holds", "fails": "❌ fails", "inconclusive": "❔ inconclusive"}
PACKAGES = ("hrlmeta", "numpy", "numba", "torch", "pandas", "pyarrow", "scipy", "seaborn", "matplotlib", "snakemake")


def _fmt(x) -> str:
    if isinstance(x, float):
        if x != x:
            return "nan"
        return f"{x:.4g}"
    return str(x)


def _cell(x) -> str:
    """A markdown table cell: pipes escaped, no line breaks."""
    return _fmt(x).replace("|", "\\|").replace("\n", " ")


def claims_markdown(df: pd.DataFrame) -> str:
    cols = ["claim_id", "expected", "estimate", "ci_low", "ci_high", "n_seeds", "verdict"]
    head = "| claim | expected | estimate | 95% CI | seeds | verdict |\n|---|---|---|---|---|---|\n"
    rows = []
    for _, r in df[cols].iterrows():
        rows.append(
            f"| `{r.claim_id}` | {_cell(r.expected)} | {_fmt(r.estimate)} | [{_fmt(r.ci_low)}, {_fmt(r.ci_high)}] "
            f"| {r.n_seeds} | {VERDICT_MARK.get(r.verdict, r.verdict)} |"
        )
    return head + "\n".join(rows) + "\n"


def versions() -> dict[str, str]:
    out = {"python": platform.python_version(), "platform": platform.platform()}
    for p in PACKAGES:
        try:
            out[p] = metadata.version(p)
        except metadata.PackageNotFoundError:
            out[p] = "not installed"
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=5,
            cwd=Path(__file__).resolve().parent,
        ).stdout.strip()
        if sha:
            out["hrlmeta commit"] = sha
    except (OSError, subprocess.SubprocessError):
        pass
    return out


def build(
    cfg: dict,
    claims_tsv: str | os.PathLike,
    notes_json: str | os.PathLike | None,
    tables: dict[str, str],
    figures_dir: str | os.PathLike,
    out: str | os.PathLike,
    config_files: list[str] | None = None,
) -> str:
    out = Path(out)
    figures_dir = Path(figures_dir)
    claims_df = pd.read_csv(claims_tsv, sep="\t")
    notes = json.loads(Path(notes_json).read_text()) if notes_json and Path(notes_json).exists() else {}
    parts = [
        "# hrlmeta report",
        "",
        "Every number below was computed by the workflow from the tidy tables in `results/tables/`; "
        "claims are declared in `config/claims.yaml` and decided by a seeded stratified bootstrap over "
        "seeds (95% CI): **holds** when the whole CI lies in the claimed range, **fails** when it misses "
        "the range entirely, **inconclusive** otherwise.",
        "",
        f"Config: {', '.join(f'`{c}`' for c in (config_files or ['config/config.yaml']))}.",
        "",
        "## Claims",
        "",
        claims_markdown(claims_df) if len(claims_df) else "_No claims were decided (no experiment ran)._\n",
    ]
    detail = []
    for _, r in claims_df.iterrows():
        line = f"- `{r.claim_id}` ({r.source}): {r.statement} — *metric:* {r.metric}"
        if r.claim_id in notes:
            line += f" — *note:* {notes[r.claim_id]}"
        detail.append(line)
    if detail:
        parts += ["### What each claim measures", "", *detail, ""]

    for exp in registry.EXPERIMENTS:
        if exp not in tables:
            continue
        mod = registry.get(exp)
        table = tidy.read_parquet(tables[exp])
        params = cfg["experiments"][exp].get("params", {})
        n_seeds = table["seed"].nunique()
        parts += [
            f"## `{exp}`",
            "",
            f"{len(table)} rows; algorithms: {', '.join(sorted(table['algo'].unique()))}; "
            f"{n_seeds} seeds per algorithm.",
            "",
        ]
        if hasattr(mod, "report_section"):
            parts += [mod.report_section(table, params).strip(), ""]
        for name in getattr(mod, "FIGURES", ()):
            path = figures_dir / f"{exp}_{name}.png"
            rel = os.path.relpath(path, out.parent)
            parts += [f"![{exp} {name}]({rel})", ""]

    used = {k: v for k, v in cfg.items()}
    parts += [
        "## Config used",
        "",
        "```yaml",
        yaml.safe_dump(used, sort_keys=False, width=100).strip(),
        "```",
        "",
        "## Versions",
        "",
        *[f"- {k}: {v}" for k, v in versions().items()],
        "",
    ]
    text = "\n".join(parts)
    tidy.atomic_write_text(out, text)
    return text
