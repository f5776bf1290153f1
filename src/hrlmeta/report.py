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

from . import stats, tidy

VERDICT_MARK = {"holds": "✅ holds", "fails": "❌ fails", "inconclusive": "❔ inconclusive"}
#: appended to the verdict of a claim decided on measured wall-clock time (``depends_on_timing``)
TIMING_LABEL = "⏱ measured timing"
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


def verdict_text(r, ranges: dict | None = None, budget: dict | None = None, timing=frozenset()) -> str:
    """The verdict as the report writes it: ``fails (under budget)`` where we trained less than the paper
    and the estimate falls short of the claim; a failure's side otherwise (see :mod:`hrlmeta.claims`);
    claims in ``timing`` (decided on measured wall time) are labelled :data:`TIMING_LABEL`."""
    text = _verdict_text(r, ranges, budget)
    return f"{text} ({TIMING_LABEL})" if r.claim_id in timing else text


def _verdict_text(r, ranges: dict | None = None, budget: dict | None = None) -> str:
    from .claims import UNDER_BUDGET, verdict_label
    from .stats import side

    rng = (ranges or {}).get(r.claim_id)
    binds = (budget or {}).get(r.claim_id, {}).get("binds", True)
    label = verdict_label(r.verdict, getattr(r, "budget_fraction", None), r.estimate, rng, binds)
    if label == UNDER_BUDGET:
        return "❌ " + UNDER_BUDGET
    text = VERDICT_MARK.get(r.verdict, r.verdict)
    if r.verdict == "fails" and rng is not None:
        text += f" ({side(r.ci_low, r.ci_high, *rng)} the claimed range)"
    return text


def _pct(x) -> str:
    try:
        x = float(x)
    except (TypeError, ValueError):
        return ""
    return "" if x != x else f"{x:.0%}"


def _frac(x) -> str:
    try:
        x = float(x)
    except (TypeError, ValueError):
        return ""
    return "" if x != x else f"{x:.2g}"


def posed_markdown(claims: list[dict], decided: pd.DataFrame | None = None) -> str:
    """The "how each claim was posed" table of one experiment: for every claim with a ``posed`` block (or
    known before training, ``kind: analytic``), the paper's words, the quantity measured, the threshold and
    why; with ``decided`` (claims.tsv rows) also the verdict. Empty string where no claim qualifies."""
    from .posing import revision_lines

    verdicts = decided.set_index("claim_id")["verdict"].to_dict() if decided is not None and len(decided) else {}
    rows = []
    for c in claims:
        kind = c.get("kind", "experimental")
        p = c.get("posed")
        if p is None and kind != "analytic" and not c.get("revisions"):
            continue
        p = p or {"words": c["statement"], "quantity": c["metric"], "threshold": c["expected"],
                  "why": "known before training (analytic)" if kind == "analytic" else ""}
        revised = "<br>".join(_cell(line) for line in revision_lines(c)) or "never"
        rows.append(f"| `{c['id']}` | {kind} | {_cell(p['words'])} | {_cell(p['quantity'])} | "
                    f"{_cell(p['threshold'])} | {_cell(p['why'])} | {revised} | {verdicts.get(c['id'], '')} |")
    if not rows:
        return ""
    return ("| claim | kind | the paper's words | quantity measured | threshold | why | revised | verdict |\n"
            "|---|---|---|---|---|---|---|---|\n" + "\n".join(rows) + "\n")


