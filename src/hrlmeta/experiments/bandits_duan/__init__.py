"""Experiment ``bandits_duan``: RL^2 against classic bandit algorithms on Bernoulli bandits
(Duan et al., 2016, "RL^2: Fast Reinforcement Learning via Slow Reinforcement Learning", Table 1).

Tasks: k-armed Bernoulli bandits, arm means i.i.d. U[0, 1], n pulls per task, over (n, k) cells.
Score of a policy in a cell: total reward per task, averaged over ``eval_tasks`` fresh tasks. One run
(algo, seed) covers every configured cell; a seed fixes the evaluation tasks (shared by all algorithms of
that seed, so comparisons within a seed are paired), the tuning tasks and the policy's own randomness.

Algorithms: see :mod:`hrlmeta.algos.bandit_baselines` (``random``, ``greedy``, ``eps_greedy``,
``ucb1``, ``thompson``, ``ots``, ``gittins``, ``gittins_approx``) and :mod:`hrlmeta.algos.rl2` (``rl2``,
trained separately in every cell of ``params.rl2.cells``).

Rows (KIND "meta"):
- ``phase = "eval"``: one per cell; ``return`` = mean total reward per task, plus ``std`` (across tasks),
  ``n_tasks``, ``hparam`` (the tuned hyperparameter), ``method``; ``iteration`` = RL^2 training
  iterations (0 for baselines);
- ``phase = "per_pull"``: ``iteration`` = pull index t, ``return`` = mean cumulative reward up to t,
  ``regret`` = mean cumulative pseudo-regret (best arm mean - pulled arm mean) up to t;
- ``phase = "meta_train"`` (RL^2 only): ``iteration``, ``return`` = mean total reward of the iteration's
  training trials, ``wall_s`` = seconds per iteration, ``entropy`` = policy entropy.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd

from ... import checkpoint
from ... import claims as claims_mod
from ...algos import bandit_baselines as bb
from ...envs.bandits import sample_means
from ...tidy import present
from .. import declared
from ...shared.rl2_budget import rl2_budget  # noqa: F401  (re-exported)

KIND, ALGOS, FIGURES = declared(__name__)  # from experiment.yaml
BASELINES = tuple(a for a in ALGOS if a != "rl2")
ENV = "bernoulli_bandit"
LABELS = {
    "random": "Random", "gittins": "Gittins / Bayes-opt.", "gittins_approx": "Gittins (approx.)",
    "thompson": "TS", "ots": "OTS", "ucb1": "UCB1", "eps_greedy": "ε-Greedy", "greedy": "Greedy",
    "rl2": "RL²",
}


def _cell(n: int, k: int) -> str:
    return f"n{n}_k{k}"


def _curve_index(n: int, points: int) -> np.ndarray:
    """1-based pull indices at which per-pull curves are recorded (log-spaced, always including n)."""
    idx = np.unique(np.round(np.geomspace(1, n, num=min(points, n))).astype(int))
    return idx


def _curve_rows(n, k, reward_per_pull, regret_per_pull, points) -> list[dict]:
    idx = _curve_index(n, points)
    cr, cg = np.cumsum(reward_per_pull), np.cumsum(regret_per_pull)
    return [
        {"phase": "per_pull", "iteration": int(t), "return": float(cr[t - 1]), "regret": float(cg[t - 1]),
         "n": n, "k": k, "cell": _cell(n, k), "wall_s": 0.0}
        for t in idx
    ]


def _eval_row(n, k, totals, iteration, hparam, method, wall_s) -> dict:
    return {"phase": "eval", "iteration": int(iteration), "return": float(totals.mean()),
            "std": float(totals.std(ddof=1)), "n_tasks": int(totals.size), "hparam": hparam,
            "method": method, "n": n, "k": k, "cell": _cell(n, k), "wall_s": float(wall_s)}


def _baseline(algo: str, seed: int, params: dict) -> list[dict]:
    rows = []
    a_idx = ALGOS.index(algo)
    for c in params["cells"]:
        n, k = int(c["n"]), int(c["k"])
        t0 = time.perf_counter()
        means = sample_means(np.random.default_rng([seed, n, k, 0]), params["eval_tasks"], k)
        hp, hparam, method = {}, "", algo
        if algo in bb.TUNED:
            key, default_grid = bb.TUNED[algo]
            grid = params.get("tuning_grids", {}).get(algo, default_grid)
            best, _ = bb.tune(algo, n, k, grid, params["tune_tasks"],
                              np.random.default_rng([seed, n, k, 1, a_idx]))
            hp, hparam = {key: best}, f"{key}={best}"
        if algo == "gittins":
            hp = {"exact_max_n": params["gittins_exact_max_n"], "discount": params["gittins_discount"]}
            method = "bayes_optimal_dp" if n <= params["gittins_exact_max_n"] else "whittle_index"
        if algo == "gittins_approx":
            hp = {"discount": params["gittins_discount"]}
            method = "whittle_index"
        res = bb.evaluate(algo, n, k, means, np.random.default_rng([seed, n, k, 2, a_idx]), **hp)
        rows.append(_eval_row(n, k, res["totals"], 0, hparam, method, time.perf_counter() - t0))
        rows += _curve_rows(n, k, res["reward_per_pull"], res["regret_per_pull"], params["curve_points"])
    return rows


def _rl2(seed: int, params: dict) -> list[dict]:
    from ...algos import rl2 as rl2_mod  # torch loads only in RL² jobs (the baselines' jobs skip ~1 CPU-s)

    p = params["rl2"]
    # the run is checkpointed between PPO iterations (hrlmeta.checkpoint: off unless the job enables it)
    cells = checkpoint.Cells(checkpoint.for_run("bandits_duan", "rl2", [seed], params))
    rows, todo = cells.remaining(p["cells"], lambda c: int(c["iterations"]))
    for i, c, base in todo:
        n, k = int(c["n"]), int(c["k"])
        cfg = rl2_mod.PPOConfig.from_params({**p["ppo"], "iterations": int(c["iterations"]),
                                             **({"batch_tasks": c["batch_tasks"]} if "batch_tasks" in c else {})})
        env = rl2_mod.BanditMetaEnv(n, k)
        cell_seed = int(np.random.default_rng([seed, n, k, 7]).integers(2**31))
        policy, log = rl2_mod.train(env, cfg, cell_seed, checkpoint=cells.cell(i, rows, base))
        for r in log:
            rows.append({"phase": "meta_train", "iteration": r["iteration"], "return": r["return"],
                         "wall_s": r["wall_s"], "entropy": r["entropy"], "n": n, "k": k, "cell": _cell(n, k)})
        t0 = time.perf_counter()
        ev = rl2_mod.evaluate(policy, env, p["eval_tasks"], cell_seed)
        rows.append(_eval_row(n, k, ev["totals"], cfg.iterations,
                              f"iterations={cfg.iterations},batch_tasks={cfg.batch_tasks}", "rl2_ppo",
                              time.perf_counter() - t0))
        rows += _curve_rows(n, k, ev["reward_per_step"], ev["regret_per_step"], params["curve_points"])
    cells.done()
    return rows


def train(algo: str, seed: int, params: dict) -> pd.DataFrame:
    if algo not in ALGOS:
        raise KeyError(f"bandits_duan: unknown algorithm {algo!r}; known: {', '.join(ALGOS)}")
    rows = _rl2(seed, params) if algo == "rl2" else _baseline(algo, seed, params)
    df = pd.DataFrame(rows)
    for col, default in (("regret", np.nan), ("std", np.nan), ("n_tasks", 0), ("hparam", ""),
                         ("method", ""), ("entropy", np.nan)):
        if col not in df:
            df[col] = default
        df[col] = df[col].fillna(default) if col in ("n_tasks", "hparam", "method") else df[col]
    df["n_tasks"] = df["n_tasks"].astype("int64")
    df.insert(1, "env", ENV)
    df.insert(2, "algo", algo)
    df.insert(3, "seed", int(seed))
    return df


# ----------------------------------------------------------------------------------------------------
# claims, oracle, figures, report
# ----------------------------------------------------------------------------------------------------
def _eval(table: pd.DataFrame) -> pd.DataFrame:
    return table[table["phase"] == "eval"]


def _published() -> dict:
    """Published values (algo, cell) -> value, read from the claims this experiment declares (claims.yaml)."""
    out = {}
    for c in claims_mod.load_claims(Path(__file__).with_name("claims.yaml"), experiment="bandits_duan"):
        p = c.get("params") or {}
        if "published" in p:
            out[(p["algo"], _cell(p["n"], p["k"]))] = float(p["published"])
    return out


def _ci(vals: np.ndarray) -> tuple[float, float, float]:
    """Mean and CI over seeds, with the claims' bootstrap settings (hrlmeta.stats.report_ci)."""
    from ...stats import report_ci

    if vals.size == 1:
        return float(vals[0]), float(vals[0]), float(vals[0])
    return report_ci(vals, "mean")


