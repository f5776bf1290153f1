"""The figures of the Directed-MAML task-family harness (meta_training, adaptation, time_per_iter), drawn
by ``cartpole_meta``, ``cartpole_flip_meta`` and ``lunarlander_meta`` (each experiment's ``figures.py``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..tidy import present
from .meta_task_family_analysis import ALGOS, LABELS, TRAINED, cost_rows
from .torch_runs import adapt_rows


def figures(table: pd.DataFrame, params: dict, outdir, experiment: str = "cartpole_meta", title: str = "CartPole",
            ref_line: tuple[float, str] | None = None) -> None:
    """The three figures (meta_training, adaptation, time_per_iter); ``ref_line`` = (return, label) drawn on the training curve
    (default: CartPole's horizon, the highest return there is)."""
    from pathlib import Path

    from matplotlib.ticker import MaxNLocator

    from ..plotting import curve_iqm_ci, savefig, setup

    plt = setup()
    outdir = Path(outdir)
    if ref_line is None:
        horizon = int(params["env"]["horizon"])  # the CartPole family's episode length (CartPoleFamily.horizon)
        ref_line = (horizon, f"horizon ({horizon})")

    fig, ax = plt.subplots(figsize=(6.5, 4))
    mt = table[table["phase"] == "meta_train"]
    tr_order = present(mt, TRAINED)
    curve_iqm_ci(ax, mt, "iteration", "return", order=tr_order, labels=LABELS, smooth=3)
    ax.axhline(ref_line[0], color="grey", ls=":", lw=1, label=ref_line[1])
    ax.set_xlabel("meta-iteration")
    ax.set_ylabel("return after adaptation (training tasks)")
    ax.set_title(f"{title} task family: meta-training (IQM over seeds, 95% CI)")
    ax.legend(fontsize=8)
    savefig(fig, outdir / f"{experiment}_meta_training.png")

    ad = adapt_rows(table)
    whens = sorted(ad.loc[ad["algo"] != "random_init", "iteration"].unique()) or [0]
    fig, axes = plt.subplots(1, len(whens), figsize=(4.2 * len(whens) + 1, 4), squeeze=False, sharey=True,
                             constrained_layout=True)
    for ax, when in zip(axes[0], whens):
        sub = ad[(ad["iteration"] == when) | (ad["algo"] == "random_init")]
        order = present(sub, ALGOS)
        curve_iqm_ci(ax, sub, "step", "return", order=order, labels=LABELS)
        ax.set_xlabel("adaptation steps on the held-out task")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_title(f"after {when} meta-iterations")
    axes[0][0].set_ylabel("average return per trajectory")
    axes[0][-1].legend(fontsize=7)
    fig.suptitle(f"{title}: adaptation on held-out tasks (IQM over seeds, 95% CI; random init: untrained)")
    savefig(fig, outdir / f"{experiment}_adaptation.png")

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), constrained_layout=True)
    med = mt.groupby(["algo", "seed"])["wall_s"].median().reset_index()
    order = present(med, TRAINED)
    for i, a in enumerate(order):
        v = med[med["algo"] == a]["wall_s"].to_numpy()
        axes[0].bar(i, np.median(v), color=f"C{i}")
        axes[0].scatter(np.full(len(v), i), v, color="k", s=10, zorder=3)
    axes[0].set_xticks(range(len(order)), [LABELS[a] for a in order], rotation=25, ha="right")
    axes[0].set_ylabel("median s per meta-iteration")
    axes[0].set_title("training runs (separate jobs; dots: seeds)")
    cost = cost_rows(table)
    corder = [a for a in TRAINED if a in cost]
    for i, a in enumerate(corder):
        v = cost[a].dropna().to_numpy()
        axes[1].bar(i, np.median(v), color=f"C{TRAINED.index(a)}")
        axes[1].scatter(np.full(len(v), i), v, color="k", s=10, zorder=3)
    axes[1].set_xticks(range(len(corder)), [LABELS[a] for a in corder], rotation=25, ha="right")
    axes[1].set_ylabel("median s per meta-iteration")
    axes[1].set_title("interleaved in one process, from MAML's final parameters")
    fig.suptitle(f"{title}: wall time per meta-iteration (1 CPU thread)")
    savefig(fig, outdir / f"{experiment}_time_per_iter.png")