def claims_markdown(df: pd.DataFrame, ranges: dict | None = None, budget: dict | None = None,
                    timing=frozenset(), revisions: dict | None = None) -> str:
    """The claims table; a claim whose posing was revised (``revisions``: claim id -> its revisions, see
    :func:`hrlmeta.posing.revision_lines`) gets one row beneath it per revision."""
    head = ("| claim | expected | estimate | 95% CI | seeds | verdict | robust | scale | budget |\n"
            "|---|---|---|---|---|---|---|---|---|\n")
    from .claims import failed_checks

    rows = []
    for r in df.itertuples(index=False):
        unproven = failed_checks(getattr(r, "learner_check", ""))
        flag = (f"**learner not proven: {', '.join(unproven)}** — " if unproven else "")
        rows.append(
            f"| `{r.claim_id}`{' (analytic)' if getattr(r, 'kind', '') == 'analytic' else ''} | {_cell(r.expected)} | {_fmt(r.estimate)} | [{_fmt(r.ci_low)}, {_fmt(r.ci_high)}] "
            f"| {r.n_seeds} | {flag}{verdict_text(r, ranges, budget, timing)} | {_pct(getattr(r, 'robust', None))} "
            f"| {getattr(r, 'scale', '') if isinstance(getattr(r, 'scale', ''), str) else ''} "
            f"| {_frac(getattr(r, 'budget_fraction', None))} |"
        )
        for line in (revisions or {}).get(r.claim_id, []):
            rows.append(f"| &nbsp;&nbsp;↳ *revised* | {_cell(line)} | | | | | | | |")
    return head + "\n".join(rows) + "\n"


def _duration(seconds: float) -> str:
    """Seconds in the unit a reader plans with: s, min or CPU-hours."""
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 3 * 3600:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:,.1f} CPU-hours"


def _benchmark_seconds(results_dir: Path, experiment: str, algos: list[str]) -> tuple[float, int] | None:
    """Wall seconds of the training jobs of ``algos`` (Snakemake's benchmark file of each job) and the
    number of seeds they trained (the job's timing file next to it); None when there are none."""
    from .pipeline import read_timing

    total, seeds = 0.0, 0
    for algo in algos:
        for f in sorted((results_dir / "benchmarks" / "train" / experiment / algo).glob("*.json")):
            bench = f.with_suffix(".tsv")
            try:
                wall = float(pd.read_csv(bench, sep="\t")["s"].sum())
                n = len(read_timing(f)["seeds"])
            except (OSError, ValueError, KeyError):
                continue
            total, seeds = total + wall, seeds + n
    return (total, seeds) if seeds else None


def budget_section(claims_df: pd.DataFrame, budget: dict, declared: dict, results_dir: Path) -> list[str]:
    """Claims decided on less training than the paper's: what each would need."""
    from .claims import UNDER_BUDGET, verdict_label

    lines = []
    for r in claims_df.itertuples(index=False):
        b = budget.get(r.claim_id)
        if not b or "fraction" not in b or not b["fraction"] < 1:
            continue
        c = declared.get(r.claim_id, {})
        label = verdict_label(r.verdict, b["fraction"], r.estimate, c.get("expected_range"), b.get("binds", True))
        line = (f"- `{r.claim_id}` ({label}): ours {b['ours']:,.0f} {b['unit']}, the paper's {b['paper']:,.0f} "
                f"({b['source']}): {b['fraction']:.2g} of it.")
        per_seed = b.get("cost_s")
        how = "measured training seconds per seed"
        if per_seed is None:
            cp = c.get("params", {}) or {}
            algos = [cp[k] for k in ("algo", "baseline", "agent") if isinstance(cp.get(k), str)]
            bench = _benchmark_seconds(results_dir, r.experiment, algos)
            if bench:
                per_seed, how = bench[0] / bench[1], f"wall seconds per seed of the {'/'.join(algos)} training jobs"
        if per_seed is not None and b["fraction"] > 0:
            need = per_seed / b["fraction"]
            line += (f" At the measured throughput ({per_seed:,.1f} {how}) the paper's budget needs about "
                     f"{_duration(need)} of one core per seed, {_duration(need * max(int(r.n_seeds), 1))} for "
                     f"{int(r.n_seeds)} seeds (linear in the budget).")
        if label == UNDER_BUDGET:
            line += " The estimate falls short of the claim: this verdict is about our budget, not the paper's."
        elif not b.get("binds", True):
            line += " No run was cut short by this budget (every run met its criterion before its last " \
                    "episode), so the verdict is not an under-budget one."
        lines.append(line)
    return lines


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