def _summary(table: pd.DataFrame) -> pd.DataFrame:
    ev = _eval(table)
    rows = []
    for (algo, n, k), g in ev.groupby(["algo", "n", "k"]):
        est, lo, hi = _ci(g["return"].to_numpy(float))
        rows.append({"algo": algo, "n": int(n), "k": int(k), "cell": _cell(n, k), "mean": est, "lo": lo,
                     "hi": hi, "seeds": len(g), "hparam": ", ".join(sorted(set(g["hparam"]) - {""}))})
    return pd.DataFrame(rows)


def _cells(table) -> list[tuple[int, int]]:
    ev = _eval(table)
    return sorted({(int(n), int(k)) for n, k in zip(ev["n"], ev["k"])})


def figures(table: pd.DataFrame, params: dict, outdir) -> None:
    from ... import plotting

    plt = plotting.setup()
    outdir = Path(outdir)
    summ = _summary(table)
    pub = _published()
    cells = _cells(table)
    algos = present(summ, ALGOS)
    ncol = min(3, max(len(cells), 1))
    nrow = int(np.ceil(len(cells) / ncol)) or 1

    # scores: bars with bootstrap CIs across seeds, published values as black dots
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.6 * ncol, 3.4 * nrow), squeeze=False)
    for ax, (n, k) in zip(axes.flat, cells):
        s = summ[summ["cell"] == _cell(n, k)].set_index("algo")
        xs = np.arange(len(algos))
        for i, a in enumerate(algos):
            if a in s.index:
                m, lo, hi = s.loc[a, ["mean", "lo", "hi"]]
                ax.bar(i, m, color=f"C{i}", alpha=0.85)
                ax.errorbar(i, m, yerr=[[m - lo], [hi - m]], color="k", capsize=3, lw=1)
            if (a, _cell(n, k)) in pub:
                ax.plot(i, pub[(a, _cell(n, k))], "D", color="black", ms=5,
                        label="published (Table 1)" if i == 0 else None)
        lo_y = 0.9 * min(s["mean"].min(), min([v for (a, c), v in pub.items() if c == _cell(n, k)] or [np.inf]))
        ax.set_ylim(bottom=max(lo_y, 0))
        ax.set_xticks(xs, [LABELS[a] for a in algos], rotation=60, ha="right", fontsize=8)
        ax.set_title(f"n = {n} pulls, k = {k} arms")
        ax.set_ylabel("total reward per task")
    for ax in list(axes.flat)[len(cells):]:
        ax.axis("off")
    handles = [plt.Line2D([], [], marker="D", color="black", ls="", label="published (Duan et al. 2016, Table 1)")]
    fig.suptitle("Bernoulli bandits: mean total reward (bars: 95% bootstrap CI over seeds)")
    fig.tight_layout()
    fig.legend(handles=handles, loc="upper center", ncol=1, frameon=False, bbox_to_anchor=(0.5, 0.0))
    plotting.savefig(fig, outdir / "bandits_duan_scores.png")

    # RL^2 learning curves, one panel per trained cell
    tr = table[(table["phase"] == "meta_train")]
    rl_cells = sorted({(int(n), int(k)) for n, k in zip(tr["n"], tr["k"])}) or [(0, 0)]
    fig, axes = plt.subplots(1, len(rl_cells), figsize=(4.2 * len(rl_cells), 3.3), squeeze=False)
    for ax, (n, k) in zip(axes.flat, rl_cells):
        sub = tr[(tr["n"] == n) & (tr["k"] == k)]
        if sub.empty:
            ax.text(0.5, 0.5, "RL² not trained at this scale", ha="center", transform=ax.transAxes)
            continue
        plotting.curve_iqm_ci(ax, sub, "iteration", "return", hue="algo", smooth=5, labels=LABELS)
        s = summ[summ["cell"] == _cell(n, k)].set_index("algo")
        for a, ls in (("gittins", "--"), ("greedy", ":"), ("random", "-.")):
            if a in s.index:
                ax.axhline(s.loc[a, "mean"], color="gray", ls=ls, lw=1, label=LABELS[a])
        if ("rl2", _cell(n, k)) in pub:
            ax.axhline(pub[("rl2", _cell(n, k))], color="black", lw=1, label="RL² published")
        ax.set_title(f"n = {n}, k = {k}")
        ax.set_xlabel("training iteration")
        ax.set_ylabel("total reward per trial (training batch)")
        ax.legend(fontsize=7)
    fig.suptitle("RL² meta-training on Bernoulli bandits (IQM over seeds, 95% CI)", y=1.03)
    fig.tight_layout()
    plotting.savefig(fig, outdir / "bandits_duan_rl2_learning_curve.png")

    # cumulative pseudo-regret against the pull index
    pp = table[table["phase"] == "per_pull"]
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.6 * ncol, 3.4 * nrow), squeeze=False)
    for ax, (n, k) in zip(axes.flat, cells):
        sub = pp[(pp["n"] == n) & (pp["k"] == k)]
        for i, a in enumerate(algos):
            g = sub[sub["algo"] == a].groupby("iteration")["regret"].mean()
            if len(g):
                ax.plot(g.index, g.values, color=f"C{i}", label=LABELS[a], lw=1.5)
        ax.set_title(f"n = {n}, k = {k}")
        ax.set_xlabel("pull index t")
        ax.set_ylabel("cumulative pseudo-regret")
    for ax in list(axes.flat)[len(cells):]:
        ax.axis("off")
    h, lab = axes.flat[0].get_legend_handles_labels()
    fig.legend(h, lab, loc="upper center", ncol=min(len(lab), 9), frameon=False, bbox_to_anchor=(0.5, 1.06))
    fig.suptitle("Bernoulli bandits: expected regret vs pulls (mean over seeds and tasks)", y=1.1)
    fig.tight_layout()
    plotting.savefig(fig, outdir / "bandits_duan_regret.png")


