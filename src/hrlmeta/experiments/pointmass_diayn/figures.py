"""The figures of ``pointmass_diayn`` (experiment.yaml's ``figures``)."""

from __future__ import annotations

import pandas as pd

from ...tidy import present
from .analysis import (ALGOS, EVAL_MODE, EXPERIMENT, LABELS, LAYOUT_IDS, _episodes_subset, final_rows,
                       for_skill_count, select_skill_count, make_env)


def _draw_walls(ax, params: dict, layout: str) -> None:

    env = make_env(params, layout)
    b = env.bound
    ax.plot([-b, b, b, -b, -b], [-b, -b, b, b, -b], color="black", lw=1.2)
    if layout == "passage":
        lo, hi = env.gap_center - env.gap / 2, env.gap_center + env.gap / 2
        ax.plot([env.wall_x, env.wall_x], [-b, lo], color="black", lw=2.5)
        ax.plot([env.wall_x, env.wall_x], [hi, b], color="black", lw=2.5)
    ax.scatter([env.start[0]], [env.start[1]], marker="*", s=80, color="black", zorder=4)


def figures(table: pd.DataFrame, params: dict, outdir) -> None:
    from pathlib import Path

    from ...plotting import curve_iqm_ci, savefig, setup

    plt = setup()
    outdir = Path(outdir)
    table = for_skill_count(table, select_skill_count(table, params))  # the primary skill count
    algos = present(table, ALGOS)
    lays = present(table, list(LAYOUT_IDS), column="layout")
    seed = int(table["seed"].min())
    f = final_rows(table)
    f = f[(f["seed"] == seed) & (f["eval_mode"] == EVAL_MODE)]
    per = int(params["figure_episodes_per_skill"])
    f = _episodes_subset(f, per)
    fig, axes = plt.subplots(len(lays), len(algos), figsize=(4.2 * len(algos), 4.2 * len(lays)),
                             squeeze=False, constrained_layout=True)
    K = int(table["num_skills"].max())
    cmap = plt.get_cmap("tab10" if K <= 10 else "hsv")
    for i, lay in enumerate(lays):
        for j, algo in enumerate(algos):
            ax = axes[i, j]
            g = f[(f["algo"] == algo) & (f["layout"] == lay)]
            for _, r in g.iterrows():
                col = cmap(r["skill"] % 10) if K <= 10 else cmap(r["skill"] / K)
                ax.plot(r["traj_x"], r["traj_y"], color=col, lw=1.0, alpha=0.85)
                ax.scatter(r["traj_x"][-1:], r["traj_y"][-1:], color=col, s=10)
            _draw_walls(ax, params, lay)
            ax.set_aspect("equal")
            ax.set_title(f"{LABELS.get(algo, algo)}, {lay}", fontsize=10)
            ax.set_xticks([])
            ax.set_yticks([])
    fig.suptitle(f"Skills after training (seed {seed}, {per} {EVAL_MODE} rollouts per skill, colour = skill)")
    savefig(fig, outdir / f"{EXPERIMENT}_trajectories.png")

    # learning curves: per-seed means at every evaluation point
    st = table[table["eval_mode"] == EVAL_MODE]
    per_seed = st.groupby(["algo", "seed", "layout", "env_steps"]).agg(
        acc=("acc", "mean"), ret=("return", "mean"), coverage=("coverage", "first"),
        steps=("steps", "first")).reset_index()
    per_seed["reward_per_step"] = per_seed["ret"] / per_seed["steps"]
    metrics = [("acc", "discriminator accuracy\n(fresh rollouts)"),
               ("reward_per_step", "pseudo-reward per step\nlog q(z|s) - log p(z)"),
               ("coverage", "coverage (fraction of cells)")]
    fig, axes = plt.subplots(len(metrics), len(lays), figsize=(5.2 * len(lays), 3.2 * len(metrics)),
                             squeeze=False, constrained_layout=True)
    for j, lay in enumerate(lays):
        sub = per_seed[per_seed["layout"] == lay]
        for i, (col, label) in enumerate(metrics):
            ax = axes[i, j]
            curve_iqm_ci(ax, sub, "env_steps", col, order=algos, labels=LABELS)
            if col == "acc":
                ax.axhline(1.0 / K, ls="--", color="grey", lw=1, label=f"chance 1/K = {1 / K:.2f}")
            ax.set_ylabel(label)
            ax.set_xlabel("environment steps")
            if i == 0:
                ax.set_title(f"layout: {lay}")
                ax.legend(fontsize=8)
    fig.suptitle(f"Point mass: DIAYN vs reward-free skills, {EVAL_MODE} evaluation rollouts "
                 f"(IQM over {table['seed'].nunique()} seeds, 95% CI)")
    savefig(fig, outdir / f"{EXPERIMENT}_learning_curves.png")
