"""The figures of ``fourrooms_optioncritic`` (experiment.yaml's ``figures``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...tidy import present
from .analysis import (ALGOS, EXPERIMENT, LABELS, N_OPTIONS, _env, eval_terminations, final_terminations,
                       termination_lift)


def _beta_grid(env, beta_row: np.ndarray) -> np.ndarray:
    grid = np.full(env.grid.shape, np.nan)
    grid[env.cells[:, 0], env.cells[:, 1]] = beta_row
    return grid


def figures(table: pd.DataFrame, params: dict, outdir) -> None:
    from pathlib import Path

    from ...plotting import curve_iqm_ci, savefig, setup

    plt = setup()
    outdir = Path(outdir)
    algos = present(table, ALGOS)
    k = int(params["switch_episode"])

    fig, ax = plt.subplots(figsize=(9, 4.8))
    curve_iqm_ci(ax, table, "episode", "steps", hue="algo", order=list(ALGOS),
                 labels={a: LABELS[a] for a in algos}, smooth=int(params["figure_smooth"]), reps=200)
    ax.axvline(k + 0.5, color="k", ls="--", lw=1, label=f"goal moves (episode {k + 1})")
    ax.set_yscale("log")
    ax.set_xlabel("episode")
    ax.set_ylabel("steps per episode")
    ax.set_title(f"Four Rooms, goal switch (Bacon et al. 2017, Fig. 2): IQM over "
                 f"{table['seed'].nunique()} seeds, 95% CI, {params['figure_smooth']}-episode moving average")
    ax.legend(fontsize=8)
    savefig(fig, outdir / f"{EXPERIMENT}_learning_curves.png")

    env = _env(float(params["success_prob"]), params["dynamics"])
    ft = final_terminations(table)
    oc = [a for a in algos if a in N_OPTIONS]
    n_cols = max([4] + [2 * len(oc)])
    fig, axes = plt.subplots(2, n_cols, figsize=(2.6 * n_cols, 5.6), squeeze=False)
    for ax in axes.ravel():
        ax.set_axis_off()
    cmap = plt.get_cmap("viridis").copy()
    cmap.set_bad("black")
    if not ft.empty and "option_critic_4" in oc:
        sub = ft[ft["algo"] == "option_critic_4"]
        seed0 = int(sub["seed"].min())
        for o in range(4):
            row = sub[(sub["seed"] == seed0) & (sub["option"] == o)].sort_values("state")["beta"].to_numpy()
            ax = axes[0, o]
            im = ax.imshow(_beta_grid(env, row), cmap=cmap, vmin=0, vmax=1)
            ax.set_title(f"4 options (seed {seed0}):\noption {o}", fontsize=9)
        fig.colorbar(im, ax=axes[0, :4].tolist(), shrink=0.8, label="termination probability")
    for j, a in enumerate(oc):
        sub = ft[ft["algo"] == a]
        mean = sub.groupby("state")["beta"].mean().reindex(range(env.n_states)).to_numpy()
        ax = axes[1, j]
        im = ax.imshow(_beta_grid(env, mean), cmap=cmap, vmin=0, vmax=1)
        for h in env.hallways:
            r, c = env.cells[h]
            ax.add_patch(plt.Rectangle((c - 0.5, r - 0.5), 1, 1, fill=False, ec="r", lw=1.2))
        ax.set_title(f"{N_OPTIONS[a]} options: mean over\noptions and {sub['seed'].nunique()} seeds", fontsize=9)
    fig.suptitle("Final termination probabilities (Bacon et al. 2017, Fig. 3); walls black, hallways outlined red")
    savefig(fig, outdir / f"{EXPERIMENT}_terminations.png")

    # where the options terminate: termination events over the evaluation episodes after training
    ev = eval_terminations(table)
    n_rows = max(1, len(oc))
    fig, axes = plt.subplots(n_rows, 3, figsize=(10.5, 3.4 * n_rows), squeeze=False)
    for ax in axes.ravel():
        ax.set_axis_off()
    hot = plt.get_cmap("cividis").with_extremes(bad="black")
    r = int(params["doorway_radius"])
    for i, a in enumerate(oc):
        sub = ev[ev["algo"] == a]
        if sub.empty:
            continue
        cell = sub.groupby("state")[["visits", "terminations"]].sum().reindex(range(env.n_states), fill_value=0)
        v, t = cell["visits"].to_numpy(float), cell["terminations"].to_numpy(float)
        lift = termination_lift(table, params, a, r)
        panels = [(v / max(v.sum(), 1.0), "share of visits", hot, None),
                  (t / max(t.sum(), 1.0), "share of termination events", hot, None),
                  (np.where(v > 0, t / np.maximum(v, 1.0), np.nan), "termination events per visit", cmap, (0, 1))]
        for j, (vals, label, cm, lim) in enumerate(panels):
            ax = axes[i, j]
            grid = _beta_grid(env, vals)
            kw = {"vmin": lim[0], "vmax": lim[1]} if lim else {"vmin": 0, "vmax": float(np.nanmax(vals)) or 1.0}
            im = ax.imshow(np.ma.masked_invalid(grid), cmap=cm, **kw)
            for h in env.hallways:
                hr, hc = env.cells[h]
                ax.add_patch(plt.Rectangle((hc - 0.5, hr - 0.5), 1, 1, fill=False, ec="c", lw=1.2))
            ax.set_title(f"{N_OPTIONS[a]} options: {label}", fontsize=9)
            fig.colorbar(im, ax=ax, shrink=0.75)
        if lift.notna().any():
            axes[i, 0].text(-0.5, env.grid.shape[0] - 0.3, f"lift within {r} move(s) of a hallway: median "
                            f"{float(lift.median()):.2f} over {int(lift.notna().sum())} seeds", fontsize=8, va="top")
    fig.suptitle(f"Where the options terminate: {params['eval_episodes']} evaluation episodes per run after "
                 f"training\n(final options, final goal; all seeds pooled); walls black, hallways outlined cyan",
                 fontsize=10)
    savefig(fig, outdir / f"{EXPERIMENT}_termination_events.png")