def report_section(table: pd.DataFrame, params: dict) -> str:
    summ = _summary(table)
    pub = _published()
    cells = _cells(table)
    algos = present(summ, ALGOS)
    lines = ["Mean total reward per task (95% bootstrap CI over seeds; published Table 1 value in brackets).", ""]
    lines.append("| algo | " + " | ".join(f"n={n}, k={k}" for n, k in cells) + " |")
    lines.append("|---|" + "---|" * len(cells))
    for a in algos:
        cells_txt = []
        for n, k in cells:
            s = summ[(summ["algo"] == a) & (summ["cell"] == _cell(n, k))]
            txt = "—" if s.empty else f"{s['mean'].iloc[0]:.2f} [{s['lo'].iloc[0]:.2f}, {s['hi'].iloc[0]:.2f}]"
            if (a, _cell(n, k)) in pub:
                txt += f" ({pub[(a, _cell(n, k))]:g})"
            cells_txt.append(txt)
        lines.append(f"| {LABELS[a]} | " + " | ".join(cells_txt) + " |")
    lines.append("")
    from .oracle import oracle

    orc = oracle({"cells": [{"n": n, "k": k} for n, k in cells],
                  "gittins_exact_max_n": params.get("gittins_exact_max_n", 12)})["bayes_optimal_total_reward"]
    if orc:
        lines.append("Exact Bayes-optimal expected total reward (finite-horizon DP over Beta posteriors): "
                     + ", ".join(f"{c}: {v:.3f}" for c, v in orc.items())
                     + ". No policy can exceed these in expectation; published values above them are "
                     "sampling noise of the paper's 1000-task means.")
    tuned = summ[summ["hparam"] != ""]
    if not tuned.empty:
        lines.append("")
        lines.append("Tuned hyperparameters (per seed, on separate tuning tasks): " + "; ".join(
            f"{LABELS[r.algo]} {r.cell}: {r.hparam}" for r in tuned.itertuples() if r.algo != "rl2"))
    tr = table[table["phase"] == "meta_train"]
    if not tr.empty:
        lines.append("")
        for (n, k), g in tr.groupby(["n", "k"]):
            iters = int(g["iteration"].max()) + 1
            seeds = g["seed"].nunique()
            steps = iters * int(params["rl2"]["ppo"]["batch_tasks"]) * int(n)
            cfg = next((c for c in params["rl2"]["cells"] if c["n"] == n and c["k"] == k), {})
            if "batch_tasks" in cfg:
                steps = iters * int(cfg["batch_tasks"]) * int(n)
            lines.append(f"RL² n={n}, k={k}: {iters} PPO iterations = {steps:,} environment steps per seed "
                         f"({seeds} seeds), median {g['wall_s'].median():.2f} s/iteration.")
    return "\n".join(lines)

