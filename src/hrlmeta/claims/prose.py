"""What a verdict depends on: one sentence per claim generated from its rows of robustness.tsv
(:func:`dependence_sentence`, :func:`outcome`); see :mod:`hrlmeta.claims`."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .samples import ROBUSTNESS_TAIL

# ----------------------------------------------------------------------------------------------
# what a verdict depends on (one sentence per claim, from robustness.tsv)
# ----------------------------------------------------------------------------------------------


def _fmt_value(v) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _short(col: str) -> str:
    return col.split(".")[-1]


def _conditions(sub: pd.DataFrame, mask: np.ndarray, cols: list[str]) -> list[str]:
    """Single-choice conditions (``col >= v``, ``col <= v`` for numeric choices, else ``col = v``) under
    which ``mask`` holds for every specification that has the choice; trivial ones (all specifications)
    are left out."""
    out = []
    for c in cols:
        col = sub[c]
        have = col.notna().to_numpy()
        vals = list(dict.fromkeys(col[have]))
        if len(vals) < 2:
            continue
        numeric = all(isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))
                      for v in vals)
        found = []
        if numeric and len(vals) > 2:
            x = col.to_numpy(dtype=float)
            order = sorted(vals)
            for v in order[1:]:
                if mask[have & (x >= v)].all():
                    found.append(f"{_short(c)} >= {_fmt_value(v)}" if v != order[-1] else
                                 f"{_short(c)} = {_fmt_value(v)}")
                    break
            for v in reversed(order[:-1]):
                if mask[have & (x <= v)].all():
                    found.append(f"{_short(c)} <= {_fmt_value(v)}" if v != order[0] else
                                 f"{_short(c)} = {_fmt_value(v)}")
                    break
        if not found:
            for v in vals:
                sel = have & (col == v).to_numpy()
                if mask[sel].all():
                    found.append(f"{_short(c)} = {_fmt_value(v)}")
        out += found
    return out


def _necessary(sub: pd.DataFrame, mask: np.ndarray, cols: list[str]) -> list[str]:
    """Single-choice conditions every specification in ``mask`` satisfies (and some outside do not)."""
    out = []
    if not mask.any():
        return out
    for c in cols:
        col = sub[c]
        if col[mask].isna().any():
            continue
        vals = list(dict.fromkeys(col.dropna()))
        mine = list(dict.fromkeys(col[mask]))
        numeric = all(isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))
                      for v in vals)
        if numeric and len(vals) > 2:
            if min(mine) == max(mine):
                out.append(f"{_short(c)} = {_fmt_value(mine[0])}")
                continue
            if min(mine) > min(vals):
                out.append(f"{_short(c)} >= {_fmt_value(min(mine))}")
            if max(mine) < max(vals):
                out.append(f"{_short(c)} <= {_fmt_value(max(mine))}")
        elif len(mine) == 1 and len(vals) > 1:
            out.append(f"{_short(c)} = {_fmt_value(mine[0])}")
    return out


def outcome(verdict: str, side: str = "") -> str:
    """A verdict with the side of a failure: ``fails (above)``, ``fails (below)``, ``holds``, ..."""
    return f"{verdict} ({side})" if verdict == "fails" and isinstance(side, str) and side else verdict


def dependence_sentence(rob: pd.DataFrame, claim_id: str, primary_verdict: str, primary_side: str = "") -> str:
    """What the claim's verdict depends on, generated from its rows of robustness.tsv, e.g. "fails (above)
    in 40/72 specifications (as the primary), fails (below) in 20/72, inconclusive in 12/72; fails (below)
    whenever full_window = True"."""
    sub = rob[rob["claim_id"] == claim_id].reset_index(drop=True)
    if sub.empty:
        return ""
    cols = [c for c in sub.columns if c not in ("claim_id", *ROBUSTNESS_TAIL) and sub[c].notna().any()]
    side_col = sub["side"] if "side" in sub else pd.Series([""] * len(sub))
    out = pd.Series([outcome(v, s if isinstance(s, str) else "") for v, s in zip(sub["verdict"], side_col)])
    primary = outcome(primary_verdict, primary_side)
    n = len(sub)
    counts = out.value_counts()
    order = [primary] + sorted(o for o in counts.index if o != primary)
    if counts.get(primary, 0) == n:
        return (f"{primary} in all {n} specifications: the verdict does not depend on the choices varied "
                f"({', '.join(_short(c) for c in cols)}).")
    text = ", ".join(f"{o} in {int(counts[o])}/{n}" + (" (the primary's verdict)" if o == primary else "")
                     for o in order if o in counts)
    clauses = []
    for o in order:
        if o not in counts:
            continue
        mask = (out == o).to_numpy()
        conds = _conditions(sub, mask, cols)
        if conds:
            clauses.append(f"{o} whenever {' or '.join(conds)}")
        need = [c for c in _necessary(sub, mask, cols) if c not in conds]
        if 0 < len(need) <= 2:
            clauses.append(f"{o} only where {' and '.join(need)}")
    # the primary's verdict, by value of each choice (the choices that move it, most first)
    agree = (out == primary).to_numpy()
    by_choice = []
    for c in cols:
        have = sub[c].notna().to_numpy()
        share = pd.Series(agree[have]).groupby(sub[c][have].map(_fmt_value).to_numpy(), sort=False).agg(
            ["sum", "count"])
        if len(share) > 1:
            spread = (share["sum"] / share["count"]).max() - (share["sum"] / share["count"]).min()
            by_choice.append((spread, f"{_short(c)} " + ", ".join(
                f"{v}: {int(r['sum'])}/{int(r['count'])}" for v, r in share.iterrows())))
    by_choice = [t for sp, t in sorted(by_choice, key=lambda x: -x[0]) if sp > 0]
    tail = f" Specifications with the primary's verdict, by choice: {'; '.join(by_choice)}." if by_choice else ""
    return f"{text} specifications" + (f"; {'; '.join(clauses)}" if clauses else "") + "." + tail
