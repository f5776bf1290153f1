"""Experiment ``tabular_mdp_duan``: RL^2 against Bayesian RL baselines on random tabular MDPs
(Duan et al., 2016, "RL^2: Fast Reinforcement Learning via Slow Reinforcement Learning", Table 2).

Tasks: |S| = 10, |A| = 5, mean rewards ~ N(1, 1), rewards ~ N(mean, 1), flat-Dirichlet transitions,
episodes of T = 10 steps, n episodes per task (see :mod:`hrlmeta.envs.tabular_mdp`). Score: total reward
over the n episodes, averaged over ``eval_tasks`` fresh tasks. One run (algo, seed) covers every
configured n; a seed fixes the evaluation tasks (shared by all algorithms of that seed), the tuning
tasks and the policy's randomness.

Algorithms: :mod:`hrlmeta.algos.mdp_baselines` (``random``, ``optimal``, ``greedy``, ``psrl``,
``opsrl``, ``beb``) and :mod:`hrlmeta.algos.rl2` (``rl2``, trained separately for every n in
``params.rl2.cells``, hidden state kept across the n episodes of a task).

Rows (KIND "meta"): ``phase = "eval"`` (one per n: ``return`` = mean total reward, ``std``, ``n_tasks``,
``hparam``, ``expected_optimal`` = exact expected total of the optimal policy on the same tasks),
``phase = "per_episode"`` (``iteration`` = episode index, ``return`` = mean return of that episode) and,
for RL^2, ``phase = "meta_train"`` (``iteration``, ``return`` = mean total reward of the training trials,
``wall_s``, ``entropy``).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd

from ... import checkpoint
from ... import claims as claims_mod
from ...algos import mdp_baselines as mb
from ...envs.tabular_mdp import sample_mdps
from ...tidy import present
from .. import declared

KIND, ALGOS, FIGURES = declared(__name__)  # from experiment.yaml
BASELINES = tuple(a for a in ALGOS if a != "rl2")
ENV = "random_tabular_mdp"
LABELS = {"random": "Random", "optimal": "Optimal (MDP known)", "greedy": "Greedy", "psrl": "PSRL",
          "opsrl": "OPSRL", "beb": "BEB", "rl2": "RL²", "best_baseline": "best baseline"}
#: algorithms the "best baseline" is taken over (the paper's learning baselines; not random/optimal)
LEARNERS = ("greedy", "psrl", "opsrl", "beb")


def _mdp_kw(params):
    return {"n_states": params["n_states"], "n_actions": params["n_actions"]}


def _prior(params):
    return {"prior_reward_mean": params["prior_reward_mean"]}


def _eval_tasks(seed, n, params):
    return sample_mdps(np.random.default_rng([seed, n, 0]), params["eval_tasks"], **_mdp_kw(params))


def _rows_for(n, totals, per_episode, iteration, hparam, expected_opt, wall_s):
    rows = [{"phase": "eval", "iteration": int(iteration), "return": float(totals.mean()),
             "std": float(totals.std(ddof=1)), "n_tasks": int(totals.size), "hparam": hparam,
             "expected_optimal": float(expected_opt), "n": int(n), "wall_s": float(wall_s)}]
    rows += [{"phase": "per_episode", "iteration": e + 1, "return": float(r), "n": int(n), "wall_s": 0.0}
             for e, r in enumerate(per_episode)]
    return rows


def _baseline(algo, seed, params):
    rows = []
    a_idx = ALGOS.index(algo)
    H = params["horizon"]
    for n in params["n_episodes"]:
        n = int(n)
        t0 = time.perf_counter()
        R, P = _eval_tasks(seed, n, params)
        hp, hparam = {}, ""
        if algo in mb.TUNED:
            key, default_grid = mb.TUNED[algo]
            grid = params.get("tuning_grids", {}).get(algo, default_grid)
            best, _ = mb.tune(algo, n, H, grid, params["tune_tasks"], np.random.default_rng([seed, n, 1, a_idx]),
                              mdp_kw=_mdp_kw(params), prior=_prior(params))
            hp, hparam = {key: best}, f"{key}={best}"
        res = mb.evaluate(algo, n, R, P, H, np.random.default_rng([seed, n, 2, a_idx]), prior=_prior(params), **hp)
        exp_opt = n * mb.optimal_expected_return(R, P, H).mean()
        rows += _rows_for(n, res["totals"], res["return_per_episode"], 0, hparam, exp_opt,
                          time.perf_counter() - t0)
    return rows


def _rl2(seed, params):
    from ...algos import rl2 as rl2_mod  # torch loads only in RL² jobs (the baselines' jobs skip ~1 CPU-s)

    p = params["rl2"]
    # the run is checkpointed between PPO iterations (hrlmeta.checkpoint: off unless the job enables it)
    cells = checkpoint.Cells(checkpoint.for_run("tabular_mdp_duan", "rl2", [seed], params))
    rows, todo = cells.remaining(p["cells"], lambda c: int(c["iterations"]))
    for i, c, base in todo:
        n = int(c["n"])
        cfg = rl2_mod.PPOConfig.from_params({**p["ppo"], "iterations": int(c["iterations"]),
                                             **({"batch_tasks": c["batch_tasks"]} if "batch_tasks" in c else {})})
        env = rl2_mod.TabularMDPMetaEnv(n, params["horizon"], params["n_states"], params["n_actions"])
        cell_seed = int(np.random.default_rng([seed, n, 7]).integers(2**31))
        policy, log = rl2_mod.train(env, cfg, cell_seed, checkpoint=cells.cell(i, rows, base))
        rows += [{"phase": "meta_train", "iteration": r["iteration"], "return": r["return"],
                  "wall_s": r["wall_s"], "entropy": r["entropy"], "n": n} for r in log]
        t0 = time.perf_counter()
        ev = rl2_mod.evaluate(policy, env, p["eval_tasks"], cell_seed)
        per_ep = ev["reward_per_step"].reshape(n, params["horizon"]).sum(axis=1)
        rows += _rows_for(n, ev["totals"], per_ep, cfg.iterations,
                          f"iterations={cfg.iterations},batch_tasks={cfg.batch_tasks}", np.nan,
                          time.perf_counter() - t0)
    cells.done()
    return rows


def train(algo: str, seed: int, params: dict) -> pd.DataFrame:
    if algo not in ALGOS:
        raise KeyError(f"tabular_mdp_duan: unknown algorithm {algo!r}; known: {', '.join(ALGOS)}")
    if params["horizon"] < 1:
        raise ValueError(f"tabular_mdp_duan: params.horizon must be >= 1, got {params['horizon']}")
    rows = _rl2(seed, params) if algo == "rl2" else _baseline(algo, seed, params)
    df = pd.DataFrame(rows)
    for col, default in (("std", np.nan), ("n_tasks", 0), ("hparam", ""), ("expected_optimal", np.nan),
                         ("entropy", np.nan)):
        if col not in df:
            df[col] = default
        if col in ("n_tasks", "hparam"):
            df[col] = df[col].fillna(default)
    df["n_tasks"] = df["n_tasks"].astype("int64")
    df.insert(1, "env", ENV)
    df.insert(2, "algo", algo)
    df.insert(3, "seed", int(seed))
    return df


# ----------------------------------------------------------------------------------------------------
def _eval(table):
    return table[table["phase"] == "eval"]


def _per_seed(table, algo, n) -> np.ndarray:
    ev = _eval(table)
    ev = ev[ev["n"] == n]
    if algo == "best_baseline":
        piv = ev[ev["algo"].isin(LEARNERS)].pivot_table(index="seed", columns="algo", values="return")
        piv = piv.dropna()
        return piv.max(axis=1).to_numpy(float) if piv.shape[1] else np.array([])
    return ev[ev["algo"] == algo].sort_values("seed")["return"].to_numpy(float)


def _summary(table):
    from ...stats import report_ci

    rows = []
    ev = _eval(table)
    for n in sorted(ev["n"].unique()):
        for algo in list(ALGOS) + ["best_baseline"]:
            v = _per_seed(table, algo, int(n))
            if v.size == 0:
                continue
            est, lo, hi = (v[0], v[0], v[0]) if v.size == 1 else report_ci(v, "mean")
            hp = ", ".join(sorted(set(ev[(ev["n"] == n) & (ev["algo"] == algo)]["hparam"]) - {""}))
            rows.append({"algo": algo, "n": int(n), "mean": est, "lo": lo, "hi": hi, "seeds": v.size, "hparam": hp})
    return pd.DataFrame(rows)


def _published() -> dict:
    """Published values (algo, n) -> value, read from the claims this experiment declares (claims.yaml)."""
    out = {}
    for c in claims_mod.load_claims(Path(__file__).with_name("claims.yaml"), experiment="tabular_mdp_duan"):
        p = c.get("params") or {}
        if "published" in p:
            out[(p["algo"], int(p["n"]))] = float(p["published"])
    return out


def figures(table: pd.DataFrame, params: dict, outdir) -> None:
    from ... import plotting

    plt = plotting.setup()
    outdir = Path(outdir)
    summ = _summary(table)
    pub = _published()
    ns = sorted(summ["n"].unique())
    algos = present(summ, ALGOS)
    fig, axes = plt.subplots(1, len(ns), figsize=(4.4 * len(ns), 3.6), squeeze=False)
    for ax, n in zip(axes.flat, ns):
        s = summ[summ["n"] == n].set_index("algo")
        for i, a in enumerate(algos):
            if a in s.index:
                m, lo, hi = s.loc[a, ["mean", "lo", "hi"]]
                ax.bar(i, m, color=f"C{i}", alpha=0.85)
                ax.errorbar(i, m, yerr=[[m - lo], [hi - m]], color="k", capsize=3, lw=1)
            if (a, n) in pub:
                ax.plot(i, pub[(a, n)], "D", color="black", ms=5)
        if ("best_baseline", n) in pub:
            ax.axhline(pub[("best_baseline", n)], color="black", ls="--", lw=1)
        ax.set_xticks(range(len(algos)), [LABELS[a] for a in algos], rotation=60, ha="right", fontsize=8)
        ax.set_title(f"n = {n} episodes (T = {params['horizon']})")
        ax.set_ylabel("total reward per task")
    handles = [plt.Line2D([], [], marker="D", color="black", ls="", label="published (Duan et al. 2016, Table 2)"),
               plt.Line2D([], [], color="black", ls="--", label="published best baseline")]
    fig.suptitle("Random tabular MDPs: mean total reward (bars: 95% bootstrap CI over seeds)")
    fig.tight_layout()
    fig.legend(handles=handles, loc="upper center", ncol=2, frameon=False, bbox_to_anchor=(0.5, 0.0))
    plotting.savefig(fig, outdir / "tabular_mdp_duan_scores.png")

    tr = table[table["phase"] == "meta_train"]
    rl_ns = sorted(tr["n"].unique()) or [0]
    fig, axes = plt.subplots(1, len(rl_ns), figsize=(4.4 * len(rl_ns), 3.4), squeeze=False)
    for ax, n in zip(axes.flat, rl_ns):
        sub = tr[tr["n"] == n]
        if sub.empty:
            ax.text(0.5, 0.5, "RL² not trained at this scale", ha="center", transform=ax.transAxes)
            continue
        plotting.curve_iqm_ci(ax, sub, "iteration", "return", hue="algo", smooth=5, labels=LABELS)
        s = summ[summ["n"] == n].set_index("algo")
        for a, ls in (("best_baseline", "--"), ("psrl", ":"), ("random", "-.")):
            if a in s.index:
                ax.axhline(s.loc[a, "mean"], color="gray", ls=ls, lw=1, label=LABELS[a])
        if ("rl2", n) in pub:
            ax.axhline(pub[("rl2", n)], color="black", lw=1, label="RL² published")
        ax.set_title(f"n = {n} episodes")
        ax.set_xlabel("training iteration")
        ax.set_ylabel("total reward per trial (training batch)")
        ax.legend(fontsize=7)
    fig.suptitle("RL² meta-training on random tabular MDPs (IQM over seeds, 95% CI)", y=1.03)
    fig.tight_layout()
    plotting.savefig(fig, outdir / "tabular_mdp_duan_rl2_learning_curve.png")


def report_section(table: pd.DataFrame, params: dict) -> str:
    summ = _summary(table)
    pub = _published()
    ns = sorted(summ["n"].unique())
    algos = present(summ, list(ALGOS) + ["best_baseline"])
    lines = ["Mean total reward per task (95% bootstrap CI over seeds; published Table 2 value in brackets).", "",
             "| algo | " + " | ".join(f"n={n}" for n in ns) + " |", "|---|" + "---|" * len(ns)]
    for a in algos:
        cells = []
        for n in ns:
            s = summ[(summ["algo"] == a) & (summ["n"] == n)]
            txt = "—" if s.empty else f"{s['mean'].iloc[0]:.1f} [{s['lo'].iloc[0]:.1f}, {s['hi'].iloc[0]:.1f}]"
            if (a, n) in pub:
                txt += f" ({pub[(a, n)]:g})"
            cells.append(txt)
        lines.append(f"| {LABELS[a]} | " + " | ".join(cells) + " |")
    tuned = summ[(summ["hparam"] != "") & (summ["algo"] != "rl2")]
    if not tuned.empty:
        lines += ["", "Tuned hyperparameters (per seed, on separate tuning tasks): "
                  + "; ".join(f"{LABELS[r.algo]} n={r.n}: {r.hparam}" for r in tuned.itertuples())]
    lines += ["", f"Baselines' reward prior: N({params['prior_reward_mean']}, 1) on each mean reward "
              "(the tasks' true prior is N(1, 1))."]
    tr = table[table["phase"] == "meta_train"]
    for n, g in tr.groupby("n"):
        iters = int(g["iteration"].max()) + 1
        cfg = next((c for c in params["rl2"]["cells"] if int(c["n"]) == n), {})
        bt = int(cfg.get("batch_tasks", params["rl2"]["ppo"]["batch_tasks"]))
        lines.append(f"RL² n={n}: {iters} PPO iterations x {bt} trials = "
                     f"{iters * bt * n * params['horizon']:,} environment steps per seed ({g['seed'].nunique()} "
                     f"seeds), median {g['wall_s'].median():.2f} s/iteration.")
    return "\n".join(lines)

