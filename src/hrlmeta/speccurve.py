"""Specification curves: one figure per claim with a ``robustness:`` block, drawn from
``results/claims/robustness.tsv`` (Simonsohn, Simmons & Nelson's specification curve).

Top: every specification's estimate with its 95% CI, sorted by estimate, coloured by verdict, the
expected range shaded, the primary specification (the claim as declared) marked. Beneath: the
"dashboard" -- for each varied choice and value, a mark under every specification that used it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd

from .claims import ROBUSTNESS_TAIL, outcome

COLOURS = {"holds": "#029e73", "fails (above)": "#d55e00", "fails (below)": "#cc78bc",
           "fails": "#d55e00", "inconclusive": "#949494"}


def figure_path(outdir: str | os.PathLike, claim_id: str) -> Path:
    return Path(outdir) / f"claims_robustness_{claim_id}.png"


def _label(v) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def draw(sub: pd.DataFrame, claim: dict, primary: dict | None, path) -> None:
    """One claim's specification curve. ``sub``: its rows of robustness.tsv; ``primary``: its claims.tsv
    row (estimate, ci_low, ci_high, verdict) or None."""
    from .plotting import savefig, setup

    plt = setup()
    cols = [c for c in sub.columns if c not in ("claim_id", *ROBUSTNESS_TAIL) and sub[c].notna().any()]
    levels = [(c, v) for c in cols for v in dict.fromkeys(sub[c].dropna())]
    n = len(sub)
    fig = plt.figure(figsize=(max(6.0, 0.12 * n + 3), 4.2 + 0.22 * len(levels)))
    gs = fig.add_gridspec(2, 1, height_ratios=[3.2, max(1.0, 0.22 * len(levels))], hspace=0.05)
    ax, dash = fig.add_subplot(gs[0]), fig.add_subplot(gs[1])
    low, high = claim["expected_range"]
    if n == 0 or not np.isfinite(sub["estimate"].astype(float)).any():
        ax.text(0.5, 0.5, "no specification could be measured (no runs for this claim at this scale)",
                ha="center", va="center", transform=ax.transAxes)
        dash.set_axis_off()
    else:
        s = sub.assign(_est=sub["estimate"].astype(float)).sort_values("_est", kind="stable",
                                                                          na_position="last").reset_index(drop=True)
        x = np.arange(n)
        est = s["_est"].to_numpy()
        lo, hi = s["ci_low"].to_numpy(dtype=float), s["ci_high"].to_numpy(dtype=float)
        side = s["side"].fillna("") if "side" in s else pd.Series([""] * n)
        outs = [outcome(v, sd) for v, sd in zip(s["verdict"], side)]
        finite = np.isfinite(np.r_[est, lo, hi])
        positive = finite.any() and (np.r_[est, lo, hi][finite] > 0).all()
        vals = np.r_[est, lo, hi][finite]
        log = bool(positive and vals.size and vals.max() / vals.min() > 20)
        for o in dict.fromkeys(outs):
            m = np.array([u == o for u in outs])
            ax.errorbar(x[m], est[m], yerr=[np.clip(est[m] - lo[m], 0, None), np.clip(hi[m] - est[m], 0, None)],
                        fmt="o", ms=3.5, lw=0.9, color=COLOURS.get(o, "k"), label=f"{o} ({m.sum()})")
        prim = s["primary"].astype(str).str.lower().eq("true").to_numpy() if "primary" in s else np.zeros(n, bool)
        if prim.any():
            ax.plot(x[prim], est[prim], marker="*", ms=14, ls="none", mec="k", mfc="gold", label="primary specification")
        elif primary is not None and np.isfinite(primary.get("estimate", np.nan)):
            ax.axhline(primary["estimate"], color="k", ls=":", lw=1, label="primary estimate (not in the grid)")
        if log:
            ax.set_yscale("log")
        ymin, ymax = ax.get_ylim()
        band_lo = ymin if low is None else low
        band_hi = ymax if high is None else high
        ax.axhspan(band_lo, band_hi, color="C2", alpha=0.15, label=f"expected: {claim['expected']}")
        ax.set_ylim(ymin, ymax)
        ax.set_xlim(-0.7, n - 0.3)
        ax.set_xticks([])
        ax.set_ylabel("estimate (95% CI)")
        ax.legend(fontsize=7, loc="best", ncol=2)
        # dashboard: which choices each specification used
        for j, (c, v) in enumerate(levels):
            m = (s[c] == v).to_numpy()
            dash.scatter(x[m & ~prim], np.full((m & ~prim).sum(), j), marker="s", s=9, color="k")
            dash.scatter(x[m & prim], np.full((m & prim).sum(), j), marker="s", s=14, color="goldenrod")
        dash.set_yticks(range(len(levels)))
        dash.set_yticklabels([f"{c.split('.')[-1]} = {_label(v)}" for c, v in levels], fontsize=7)
        dash.set_ylim(len(levels) - 0.5, -0.5)
        dash.set_xlim(-0.7, n - 0.3)
        dash.set_xlabel(f"{n} specifications, sorted by estimate")
        dash.grid(axis="x", visible=False)
    ax.set_title(f"{claim['id']}: specification curve", fontsize=10)
    savefig(fig, path)


def write_figures(robustness_tsv, claims_tsv, declared: list[dict], outdir, ids: list[str] | None = None) -> list[Path]:
    """A specification curve per claim with a robustness block (``ids``: those to draw; default every
    such claim decided in claims.tsv). Every requested figure is written, empty when nothing was measured."""
    rob = pd.read_csv(robustness_tsv, sep="\t") if Path(robustness_tsv).stat().st_size else pd.DataFrame()
    for c in rob.columns:
        if c not in ("claim_id", *ROBUSTNESS_TAIL):
            rob[c] = rob[c].map(_parse)
    decided = pd.read_csv(claims_tsv, sep="\t").set_index("claim_id")
    by_id = {c["id"]: c for c in declared}
    if ids is None:
        ids = [i for i in decided.index if "robustness" in by_id.get(i, {})]
    out = []
    for cid in ids:
        sub = rob[rob["claim_id"] == cid] if len(rob) else pd.DataFrame(columns=["claim_id", *ROBUSTNESS_TAIL])
        primary = decided.loc[cid].to_dict() if cid in decided.index else None
        path = figure_path(outdir, cid)
        empty = [c for c in sub.columns if c not in ("claim_id", *ROBUSTNESS_TAIL) and sub[c].isna().all()]
        draw(sub.drop(columns=empty), by_id[cid], primary, path)
        out.append(path)
    return out


def _parse(v):
    """robustness.tsv cells back to values (lists were written as JSON)."""
    if isinstance(v, str) and v[:1] in "[{":
        try:
            return json.dumps(json.loads(v))
        except ValueError:
            return v
    return v
