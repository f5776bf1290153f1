"""The figures of ``bandits_duan`` (experiment.yaml's ``figures``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ...tidy import present
from .analysis import ALGOS, LABELS, _cell, _cells, _published, _summary


def figures(table: pd.DataFrame, params: dict, outdir) -> None:
    from ... import plotting

    plt = plotting.setup()
    outdir = Path(outdir)
    summ = _summary(table)
    pub = _published()
    cells = _cells(table)
    algos = present(summ, ALGOS)
    ncol = min(3, max(len(cells), 1))
    nrow = int(np.ceil(len(cells) / ncol)) or 1

    # scores: bars with bootstrap CIs across seeds, published values as black dots
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.6 * ncol, 3.4 * nrow), squeeze=False)
    for ax, (n, k) in zip(axes.flat, cells):
        s = summ[summ["cell"] == _cell(n, k)].set_index("algo")
        xs = np.arange(len(algos))
        for i, a in enumerate(algos):
            if a in s.index:
                m, lo, hi = s.loc[a, ["mean", "lo", "hi"]]
                ax.bar(i, m, color=f"C{i}", alpha=0.85)
                ax.errorbar(i, m, yerr=[[m - lo], [hi - m]], color="k", capsize=3, lw=1)
            if (a, _cell(n, k)) in pub:
                ax.plot(i, pub[(a, _cell(n, k))], "D", color="black", ms=5,
                        label="published (Table 1)" if i == 0 else None)
        lo_y = 0.9 * min(s["mean"].min(), min([v for (a, c), v in pub.items() if c == _cell(n, k)] or [np.inf]))
        ax.set_ylim(bottom=max(lo_y, 0))
        ax.set_xticks(xs, [LABELS[a] for a in algos], rotation=60, ha="right", fontsize=8)
        ax.set_title(f"n = {n} pulls, k = {k} arms")
        ax.set_ylabel("total reward per task")
    for ax in list(axes.flat)[len(cells):]:
        ax.axis("off")
    handles = [plt.Line2D([], [], marker="D", color="black", ls="", label="published (Duan et al. 2016, Table 1)")]
    fig.suptitle("Bernoulli bandits: mean total reward (bars: 95% bootstrap CI over seeds)")
    fig.tight_layout()
    fig.legend(handles=handles, loc="upper center", ncol=1, frameon=False, bbox_to_anchor=(0.5, 0.0))
    plotting.savefig(fig, outdir / "bandits_duan_scores.png")

    # RL^2 learning curves, one panel per trained cell
    tr = table[(table["phase"] == "meta_train")]
    rl_cells = sorted({(int(n), int(k)) for n, k in zip(tr["n"], tr["k"])}) or [(0, 0)]
    fig, axes = plt.subplots(1, len(rl_cells), figsize=(4.2 * len(rl_cells), 3.3), squeeze=False)
    for ax, (n, k) in zip(axes.flat, rl_cells):
        sub = tr[(tr["n"] == n) & (tr["k"] == k)]
        if sub.empty:
            ax.text(0.5, 0.5, "RL² not trained at this scale", ha="center", transform=ax.transAxes)
            continue
        plotting.curve_iqm_ci(ax, sub, "iteration", "return", hue="algo", smooth=5, labels=LABELS)
        s = summ[summ["cell"] == _cell(n, k)].set_index("algo")
        for a, ls in (("gittins", "--"), ("greedy", ":"), ("random", "-.")):
            if a in s.index:
                ax.axhline(s.loc[a, "mean"], color="gray", ls=ls, lw=1, label=LABELS[a])
        if ("rl2", _cell(n, k)) in pub:
            ax.axhline(pub[("rl2", _cell(n, k))], color="black", lw=1, label="RL² published")
        ax.set_title(f"n = {n}, k = {k}")
        ax.set_xlabel("training iteration")
        ax.set_ylabel("total reward per trial (training batch)")
        ax.legend(fontsize=7)
    fig.suptitle("RL² meta-training on Bernoulli bandits (IQM over seeds, 95% CI)", y=1.03)
    fig.tight_layout()
    plotting.savefig(fig, outdir / "bandits_duan_rl2_learning_curve.png")

    # cumulative pseudo-regret against the pull index
    pp = table[table["phase"] == "per_pull"]
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.6 * ncol, 3.4 * nrow), squeeze=False)
    for ax, (n, k) in zip(axes.flat, cells):
        sub = pp[(pp["n"] == n) & (pp["k"] == k)]
        for i, a in enumerate(algos):
            g = sub[sub["algo"] == a].groupby("iteration")["regret"].mean()
            if len(g):
                ax.plot(g.index, g.values, color=f"C{i}", label=LABELS[a], lw=1.5)
        ax.set_title(f"n = {n}, k = {k}")
        ax.set_xlabel("pull index t")
        ax.set_ylabel("cumulative pseudo-regret")
    for ax in list(axes.flat)[len(cells):]:
        ax.axis("off")
    h, lab = axes.flat[0].get_legend_handles_labels()
    fig.legend(h, lab, loc="upper center", ncol=min(len(lab), 9), frameon=False, bbox_to_anchor=(0.5, 1.06))
    fig.suptitle("Bernoulli bandits: expected regret vs pulls (mean over seeds and tasks)", y=1.1)
    fig.tight_layout()
    plotting.savefig(fig, outdir / "bandits_duan_regret.png")