def render_section(path: str | os.PathLike, context: dict) -> str:
    """An experiment's ``report.md``, a Jinja2 template (prose, with ``{{ value }}`` and ``{% if %}`` / ``{% for %}``
    over what its ``report.py``'s ``context(table, params)`` computed), rendered. Undefined names are errors;
    block tags take their line with them (``trim_blocks``, ``lstrip_blocks``). Filter ``fmt``:
    ``{{ x | fmt(".2f") }}`` is Python's ``format(x, ".2f")``; ``{{ n | fmt(",") }}`` groups thousands.
    ``{% include "name.md" %}`` reads a template of the folder or of :mod:`hrlmeta.shared` (prose that a family
    of experiments shares, e.g. ``meta_task_family_report.md``)."""
    import jinja2

    path = Path(path)
    shared = Path(__file__).resolve().parent / "shared"
    env = jinja2.Environment(loader=jinja2.FileSystemLoader([str(path.parent), str(shared)]),
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                             keep_trailing_newline=False, autoescape=False)
    env.filters["fmt"] = format
    try:
        return env.from_string(path.read_text()).render(**context)
    except jinja2.TemplateError as e:
        where = getattr(e, "filename", None) or getattr(e, "name", None) or path   # an included template's own name
        line = f" line {e.lineno}" if getattr(e, "lineno", None) else ""
        raise RuntimeError(f"{where}{line}: {e.message or e}") from None


def report_text(registry, exp: str, table: pd.DataFrame, params: dict) -> list[str]:
    """The experiment's own section: its folder's ``report.md`` (a template, :func:`render_section`) rendered
    with ``params`` and what ``context(table, params) -> dict`` of its ``report.py`` returns (its intervals:
    the claims' bootstrap, which build sets)."""
    parts = []
    md = Path(registry.describe(exp)["folder"]) / "report.md"
    if md.exists():
        context = registry.part(exp, "context", "report")
        values = {"params": params, **(context(table, params) if context is not None else {})}
        parts += [render_section(md, values).strip(), ""]
    return parts


