"""The figures of ``fourrooms_sutton`` (experiment.yaml's ``figures``)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ...tidy import present
from .analysis import ALGOS, EXPERIMENT, LABELS, criterion_table, speedup_samples


def figures(table: pd.DataFrame, params: dict, outdir) -> None:
    from ...plotting import curve_iqm_ci, savefig, setup, stripplot

    plt = setup()
    outdir = Path(outdir)
    goals = list(params["main_goals"])
    algos = present(table, ALGOS)
    labels = {a: LABELS[a] for a in algos}

    # learning curves: steps per episode, one panel per main goal
    fig, axes = plt.subplots(1, len(goals), figsize=(6 * len(goals), 4.5), squeeze=False)
    for ax, g in zip(axes[0], goals):
        sub = table[table["goal"] == g]
        curve_iqm_ci(ax, sub, "episode", "steps", hue="algo", order=list(ALGOS), labels=labels,
                     smooth=int(params["figure_smooth"]), reps=200)
        if not sub.empty:
            opt = float(sub["optimal_steps"].iloc[0])
            ax.axhline(opt, color="k", ls="--", lw=1, label=f"optimum (oracle) {opt:.1f}")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("episode")
        ax.set_ylabel("primitive steps per episode")
        cell = tuple(params["goals"][g])
        ax.set_title(f"goal {g} {cell}: IQM over seeds, 95% CI")
        ax.legend(fontsize=8)
    fig.suptitle("Rooms gridworld (Sutton, Precup & Singh 1999, Fig. 5 setup)")
    savefig(fig, outdir / f"{EXPERIMENT}_learning_curves.png")

    # speed-up distribution per options agent and goal
    import seaborn as sns

    rows = []
    for agent in [a for a in algos if a != "flat_q"]:
        vals, info = speedup_samples(table, params, "flat_q", agent, goals)
        for j, g in enumerate(info.get("goals", [])):
            for v in vals[:, j]:
                rows.append({"agent": LABELS[agent], "goal": g, "speedup": v})
    fig, ax = plt.subplots(figsize=(8, 4.5))
    ax.axhspan(3, 5, color="C2", alpha=0.15, label="claimed 3-5x")
    ax.axhline(1, color="k", lw=0.8)
    if rows:
        df = pd.DataFrame(rows)
        sns.boxplot(data=df, x="agent", y="speedup", hue="goal", ax=ax, showfliers=False)
        stripplot(data=df, x="agent", y="speedup", hue="goal", ax=ax, dodge=True, size=3, palette="dark:k",
                   alpha=0.5, legend=False)
        ax.set_yscale("log")
    ax.set_xlabel("")
    ax.set_ylabel("episodes-to-criterion, flat / options agent")
    ax.set_title("Per-seed speed-up over flat Q-learning")
    ax.legend(fontsize=8)
    savefig(fig, outdir / f"{EXPERIMENT}_speedup.png")

    # reuse: episodes-to-criterion per new goal, flat vs the agents that play the reuse goals
    fig, ax = plt.subplots(figsize=(9, 4.5))
    switch = table[table["phase"] == "switch"]
    if not switch.empty:
        ct = criterion_table(switch, params)
        ct["agent"] = ct["algo"].map(LABELS)
        order = [g for g in dict.fromkeys(switch.sort_values("block")["goal"])]
        sns.boxplot(data=ct, x="goal", y="etc", hue="agent", order=order, ax=ax, showfliers=False)
        ax.set_yscale("log")
    ax.axhline(int(params["n_episodes"]), color="k", ls=":", lw=1, label="block length (censoring)")
    ax.set_xlabel("new goal (options unchanged, values re-learned)")
    ax.set_ylabel("episodes-to-criterion")
    ax.set_title("Option reuse across goal positions")
    ax.legend(fontsize=8)
    savefig(fig, outdir / f"{EXPERIMENT}_reuse.png")
