"""The figures of ``nav2d_finn`` (experiment.yaml's ``figures``)."""

from __future__ import annotations

import pandas as pd

from ...tidy import present
from .analysis import ALGOS, LABELS, _median_iter_time, adapt_rows, cost_sweep


def figures(table: pd.DataFrame, params: dict, outdir) -> None:
    from pathlib import Path

    from ...plotting import curve_iqm_ci, savefig, setup

    plt = setup()
    outdir = Path(outdir)
    order = present(table, ALGOS)

    fig, ax = plt.subplots(figsize=(6, 4))
    mt = table[table["phase"] == "meta_train"]
    tr_order = present(mt, ("maml", "fomaml", "pretrained"))
    curve_iqm_ci(ax, mt, "iteration", "return", order=tr_order, labels=LABELS, smooth=3)
    ax.set_xlabel("meta-iteration")
    ax.set_ylabel("average return per trajectory")
    ax.set_title("2D navigation: meta-training (post-update return; IQM, 95% CI)")
    if tr_order:
        ax.legend()
    savefig(fig, outdir / "nav2d_finn_meta_training.png")

    fig, ax = plt.subplots(figsize=(6, 4))
    ad = adapt_rows(table)
    curve_iqm_ci(ax, ad, "step", "return", order=order, labels=LABELS)
    for i, a in enumerate(order):
        sub = ad[ad["algo"] == a].groupby("step")["return"].median()
        ax.scatter(sub.index, sub.values, s=12, color=f"C{i}")
    ax.set_xlabel("number of gradient steps on the held-out task")
    ax.set_ylabel("average return per trajectory")
    ax.set_title("2D navigation: adaptation on held-out goals (IQM over seeds, 95% CI)")
    ax.legend()
    savefig(fig, outdir / "nav2d_finn_adaptation.png")

    cost = cost_sweep(table)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), constrained_layout=True)
    if not cost.empty:
        g = cost.groupby("width")[["ratio", "s_maml", "s_fomaml"]].median().sort_index()
        axes[0].plot(g.index, g["ratio"], marker="o", color="C0", label="MAML / FOMAML (same process)")
        axes[0].set_ylabel("wall-time ratio per meta-iteration")
        axes[1].plot(g.index, g["s_maml"], marker="o", color="C0", label=LABELS["maml"])
        axes[1].plot(g.index, g["s_fomaml"], marker="s", color="C1", label=LABELS["fomaml"])
        axes[1].set_yscale("log")
        for ax in axes:
            ax.set_xscale("log", base=2)
            ax.set_xlabel("hidden units per layer (2 layers)")
        axes[1].set_ylabel("seconds per meta-iteration (median)")
        axes[1].legend()
        axes[1].set_title("time per meta-iteration")
    else:
        mt = table[table["phase"] == "meta_train"]
        med = mt.groupby("algo")["wall_s"].median()
        axes[1].bar([LABELS.get(a, a) for a in med.index], med.values)
        axes[1].set_ylabel("median seconds per meta-iteration")
    mt = table[table["phase"] == "meta_train"]
    if {"maml", "fomaml"} <= set(mt["algo"]):
        r = (_median_iter_time(table, "maml") / _median_iter_time(table, "fomaml")).dropna()
        w = tuple(params["policy"]["hidden"])[0]
        axes[0].scatter([w] * len(r), r.values, color="C2", s=14, zorder=3,
                        label="training runs, per seed (config width)")
    axes[0].axhline(10, ls="--", color="grey", lw=1, label="chapter's claim: 10x")
    axes[0].set_ylim(bottom=0)
    axes[0].legend(fontsize=8)
    axes[0].set_title("MAML / FOMAML cost ratio")
    fig.suptitle("2D navigation: cost of the second-order meta-gradient (1 CPU thread)")
    savefig(fig, outdir / "nav2d_finn_cost_ratio.png")
