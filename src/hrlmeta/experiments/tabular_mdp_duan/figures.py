"""The figures of ``tabular_mdp_duan`` (experiment.yaml's ``figures``)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ...tidy import present
from .analysis import ALGOS, LABELS, _published, _summary


def figures(table: pd.DataFrame, params: dict, outdir) -> None:
    from ... import plotting

    plt = plotting.setup()
    outdir = Path(outdir)
    summ = _summary(table)
    pub = _published()
    ns = sorted(summ["n"].unique())
    algos = present(summ, ALGOS)
    fig, axes = plt.subplots(1, len(ns), figsize=(4.4 * len(ns), 3.6), squeeze=False)
    for ax, n in zip(axes.flat, ns):
        s = summ[summ["n"] == n].set_index("algo")
        for i, a in enumerate(algos):
            if a in s.index:
                m, lo, hi = s.loc[a, ["mean", "lo", "hi"]]
                ax.bar(i, m, color=f"C{i}", alpha=0.85)
                ax.errorbar(i, m, yerr=[[m - lo], [hi - m]], color="k", capsize=3, lw=1)
            if (a, n) in pub:
                ax.plot(i, pub[(a, n)], "D", color="black", ms=5)
        if ("best_baseline", n) in pub:
            ax.axhline(pub[("best_baseline", n)], color="black", ls="--", lw=1)
        ax.set_xticks(range(len(algos)), [LABELS[a] for a in algos], rotation=60, ha="right", fontsize=8)
        ax.set_title(f"n = {n} episodes (T = {params['horizon']})")
        ax.set_ylabel("total reward per task")
    handles = [plt.Line2D([], [], marker="D", color="black", ls="", label="published (Duan et al. 2016, Table 2)"),
               plt.Line2D([], [], color="black", ls="--", label="published best baseline")]
    fig.suptitle("Random tabular MDPs: mean total reward (bars: 95% bootstrap CI over seeds)")
    fig.tight_layout()
    fig.legend(handles=handles, loc="upper center", ncol=2, frameon=False, bbox_to_anchor=(0.5, 0.0))
    plotting.savefig(fig, outdir / "tabular_mdp_duan_scores.png")

    tr = table[table["phase"] == "meta_train"]
    rl_ns = sorted(tr["n"].unique()) or [0]
    fig, axes = plt.subplots(1, len(rl_ns), figsize=(4.4 * len(rl_ns), 3.4), squeeze=False)
    for ax, n in zip(axes.flat, rl_ns):
        sub = tr[tr["n"] == n]
        if sub.empty:
            ax.text(0.5, 0.5, "RL² not trained at this scale", ha="center", transform=ax.transAxes)
            continue
        plotting.curve_iqm_ci(ax, sub, "iteration", "return", hue="algo", smooth=5, labels=LABELS)
        s = summ[summ["n"] == n].set_index("algo")
        for a, ls in (("best_baseline", "--"), ("psrl", ":"), ("random", "-.")):
            if a in s.index:
                ax.axhline(s.loc[a, "mean"], color="gray", ls=ls, lw=1, label=LABELS[a])
        if ("rl2", n) in pub:
            ax.axhline(pub[("rl2", n)], color="black", lw=1, label="RL² published")
        ax.set_title(f"n = {n} episodes")
        ax.set_xlabel("training iteration")
        ax.set_ylabel("total reward per trial (training batch)")
        ax.legend(fontsize=7)
    fig.suptitle("RL² meta-training on random tabular MDPs (IQM over seeds, 95% CI)", y=1.03)
    fig.tight_layout()
    plotting.savefig(fig, outdir / "tabular_mdp_duan_rl2_learning_curve.png")
