"""The figures of ``fourrooms_discovery`` (experiment.yaml's ``figures``)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from ...tidy import present
from .analysis import ALGOS, EXPERIMENT, LABELS, _env, known_graph, main_rows, per_goal_summary


def figures(table: pd.DataFrame, params: dict, outdir) -> None:
    from pathlib import Path

    from ...algos import bottleneck as B
    from ...plotting import curve_iqm_ci, savefig, setup

    plt = setup()
    outdir = Path(outdir)
    sp = float(params["success_prob"])
    env = _env(sp)[0]
    G, bc = known_graph(sp)

    fig, axes = plt.subplots(1, 2, figsize=(11, 5))
    grid = np.full(env.grid.shape, np.nan)
    grid[env.cells[:, 0], env.cells[:, 1]] = [bc[s] for s in range(env.n_states)]
    cmap = plt.get_cmap("magma").with_extremes(bad="lightgrey")
    im = axes[0].imshow(grid, cmap=cmap)
    for s in B.local_maxima(G, bc, int(params["discovery"]["radius"])):
        r, c = env.cells[s]
        axes[0].plot(c, r, marker="*", color="cyan", ms=14, mec="k")
    for h in env.hallways:
        r, c = env.cells[h]
        axes[0].add_patch(plt.Rectangle((c - 0.5, r - 0.5), 1, 1, fill=False, ec="lime", lw=1.5))
    axes[0].set_title("known dynamics: betweenness; local maxima ★, hallways □", fontsize=10)
    fig.colorbar(im, ax=axes[0], shrink=0.8, label="betweenness (normalised)")
    counts = np.zeros(env.grid.shape)
    main = main_rows(table)
    runs = main[main["algo"] == "bottleneck_options"].groupby("seed")["subgoals"].first()
    for txt in runs:
        for r, c in json.loads(txt):
            counts[r, c] += 1
    freq = np.where(env.grid, counts / max(len(runs), 1), np.nan)
    im = axes[1].imshow(freq, cmap=plt.get_cmap("viridis").copy(), vmin=0, vmax=1)
    for h in env.hallways:
        r, c = env.cells[h]
        axes[1].add_patch(plt.Rectangle((c - 0.5, r - 0.5), 1, 1, fill=False, ec="r", lw=1.5))
    axes[1].set_title(f"random-walk graphs ({params['discovery']['walk_steps']} steps): share of "
                      f"{len(runs)} seeds\nwith a subgoal in the cell (hallways red)", fontsize=10)
    fig.colorbar(im, ax=axes[1], shrink=0.8, label="share of seeds")
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle("Bottleneck discovery by betweenness centrality (Şimşek & Barto 2009) in the rooms gridworld")
    savefig(fig, outdir / f"{EXPERIMENT}_betweenness.png")

    goals = list(params["main_goals"])
    algos = present(table, ALGOS)
    fig, axes = plt.subplots(1, len(goals), figsize=(6 * len(goals), 4.5), squeeze=False)
    for ax, g in zip(axes[0], goals):
        sub = table[table["goal"] == g]
        curve_iqm_ci(ax, sub, "episode", "steps", hue="algo", order=list(ALGOS),
                     labels={a: LABELS[a] for a in algos}, smooth=int(params["figure_smooth"]), reps=200)
        if not sub.empty:
            ax.axhline(float(sub["optimal_steps"].iloc[0]), color="k", ls="--", lw=1, label="optimum (oracle)")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("episode")
        ax.set_ylabel("primitive steps per episode")
        ax.set_title(f"goal {g} {tuple(params['goals'][g])}: IQM over seeds, 95% CI")
        ax.legend(fontsize=8)
    fig.suptitle("SMDP Q-learning with discovered, hand-made and random-subgoal options")
    savefig(fig, outdir / f"{EXPERIMENT}_learning_curves.png")
    goal_ratio_figure(table, params, outdir / f"{EXPERIMENT}_goal_ratios.png")



def goal_ratio_figure(table: pd.DataFrame, params: dict, path) -> None:
    """The rooms with each goal of the goal sample coloured by its IQM ratio of episodes-to-criterion,
    hand-made / discovered options (log colour scale centred on 1), and the per-goal IQMs with CIs."""
    from matplotlib.colors import LogNorm
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter

    from ...algos import bottleneck as B
    from ...plotting import savefig, setup

    plt = setup()
    sp = float(params["success_prob"])
    env = _env(sp)[0]
    G, bc = known_graph(sp)
    summ = per_goal_summary(table, params)
    fig, axes = plt.subplots(1, 2, figsize=(14, 6), gridspec_kw={"width_ratios": [1, 1.2], "wspace": 0.45})
    ax = axes[0]
    ax.imshow(np.where(env.grid, 1.0, 0.0), cmap="gray", vmin=0, vmax=1.6)
    grid = np.full(env.grid.shape, np.nan)
    for _, row in summ.iterrows():
        grid[int(row["row"]), int(row["col"])] = row["iqm"]
    finite = summ["iqm"][np.isfinite(summ["iqm"]) & (summ["iqm"] > 0)]
    span = float(max(2.0, np.exp(np.abs(np.log(finite)).max()))) if len(finite) else 2.0
    # masked cells (walls, cells that are no goal) stay transparent: the colour map's default "bad" colour
    im = ax.imshow(np.ma.masked_invalid(grid), cmap="RdBu", norm=LogNorm(vmin=1 / span, vmax=span))
    for _, row in summ.iterrows():
        dark = np.isfinite(row["iqm"]) and row["iqm"] > 0 and abs(np.log(row["iqm"])) > 0.6 * np.log(span)
        ax.text(row["col"], row["row"], f"{row['iqm']:.2f}", ha="center", va="center", fontsize=6.5,
                color="white" if dark else "black")
    goal_cells = set(zip(summ["row"].astype(int), summ["col"].astype(int)))
    for s in B.local_maxima(G, bc, int(params["discovery"]["radius"])):
        r, c = (int(v) for v in env.cells[s])
        # a subgoal that is also a goal: its star in the cell's corner, off the goal's number
        dr, dc = (-0.32, 0.32) if (r, c) in goal_cells else (0, 0)
        ax.plot(c + dc, r + dr, marker="*", color="gold", ms=6 if dr else 9, mec="k", mew=0.5)
    for h in env.hallways:
        r, c = env.cells[h]
        ax.add_patch(plt.Rectangle((c - 0.5, r - 0.5), 1, 1, fill=False, ec="lime", lw=1.5))
    r0, c0 = params["start"]
    ax.text(c0, r0, "S", ha="center", va="center", fontsize=10, weight="bold")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title("per-goal IQM ratio, hand-made / discovered (>1: discovered faster);\n"
                 "★ known-graph subgoals, □ hallways, S start", fontsize=9)
    ratio_ticks = [t for t in (1 / 16, 1 / 8, 0.25, 0.5, 1, 2, 4, 8, 16) if 1 / span <= t <= span]

    def plain(axis):
        axis.set_major_locator(FixedLocator(ratio_ticks))
        axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        axis.set_minor_formatter(NullFormatter())

    cb = fig.colorbar(im, ax=ax, shrink=0.8, label="ratio (log scale)")
    plain(cb.ax.yaxis)
    ax = axes[1]
    if not summ.empty:
        o = summ.sort_values("iqm", kind="stable").reset_index(drop=True)
        y = np.arange(len(o))
        lo = np.clip(o["iqm"] - o["ci_low"], 0, None)
        hi = np.clip(o["ci_high"] - o["iqm"], 0, None)
        colors = np.where(o["near_subgoal"], "tab:orange", "tab:blue")
        ax.errorbar(o["iqm"], y, xerr=[lo, hi], fmt="none", ecolor="grey", lw=1)
        ax.scatter(o["iqm"], y, c=colors, zorder=3, s=18)
        ax.set_yticks(y)
        ax.set_yticklabels([f"{g} ({n})" for g, n in zip(o["goal"], o["runs"])], fontsize=7)
        ax.set_xscale("log")
        plain(ax.xaxis)
    ax.axvspan(0.8, 1.25, color="green", alpha=0.12, label="0.8-1.25 ('about as much')")
    ax.axvline(1.0, color="k", lw=0.8)
    ax.scatter([], [], c="tab:orange", s=18, label="within one move of a known-graph subgoal")
    ax.scatter([], [], c="tab:blue", s=18, label="farther")
    ax.set_xlabel("IQM ratio of episodes-to-criterion, hand-made / discovered\n(95% CI over the goal's runs)")
    ax.set_title("goals of the sample (runs per goal)", fontsize=9)
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=3, frameon=False)
    fig.suptitle("Discovered vs hand-made options over the goal sample (discovered_vs_handmade_options)")
    savefig(fig, path)