def build(
    cfg: dict,
    claims_tsv: str | os.PathLike,
    notes_json: str | os.PathLike | None,
    tables: dict[str, str],
    figures_dir: str | os.PathLike,
    out: str | os.PathLike,
    config_files: list[str] | None = None,
    robustness_tsv: str | os.PathLike | None = None,
    budget_json: str | os.PathLike | None = None,
    *,
    registry,
) -> str:
    out = Path(out)
    figures_dir = Path(figures_dir)
    from .claims import ROBUSTNESS_TAIL, declared_claims, dependence_sentence
    from .posing import revision_lines
    from .speccurve import figure_path
    from .stats import side

    claims_df = pd.read_csv(claims_tsv, sep="\t")
    notes = json.loads(Path(notes_json).read_text()) if notes_json and Path(notes_json).exists() else {}
    budget = json.loads(Path(budget_json).read_text()) if budget_json and Path(budget_json).exists() else {}
    rob = pd.read_csv(robustness_tsv, sep="\t") if robustness_tsv and Path(robustness_tsv).exists() \
        and Path(robustness_tsv).stat().st_size else pd.DataFrame(columns=["claim_id", *ROBUSTNESS_TAIL])
    try:
        declared = {c["id"]: c for c in declared_claims(registry, cfg.get("claims"), check_measures=False)}
    except (OSError, ValueError):
        declared = {}
    ranges = {k: c["expected_range"] for k, c in declared.items()}
    timing = {k for k, c in declared.items() if c.get("depends_on_timing")}
    revised = {k: revision_lines(c) for k, c in declared.items() if c.get("revisions")}
    scales = claims_df["scale"].fillna("").astype(str) if "scale" in claims_df else pd.Series(dtype=str)
    smoke = sorted(set(claims_df.loc[scales == "smoke", "experiment"])) if len(scales) else []
    opening = []
    if smoke and len(smoke) == claims_df["experiment"].nunique():
        opening = ["**Smoke scale: these verdicts are not evidence** (a few seeds and episodes, to test the "
                   "pipeline end to end; run the default or paper scale to decide the claims).", ""]
    elif smoke:
        opening = [f"**Smoke scale for {', '.join(f'`{e}`' for e in smoke)}: those verdicts are not evidence** "
                   "(a few seeds and episodes, to test the pipeline end to end).", ""]
    parts = opening + [
        "# hrlmeta report",
        "",
        "Every number below was computed by the workflow from the tidy tables in `results/tables/`; "
        "claims are declared next to their experiments (`src/hrlmeta/experiments/<experiment>/claims.yaml`) and decided by a seeded stratified bootstrap over "
        "seeds (95% CI): **holds** when the whole CI lies in the claimed range, **fails** when it misses "
        "the range entirely, **inconclusive** otherwise.",
        "",
        f"Config: {', '.join(f'`{c}`' for c in (config_files or ['config/config.yaml']))}.",
        "",
        "## Claims",
        "",
        claims_markdown(claims_df, ranges, budget, timing, revised) if len(claims_df)
        else "_No claims were decided (no experiment ran)._\n",
        "*robust*: share of the claim's robustness specifications (analyst choices varied in "
        "its `claims.yaml`, every one in `results/claims/robustness.tsv`) whose verdict equals the primary "
        "one (a failure on the other side of the claimed range counts as a different verdict). *scale*: the "
        "config scale of the claim's experiment (smoke / default / paper / custom). *budget*: our training "
        "budget over the paper's; **fails (under budget)** = the estimate falls short of the claim after "
        "less training than the paper's. "
        f"*{TIMING_LABEL}*: decided on wall-clock seconds measured on the machine that ran it, so it varies "
        "with the machine and its load; every other estimate is a pure function of the config and the seeds "
        "(bit for bit the same on the machines `docs/determinism.md` covers). "
        "*revised*: the claim's posing (measure, parameters, statistic, threshold, robustness grid, kind) was "
        "changed after it was first frozen; each change is dated, says why, and whether the result under the "
        "old posing was known when it was made (a posing cannot change without such an entry: the posings "
        "are frozen in each experiment's `claims.lock`). "
        "*learner not proven*: the claim's estimate comes from a deep learner whose check (experiment "
        "`learner_checks`: the same code on a standard task against a published result) did not hold in this "
        "run, so a failure of the claim may be the learner's; `results/claims/claims.tsv` names every claim's "
        "checks in its `learner_check` column.",
        "",
    ]
    rob_ids = [i for i in claims_df["claim_id"] if i in set(rob["claim_id"])]
    if rob_ids:
        parts += ["### What each verdict depends on", "",
                  "Each claim decided again under every combination of the analyst choices in its robustness "
                  "block (same runs, same bootstrap draws); the specification curve sorts them by estimate, "
                  "the star is the primary specification, the shaded band the claimed range.", ""]
        by_id = claims_df.set_index("claim_id")
        for cid in rob_ids:
            r = by_id.loc[cid]
            sd = side(r.ci_low, r.ci_high, *ranges[cid]) if cid in ranges else ""
            parts.append(f"- `{cid}`: {dependence_sentence(rob, cid, r.verdict, sd)}")
        parts.append("")
        for cid in rob_ids:
            path = figure_path(figures_dir, cid)
            if path.exists():
                parts += [f"![{cid} specification curve]({os.path.relpath(path, out.parent)})", ""]
    bl = budget_section(claims_df, budget, declared, Path(claims_tsv).resolve().parent.parent)
    if bl:
        parts += ["### Training budget", "",
                  "Claims whose `paper_budget` is known and that we trained for less (`budget_fraction < 1`):",
                  "", *bl, ""]
    detail = []
    for _, r in claims_df.iterrows():
        line = f"- `{r.claim_id}` ({r.source}): {r.statement} — *metric:* {r.metric}"
        if r.claim_id in notes:
            line += f" — *note:* {notes[r.claim_id]}"
        detail.append(line)
    if detail:
        parts += ["### What each claim measures", "", *detail, ""]

    for exp in registry.available():
        if exp not in tables:
            continue
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
        posed = posed_markdown([c for c in declared.values() if c["experiment"] == exp],
                               claims_df[claims_df["experiment"] == exp])
        if posed:
            parts += ["How each claim was posed (claims known before training are labelled *analytic*):", "",
                      posed, ""]
        with stats.bootstrap_settings(cfg.get("bootstrap")):
            parts += report_text(registry, exp, table, params)
        for name in registry.describe(exp)["figures"]:
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
