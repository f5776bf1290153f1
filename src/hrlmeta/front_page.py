"""The front page of the HTML report (``snakemake --report results/report.html``): the claims first.

``workflow/report/workflow.rst`` (the workflow's global ``report:`` text) includes
``results/report/claims.rst``, which :func:`write` generates from ``results/claims/claims.tsv``: one row
per claim with its verdict, robustness, estimate and claimed value, and links to the claim's figures
(its experiment's figures and its specification curve), then one line per tidy table (rows, algorithms,
seeds, size on disk: the tables themselves stay in ``results/tables/``, not in the page).

A figure link is a reStructuredText reference to the figure's file name, which Snakemake's report turns
into a link to that result (it defines one target per file the workflow marks with ``report()``); so
only figures that exist are linked.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import pandas as pd

from . import tidy

#: relative to the directory Snakemake runs in; workflow/report/workflow.rst includes it
LANDING = Path("results") / "report" / "claims.rst"

VERDICT_COUNT = ("holds", "fails", "inconclusive")


def _num(x) -> str:
    try:
        x = float(x)
    except (TypeError, ValueError):
        return ""
    return "" if math.isnan(x) else f"{x:.3g}"


def _pct(x) -> str:
    try:
        x = float(x)
    except (TypeError, ValueError):
        return ""
    return "" if math.isnan(x) else f"{x:.0%}"


def _text(x) -> str:
    """A table cell's text: one line, no reStructuredText markup characters taken as markup."""
    s = "" if x is None or (isinstance(x, float) and math.isnan(x)) else str(x)
    s = " ".join(s.split())
    for ch in "\\`*_|":
        s = s.replace(ch, "\\" + ch)
    return s


def _ref(name: str) -> str:
    """A reference to the report's result target ``name`` (a file name)."""
    return f"`{name}`_"


def _size(n: int) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return ""  # pragma: no cover


def _row(cells: list[str]) -> list[str]:
    out = [f"   * - {cells[0] or ' '}"]
    out += [f"     - {c or ' '}" for c in cells[1:]]
    return out


def render(claims: pd.DataFrame, figures: list[str | os.PathLike], tables: dict[str, str | os.PathLike],
           ranges: dict | None = None, budget: dict | None = None) -> str:
    """The front page's reStructuredText. ``figures``: every figure file the report holds (experiment
    figures ``{experiment}_{name}.png`` and specification curves ``claims_robustness_{claim}.png``);
    ``tables``: experiment -> its tidy table."""
    from .report import verdict_text

    names = sorted({Path(f).name for f in figures})
    lines = ["Claims", "------", ""]
    ran = pd.to_numeric(claims["n_seeds"], errors="coerce").fillna(0) > 0 if len(claims) else []
    skipped = int((~ran).sum()) if len(claims) else 0
    claims = claims[ran] if len(claims) else claims
    if len(claims):
        scales = sorted(set(claims["scale"].dropna().astype(str))) if "scale" in claims else []
        if scales == ["smoke"]:
            lines += ["**Smoke scale: these verdicts are not evidence** (a few seeds and episodes, to test the "
                      "pipeline end to end; run the default or paper scale to decide the claims).", ""]
        counts = claims["verdict"].value_counts()
        tally = ", ".join(f"{int(counts.get(v, 0))} {v}" for v in VERDICT_COUNT)
        lines += [f"{len(claims)} claims decided ({tally}), each from the seeds' tidy tables by a seeded "
                  "stratified bootstrap (95% CI). *robust*: the share of the claim's robustness specifications "
                  "(analysis choices varied) that give the same verdict. Details, findings and the config: "
                  f"{_ref('REPORT.md')} and {_ref('claims.tsv')}."
                  + (f" {skipped} further claims have no runs in this configuration (their experiment is "
                     "disabled); claims.tsv lists them as inconclusive." if skipped else ""), ""]
        lines += [".. list-table::", "   :header-rows: 1", "   :class: claims", "",
                  *_row(["claim", "verdict", "robust", "estimate [95% CI]", "claimed", "seeds", "figures"])]
        for r in claims.itertuples(index=False):
            own = [n for n in names if n.startswith(f"{r.experiment}_")]
            curve = f"claims_robustness_{r.claim_id}.png"
            links = [_ref(n) for n in own] + ([_ref(curve)] if curve in names else [])
            lines += _row([
                f"``{r.claim_id}``",
                _text(verdict_text(r, ranges, budget).lstrip("✅❌❔ ")),
                _pct(getattr(r, "robust", None)),
                f"{_num(r.estimate)} [{_num(r.ci_low)}, {_num(r.ci_high)}]",
                _text(r.expected),
                str(r.n_seeds),
                ", ".join(links),
            ])
        lines.append("")
    else:
        lines += ["No claim was decided (no experiment ran).", ""]
    lines += ["Tidy tables", "-----------", "",
              "One table per experiment in ``results/tables/`` (long format, one row per episode or "
              "meta-iteration; columns in ``results/README.md``); summarised here, not embedded.", ""]
    for exp, path in sorted(tables.items()):
        path = Path(path)
        if not path.exists():
            continue
        df = tidy.read_parquet(path)
        algos = sorted(df["algo"].unique()) if "algo" in df else []
        seeds = df["seed"].nunique() if "seed" in df else 0
        lines.append(f"- ``{exp}``: {len(df):,} rows, {seeds} seeds x {len(algos)} algorithms "
                     f"({', '.join(algos)}), ``{path.as_posix()}`` ({_size(path.stat().st_size)})")
    lines.append("")
    return "\n".join(lines)


def write(out: str | os.PathLike, claims_tsv: str | os.PathLike, figures: list[str | os.PathLike],
          tables: dict[str, str | os.PathLike], ranges: dict | None = None, budget: dict | None = None) -> str:
    claims = pd.read_csv(claims_tsv, sep="\t")
    text = render(claims, figures, tables, ranges, budget)
    tidy.atomic_write_text(out, text)
    return text
