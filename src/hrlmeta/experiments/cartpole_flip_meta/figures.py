"""The figures of ``cartpole_flip_meta`` (experiment.yaml's ``figures``): the task-family harness's plus
``adaptation_per_task`` (pre- vs post-adaptation return of every held-out task)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...shared.meta_task_family_figures import figures as family_figures
from ...tidy import present
from .analysis import ALGOS, LABELS, per_task

EXPERIMENT = "cartpole_flip_meta"


def figures(table: pd.DataFrame, params: dict, outdir) -> None:
    from pathlib import Path

    from ...plotting import savefig, setup

    family_figures(table, params, outdir, experiment=EXPERIMENT, title="CartPole, mirrored actions")
    plt = setup()
    K = len(params["eval"]["step_sizes"])
    pre, post = per_task(table, 0), per_task(table, K)
    m = pre.merge(post, on=["algo", "seed", "task"], suffixes=("_pre", "_post"))
    algos = present(m, ALGOS) or ["none"]
    fig, axes = plt.subplots(1, len(algos), figsize=(4.2 * len(algos), 4.2), squeeze=False, sharex=True,
                             sharey=True)
    horizon = int(params["env"]["horizon"])  # the family's episode length (CartPoleFamily.horizon)
    for ax, a in zip(axes[0], algos):
        g = m[m["algo"] == a]
        ax.scatter(g["return_pre"], g["return_post"], s=8, alpha=0.5)
        ax.plot([0, horizon], [0, horizon], color="grey", ls=":", lw=1, label="no change")
        if len(g):
            ax.set_title(f"{LABELS.get(a, a)}: mean gain {np.mean(g['return_post'] - g['return_pre']):+.1f}",
                         fontsize=9)
        ax.set_xlabel("return before adaptation")
        ax.legend(fontsize=7)
    axes[0][0].set_ylabel(f"return after {K} adaptation step(s)")
    fig.suptitle("Mirrored-action CartPole: every held-out task of every seed, before vs after adaptation")
    savefig(fig, Path(outdir) / f"{EXPERIMENT}_adaptation_per_task.png")
