"""The figures of ``taxi_maxq`` (experiment.yaml's ``figures``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ...tidy import present
from .analysis import ALGOS, EXPERIMENT, LABELS, mean_curve_crossings, speedup_samples


def curve_frame(table: pd.DataFrame, params: dict) -> pd.DataFrame:
    """Per (algo, seed, variant) on a grid of primitive-step counts: the mean return of the last
    ``figure_window`` episodes finished by then (the paper's "mean reward per trial")."""
    grid = np.linspace(0, int(params["n_steps"]), int(params["figure_points"]) + 1)[1:]
    w = int(params["figure_window"])
    rows = []
    for (algo, seed, variant), g in table.groupby(["algo", "seed", "variant"], sort=True):
        cum = g["cum_steps"].to_numpy()
        c = np.cumsum(np.r_[0.0, g["return"].to_numpy()])
        n = np.searchsorted(cum, grid, side="right")  # episodes finished by each grid point
        lo = np.maximum(n - w, 0)
        val = np.where(n > 0, (c[n] - c[lo]) / np.maximum(n - lo, 1), np.nan)
        rows.append(pd.DataFrame({"algo": algo, "seed": seed, "variant": variant, "x": grid, "value": val}))
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(
        columns=["algo", "seed", "variant", "x", "value"])


def figures(table: pd.DataFrame, params: dict, outdir) -> None:
    import seaborn as sns
    from matplotlib.ticker import FuncFormatter

    from ...plotting import curve_iqm_ci, savefig, setup, stripplot

    plt = setup()
    outdir = Path(outdir)
    variants = present(table, params["variants"], "variant")
    algos = present(table, ALGOS)
    labels = {a: LABELS[a] for a in algos}
    cf = curve_frame(table, params).dropna(subset=["value"])
    fig, axes = plt.subplots(2, max(1, len(variants)), figsize=(6.5 * max(1, len(variants)), 9.5), squeeze=False)
    fig.subplots_adjust(hspace=0.4)
    for j, v in enumerate(variants):
        sub = cf[cf["variant"] == v]
        tv = table[table["variant"] == v]
        opt = float(tv["optimal_return"].iloc[0])
        rec = float(tv["recursive_optimal_return"].iloc[0])
        cross = mean_curve_crossings(table, params, v)
        for i, ax in enumerate(axes[:, j]):
            # top: IQM over seeds (robust to single slow seeds); close-up: the mean over seeds, the paper's
            # reading, with each agent's crossing of the criterion level (the speed claims' quantity)
            curve_iqm_ci(ax, sub, "x", "value", hue="algo", order=list(ALGOS), labels=labels, reps=200,
                         statistic="iqm" if i == 0 else "mean")
            ax.axhline(opt, color="k", ls="--", lw=1, label=f"optimal (oracle) {opt:.2f}")
            ax.axhline(rec, color="k", ls=":", lw=1, label=f"recursively optimal (oracle) {rec:.2f}")
            ax.set_xlabel("primitive actions")
            ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x / 1000:g}k"))
            ax.set_ylabel(f"mean reward per trial (last {params['figure_window']} trials)")
            if i == 0:
                ax.set_yscale("symlog", linthresh=10)
                ax.set_title(f"Taxi, {v}: IQM over seeds, 95% CI")
            else:
                ax.set_ylim(rec - 15, opt + 3)
                ax.axhline(rec - float(params["criterion"]["tolerance"]), color="0.5", ls="-", lw=0.6,
                           label="criterion level")
                for k, a in enumerate(ALGOS):
                    if np.isfinite(cross.get(a, np.inf)):
                        ax.axvline(cross[a], color=f"C{k}", ls="--", lw=0.8)
                ax.set_title(f"close-up ({v}): mean over seeds, 95% CI\ndashed: where the mean curve reaches the "
                             f"criterion level", fontsize=9)
            ax.legend(fontsize=7, loc="lower right")
    fig.suptitle("MAXQ-Q vs flat Q-learning (Dietterich 2000, Fig. 7 / 8 setup)")
    savefig(fig, outdir / f"{EXPERIMENT}_learning_curves.png")

    rows = []
    for agent in [a for a in algos if a != "flat_q"]:
        vals, info = speedup_samples(table, params, "flat_q", agent, variants)
        for j, v in enumerate(info["variants"]):
            rows += [{"agent": LABELS[agent].replace(", ", ",\n"), "variant": v, "ratio": x} for x in vals[:, j]]
    fig, ax = plt.subplots(figsize=(8, 4.5))
    ax.axhspan(2 / np.sqrt(2), 2 * np.sqrt(2), color="C2", alpha=0.15,
               label="paper (abstraction): 'roughly twice' (2 within a factor sqrt(2))")
    ax.axhline(1, color="k", lw=0.8)
    if rows:
        df = pd.DataFrame(rows)
        order = list(dict.fromkeys(df["agent"]))
        hue_order = list(dict.fromkeys(df["variant"]))
        sns.boxplot(data=df, x="agent", y="ratio", hue="variant", ax=ax, showfliers=False, order=order,
                    hue_order=hue_order)
        stripplot(data=df, x="agent", y="ratio", hue="variant", ax=ax, dodge=True, size=3, palette="dark:k",
                   alpha=0.5, legend=False, order=order, hue_order=hue_order)
        # the paper's reading: ratio of the crossings of the curves averaged over seeds (diamonds)
        width = 0.8 / max(1, len(hue_order))
        labelled = False
        ax.set_yscale("log")
        for j, v in enumerate(hue_order):
            cross = mean_curve_crossings(table, params, v)
            for i, lab in enumerate(order):
                agent = next(a for a in algos if LABELS[a].replace(", ", ",\n") == lab)
                x = i - 0.4 + width * (j + 0.5)
                with np.errstate(divide="ignore", invalid="ignore"):
                    r = np.float64(cross.get("flat_q", np.inf)) / np.float64(cross.get(agent, np.inf))
                if np.isfinite(r) and r > 0:
                    ax.plot(x, r, marker="D", color="crimson", ms=8, mec="white", ls="none",
                            label=None if labelled else "mean curves (the speed claims)")
                    labelled = True
                else:
                    what = {True: "flat Q", False: "agent"}[bool(np.isinf(r))] if not np.isnan(r) else "neither"
                    ax.annotate(f"mean curve:\n{what} never\nreaches", (x, 0.3), xycoords=("data", "axes fraction"),
                                ha="center", va="bottom", fontsize=7, color="crimson")
        ax.legend(fontsize=7)
    ax.set_xlabel("")
    ax.set_ylabel("steps to criterion, flat Q / agent")
    ax.set_title("Speed-up over flat Q-learning (>1: faster than flat): per seed (boxes), of the mean curves "
                 "(diamonds)", fontsize=9)
    savefig(fig, outdir / f"{EXPERIMENT}_speedup.png")
