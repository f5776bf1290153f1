"""The figures of ``pointmaze_hiro`` (experiment.yaml's ``figures``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...tidy import present
from .analysis import ALGOS, LABELS, eval_curve, goal_curves, make_env, schedule


def figures(table: pd.DataFrame, params: dict, outdir) -> None:
    from pathlib import Path

    from ...plotting import curve_iqm_ci, savefig, setup

    plt = setup()
    outdir = Path(outdir)
    order = present(table, ALGOS)
    sc = schedule(params)
    goals = sc["goals"]

    gc = goal_curves(table)
    fig, axes = plt.subplots(1, len(goals) + 1, figsize=(4.2 * (len(goals) + 1), 4.0), constrained_layout=True,
                             squeeze=False)
    for ax, g, gs in zip(axes[0], goals, sc["goal_strs"]):
        sub = gc[np.isclose(gc["goal_x"], g[0]) & np.isclose(gc["goal_y"], g[1])]
        curve_iqm_ci(ax, sub, "env_steps", "success_rate", order=order, labels=LABELS, statistic="mean")
        ax.set_title(f"goal {gs}")
    curve_iqm_ci(axes[0][-1], eval_curve(table), "env_steps", "success_rate", order=order, labels=LABELS,
                 statistic="mean")
    axes[0][-1].set_title("mean over the goals")
    from matplotlib.ticker import FuncFormatter

    for ax in axes[0]:
        ax.set_ylim(-0.05, 1.05)
        ax.set_xlabel("environment steps")
        ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x / 1000:g}k"))
    axes[0][0].set_ylabel("evaluation success rate (mean over seeds, 95% CI)")
    fig.suptitle(f"Point maze: success (final distance < {sc['radius']:g}) per evaluation goal")
    savefig(fig, outdir / "pointmaze_hiro_success.png")

    env = make_env(params)
    tr = table[table["phase"] == "trace"]
    n = max(1, len(order))
    fig, axes = plt.subplots(len(goals), n, figsize=(3.0 * n, 3.0 * len(goals)), squeeze=False)
    for r, g in enumerate(goals):
        for ax, algo in zip(axes[r], order or [None]):
            env.plot_walls(ax)
            ax.scatter([g[0]], [g[1]], marker="*", s=160, color="C3", zorder=4)
            ax.add_patch(plt.Circle(tuple(g), sc["radius"], color="C3", fill=False, ls="--"))
            if algo is not None:
                sub = tr[(tr["algo"] == algo) & np.isclose(tr["goal_x"], g[0]) & np.isclose(tr["goal_y"], g[1])]
                for k, (seed, d) in enumerate(sub.groupby("seed")):
                    d = d.sort_values("t")
                    ax.plot(d["x"], d["y"], color=f"C{k % 10}", lw=1.0, alpha=0.9)
                    sg = d.dropna(subset=["sg_x"])
                    if not sg.empty:
                        ax.scatter(sg["sg_x"], sg["sg_y"], s=9, color=f"C{k % 10}", marker="x", alpha=0.8)
                if r == 0:
                    ax.set_title(LABELS.get(algo, algo), fontsize=9)
            ax.set_xticks([])
            ax.set_yticks([])
    fig.suptitle("Final evaluation: one trajectory per seed and goal (x = the manager's subgoals s_t + g_t)",
                 fontsize=9)
    savefig(fig, outdir / "pointmaze_hiro_subgoals.png")
