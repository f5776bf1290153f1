"""The figures of ``chain_hdqn`` (experiment.yaml's ``figures``)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ...tidy import present
from .analysis import ALGOS, EXPERIMENT, LABELS, PAPER_VALUES, main_rows, optimal_return


def _blocks(table: pd.DataFrame, column: str, block: int) -> pd.DataFrame:
    """Per (algo, seed, block): the mean of ``column`` over the block's episodes; x = the block's last episode."""
    t = table[["algo", "seed", "episode", column]].copy()
    t["x"] = ((t["episode"] - 1) // block + 1) * block
    return t.groupby(["algo", "seed", "x"], as_index=False)[column].mean()


def figures(table: pd.DataFrame, params: dict, outdir) -> None:
    from ...plotting import curve_iqm_ci, savefig, setup

    plt = setup()
    outdir = Path(outdir)
    table = main_rows(table)
    algos = present(table, ALGOS)
    block = int(params["figure_block"])
    opt = optimal_return(params)

    fig, ax = plt.subplots(figsize=(8, 4.8))
    blk = _blocks(table, "return", block)
    curve_iqm_ci(ax, blk, "x", "return", hue="algo", order=list(ALGOS), labels=LABELS, reps=500)
    ax.axhline(opt, color="k", ls="--", lw=1, label=f"optimum (oracle) {opt:.3f}")
    ax.axhline(PAPER_VALUES["hdqn"], color="C1", ls=":", lw=1, label="paper, h-DQN (~0.13)")
    ax.axhline(PAPER_VALUES["q_learning"], color="C0", ls=":", lw=1, label="paper, Q-learning (0.01)")
    ax.set_xlabel("episode")
    ax.set_ylabel(f"extrinsic reward per episode (mean over {block}-episode blocks)")
    ax.set_title("Stochastic chain (Kulkarni et al. 2016, Fig. 3 setup): IQM over seeds, 95% CI")
    ax.legend(fontsize=8)
    savefig(fig, outdir / f"{EXPERIMENT}_learning_curves.png")

    fig, axes = plt.subplots(1, max(len(algos), 1), figsize=(5 * max(len(algos), 1), 4.2), squeeze=False,
                             sharey=True)
    for ax, algo in zip(axes[0], algos):
        sub = table[table["algo"] == algo]
        long = pd.concat([_blocks(sub, f"visits_s{s}", block).rename(columns={f"visits_s{s}": "visits"})
                          .assign(state=f"s{s}") for s in (3, 4, 5, 6)], ignore_index=True)
        curve_iqm_ci(ax, long, "x", "visits", hue="state", order=["s3", "s4", "s5", "s6"], reps=300)
        ax.set_title(LABELS[algo])
        ax.set_xlabel("episode")
        ax.legend(fontsize=8, title="state")
    axes[0][0].set_ylabel(f"visits per episode (mean over {block}-episode blocks)")
    fig.suptitle("Visits to s3..s6 (Kulkarni et al. 2016, Fig. 4 analogue): IQM over seeds, 95% CI")
    savefig(fig, outdir / f"{EXPERIMENT}_visits.png")
