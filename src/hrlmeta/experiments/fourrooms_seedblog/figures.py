"""The figures of ``fourrooms_seedblog`` (experiment.yaml's ``figures``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ...algos import listing_fourrooms as sb
from ...tidy import present
from .analysis import ALGOS, LABELS, audit_summary, random_policy_reference


def figures(table: pd.DataFrame, params: dict, outdir: Path) -> None:
    from ... import plotting

    plt = plotting.setup()
    outdir = Path(outdir)
    ref = random_policy_reference(int(params["size"]), int(params["max_steps"]))
    rp = ref["random_policy"]
    smooth = int(params["smooth"])
    order = present(table, ALGOS)
    n_seeds = table["seed"].nunique()

    # --- learning curves, as the chapter plots them (steps and reward per episode) ---
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.2))
    for ax, col, ylab, key in (
        (axes[0], "steps", "Steps per episode (primitive steps)", "expected_steps"),
        (axes[1], "return", "Return per episode (undiscounted)", None),
    ):
        plotting.curve_iqm_ci(ax, table, "episode", col, order=order, smooth=smooth, labels=LABELS)
        if key:
            for i, a in enumerate(order):
                ax.axhline(rp[a][key], color=f"C{i}", ls="--", lw=1,
                           label=f"uniform random policy, {LABELS[a].split()[0].lower()} episodes (exact)")
        ax.set_xlabel("Episode")
        ax.set_ylabel(ylab)
        ax.legend(fontsize=8)
    axes[0].set_title("'Steps to Goal' as the chapter plots it")
    axes[1].set_title("Learning curves: rewards")
    fig.suptitle(f"The chapter's Four Rooms listing as written: IQM over {n_seeds} seeds, 95% CI, "
                 f"{smooth}-episode moving average", fontsize=10)
    plotting.savefig(fig, outdir / "fourrooms_seedblog_learning_curves.png")

    # --- audit: how episodes end, success over training, steps of successful episodes ---
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    reasons = [sb.GOAL, sb.NO_OPTION, sb.STEP_CAP]
    frac = (table.groupby("algo")["ended_by"].value_counts(normalize=True).unstack(fill_value=0.0)
            .reindex(index=order, columns=reasons, fill_value=0.0))
    bottom = np.zeros(len(order))
    for j, r in enumerate(reasons):
        axes[0].bar([LABELS[a] for a in order], frac[r].to_numpy(), bottom=bottom, label=r, color=f"C{j + 2}")
        bottom += frac[r].to_numpy()
    axes[0].set_ylabel("Fraction of episodes")
    axes[0].set_title("How episodes end (all seeds, all episodes)")
    axes[0].legend(title="ended_by", fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=3)
    tab = table.assign(success_f=table["success"].astype(float))
    plotting.curve_iqm_ci(axes[1], tab, "episode", "success_f", order=order, statistic="mean",
                          smooth=max(smooth, 25), labels=LABELS)
    for i, a in enumerate(order):
        axes[1].axhline(rp[a]["success_prob"], color=f"C{i}", ls="--", lw=1,
                        label=f"uniform random policy ({a}, exact)")
    axes[1].set_ylim(0, 1)
    axes[1].set_xlabel("Episode")
    axes[1].set_ylabel("Success rate (goal reached)")
    axes[1].set_title(f"Success over training (mean over seeds, {max(smooth, 25)}-ep. avg)")
    axes[1].legend(fontsize=7)
    summ = audit_summary(table, params).set_index("algo").reindex(order)
    xs = np.arange(len(order))
    w = 0.27
    axes[2].bar(xs - w, summ["mean_steps"], w, label="all episodes (the chapter's measure)", color="C0")
    axes[2].bar(xs, summ["steps_successful"], w, label="episodes that reached the goal", color="C1")
    axes[2].bar(xs + w, summ["random_expected_steps"], w, label="uniform random policy (exact)", color="C7")
    axes[2].set_xticks(xs, [LABELS[a] for a in order])
    axes[2].set_ylabel("Mean steps per episode")
    axes[2].set_title("Steps: all vs successful episodes vs random")
    axes[2].set_ylim(0, 1.3 * float(np.nanmax(summ[["mean_steps", "random_expected_steps"]].to_numpy())))
    axes[2].legend(fontsize=8)
    fig.suptitle("Audit of the listing: options episodes stop at the room exit", fontsize=10)
    plotting.savefig(fig, outdir / "fourrooms_seedblog_audit.png")
