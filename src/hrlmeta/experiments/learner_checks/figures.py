"""The figures of ``learner_checks`` (experiment.yaml's ``figures``)."""

from __future__ import annotations

import pandas as pd

from .analysis import ALGOS, eval_rows


def figures(table: pd.DataFrame, params: dict, outdir) -> None:
    from pathlib import Path

    import numpy as np

    from ...plotting import savefig, setup

    plt = setup()
    algos = [a for a in ALGOS if a in set(table["algo"])]
    if not algos:
        return
    n = len(algos)
    cols = min(4, n)
    rows = (n + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.3 * rows), squeeze=False)
    for ax, algo in zip(axes.flat, algos):
        t = eval_rows(table, algo)
        piv = t.pivot_table(index="env_steps", columns="seed", values="return")
        x = piv.index.to_numpy(dtype=float)
        v = piv.to_numpy(dtype=float)
        mean = np.nanmean(v, axis=1)
        ax.plot(x, v, color="0.75", lw=0.7)
        ax.plot(x, mean, color="C0", lw=2, label=f"ours: mean of {v.shape[1]} seeds")
        ref = (params.get(algo) or {}).get("reference")
        if ref:
            ax.errorbar([ref["env_steps"]], [ref["mean"]], yerr=[[ref["spread"]], [ref["spread"]]],
                        fmt="s", color="C3", capsize=4,
                        label=f"published: {ref['mean']:g} ± {ref['spread']:g} ({ref['n_runs']} runs)")
        ax.set_title(algo, fontsize=10)
        ax.set_xlabel("training environment steps")
        ax.set_ylabel("evaluation return")
        ax.legend(fontsize=7, loc="lower right")
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    fig.tight_layout()
    savefig(fig, Path(outdir) / "learner_checks_learning_curves.png")
    plt.close(fig)
