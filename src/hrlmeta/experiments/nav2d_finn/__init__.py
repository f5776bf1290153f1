"""Experiment ``nav2d_finn``: MAML vs first-order MAML vs pretrained vs random initialisation on the 2D
point navigation of Finn, Abbeel & Levine (2017), Section 5.3 / Figure 4 (left).

Algorithms (:mod:`hrlmeta.algos.maml`, environment :mod:`hrlmeta.envs.nav2d`):

- ``maml``: TRPO on the post-adaptation objective, second-order meta-gradient (through the inner step).
- ``fomaml``: the same with the inner gradient detached (first order).
- ``pretrained``: the same TRPO on the return of the unadapted policy averaged over tasks
  (the paper's "pretrained" baseline, multi-task pretraining), fine-tuned at test time.
- ``random_init``: no meta-training; fine-tuned at test time from the initial parameters.

Run table (KIND "meta"): ``meta_train`` rows (one per meta-iteration: ``return`` = average undiscounted
return of the post-adaptation trajectories, or of the unadapted ones for ``pretrained``; ``wall_s`` = the
whole meta-iteration), then ``adapt_0`` ... ``adapt_K`` rows on held-out tasks (``return`` = average return
per trajectory after k test-time policy-gradient steps; ``wall_s`` = that step's gradient step plus its
sampling), and for ``maml`` runs whose seed is in ``cost.seeds`` ``cost_w{width}_maml`` /
``cost_w{width}_fomaml`` rows: an in-process, interleaved MAML-vs-FOMAML timing sweep over hidden widths
(``wall_s`` = median seconds per meta-iteration of that variant at that width; ``return`` = the
post-adaptation return of its last timed iteration).
Every column except the measured ``wall_s`` is a deterministic function of
(algo, seed, params). Held-out tasks and their sampling noise come from a stream seeded with
(``eval.task_seed``, seed), independent of training and identical for every algorithm of a seed
(common random numbers: comparisons are paired by seed).
"""

from __future__ import annotations

import time

import pandas as pd

from ...pipeline_env import configure_torch
from ...progress import progress
# torch (MAML's learner, the batched Nav2D) is imported inside the training functions: the analysis loads without it
from ...tidy import present
from .. import declared
from ...shared.torch_runs import adapt_rows  # noqa: F401  (re-exported)
from ...shared.torch_runs import device as _device
from ...shared.torch_runs import generator as _generator

KIND, ALGOS, FIGURES = declared(__name__)  # from experiment.yaml
ENV_NAME = "nav2d_point_finn2017"
LABELS = {"maml": "MAML", "fomaml": "FOMAML", "pretrained": "pretrained", "random_init": "random init"}

_TRAINED = {"maml": (1, True), "fomaml": (1, False), "pretrained": (0, False)}


def make_env(params: dict) -> Nav2D:
    from ...envs.nav2d import Nav2D

    return Nav2D(**params.get("env", {}))


def make_config(params: dict, hidden=None) -> M.MamlConfig:
    from ...algos import maml as M

    meta, trpo, pol = params.get("meta", {}), params.get("trpo", {}), params.get("policy", {})
    kw = {k: v for k, v in meta.items() if k != "n_iterations"}
    kw.update(trpo)
    kw["hidden"] = tuple(hidden if hidden is not None else pol.get("hidden", (100, 100)))
    if "init_log_std" in pol:
        kw["init_log_std"] = pol["init_log_std"]
    return M.MamlConfig(**kw)


def _row(iteration: int, phase: str, ret: float, wall: float, **extra) -> dict:
    return {"env": ENV_NAME, "iteration": int(iteration), "phase": phase, "return": float(ret),
            "wall_s": float(wall), **extra}


def train(algo: str, seed: int, params: dict) -> pd.DataFrame:
    from ...algos import maml as M

    if algo not in ALGOS:
        raise KeyError(f"nav2d_finn has no algorithm {algo!r}; its algorithms: {', '.join(ALGOS)}")
    device = _device(params)
    configure_torch(1)  # pinned kernels, deterministic algorithms, 1 intra-op thread (results depend on it)
    env = make_env(params)
    cfg = make_config(params)
    n_iter = int(params.get("meta", {}).get("n_iterations", 100))
    ev = params.get("eval", {})
    rows: list[dict] = []

    theta = M.init_policy(env.obs_dim, env.act_dim, cfg.hidden, _generator(device, seed, 0), cfg.init_log_std,
                          device=device)
    if algo in _TRAINED:
        adapt_steps, second_order = _TRAINED[algo]
        gen = _generator(device, seed, 1)
        for it in progress(range(n_iter), desc=f"{algo} seed {seed}", unit="meta-iter", leave=False):
            t0 = time.perf_counter()
            theta, st = M.meta_iteration(theta, env, cfg, gen, adapt_steps, second_order)
            wall = time.perf_counter() - t0
            rows.append(_row(it, "meta_train", st["return_post"], wall, return_pre=st["return_pre"],
                             kl=st["kl"], loss=st["loss"], grad_norm=st["grad_norm"],
                             backtracks=int(st["backtracks"]), n_tasks=cfg.n_tasks))

    # held-out evaluation: tasks and noise from (task_seed, seed), shared by all algorithms of the seed
    eval_gen = _generator(device, int(ev.get("task_seed", 20170306)), seed)
    goals = env.sample_goals(int(ev.get("n_tasks", 40)), eval_gen, device=device)
    steps = [float(x) for x in ev.get("step_sizes", [0.1, 0.05, 0.05, 0.05, 0.05])]
    curve = M.evaluate_adaptation(theta, env, goals, int(ev.get("n_traj", 40)), steps, eval_gen, cfg)
    for k, (task_returns, wall) in enumerate(curve):
        rows.append(_row(n_iter if algo in _TRAINED else 0, f"adapt_{k}", float(task_returns.mean()), wall,
                         n_tasks=int(goals.shape[0])))

    cost = params.get("cost", {})
    if algo == "maml" and int(cost.get("repeats", 2)) > 0:
        from ...algos.maml import time_variants

        # the configured width for every seed (the cost claim), the sweep widths for cost.seeds only
        widths = [cfg.hidden[0]] + (list(cost.get("widths", [])) if seed in cost.get("seeds", []) else [])
        for w in sorted(set(widths)):
            r = time_variants(env, make_config(params, hidden=(w,) * len(cfg.hidden)),
                              int(cost.get("repeats", 2)), seed=seed, device=device)
            for variant in ("maml", "fomaml"):  # wall_s is the only measured column of the table
                rows.append(_row(n_iter, f"cost_w{w}_{variant}", r["return_post"][variant],
                                 r["s_per_meta_iter"][variant], width=int(w)))
    df = pd.DataFrame(rows)
    df.insert(2, "algo", algo)
    df.insert(3, "seed", int(seed))
    return df


# --------------------------------------------------------------------------- analysis helpers


def _pivot(table: pd.DataFrame, algo: str, step: int) -> pd.Series:
    a = adapt_rows(table)
    return a[(a["algo"] == algo) & (a["step"] == step)].set_index("seed")["return"]


def _median_iter_time(table: pd.DataFrame, algo: str) -> pd.Series:
    m = table[(table["algo"] == algo) & (table["phase"] == "meta_train")]
    return m.groupby("seed")["wall_s"].median()


def cost_sweep(table: pd.DataFrame) -> pd.DataFrame:
    """Per (seed, width): s_maml, s_fomaml and their ratio from the ``cost_w*`` rows."""
    c = table[table["phase"].str.startswith("cost_w")].copy()
    if c.empty:
        return pd.DataFrame(columns=["seed", "width", "s_maml", "s_fomaml", "ratio"])
    c["variant"] = c["phase"].str.rsplit("_", n=1).str[1]
    c["width"] = c["phase"].str.extract(r"cost_w(\d+)_")[0].astype(int)
    w = c.pivot_table(index=["seed", "width"], columns="variant", values="wall_s").reset_index()
    w = w.rename(columns={"maml": "s_maml", "fomaml": "s_fomaml"})
    w["ratio"] = w["s_maml"] / w["s_fomaml"]
    return w


# --------------------------------------------------------------------------- figures


def figures(table: pd.DataFrame, params: dict, outdir) -> None:
    from pathlib import Path

    from ...plotting import curve_iqm_ci, savefig, setup

    plt = setup()
    outdir = Path(outdir)
    order = present(table, ALGOS)

    fig, ax = plt.subplots(figsize=(6, 4))
    mt = table[table["phase"] == "meta_train"]
    tr_order = present(mt, ("maml", "fomaml", "pretrained"))
    curve_iqm_ci(ax, mt, "iteration", "return", order=tr_order, labels=LABELS, smooth=3)
    ax.set_xlabel("meta-iteration")
    ax.set_ylabel("average return per trajectory")
    ax.set_title("2D navigation: meta-training (post-update return; IQM, 95% CI)")
    if tr_order:
        ax.legend()
    savefig(fig, outdir / "nav2d_finn_meta_training.png")

    fig, ax = plt.subplots(figsize=(6, 4))
    ad = adapt_rows(table)
    curve_iqm_ci(ax, ad, "step", "return", order=order, labels=LABELS)
    for i, a in enumerate(order):
        sub = ad[ad["algo"] == a].groupby("step")["return"].median()
        ax.scatter(sub.index, sub.values, s=12, color=f"C{i}")
    ax.set_xlabel("number of gradient steps on the held-out task")
    ax.set_ylabel("average return per trajectory")
    ax.set_title("2D navigation: adaptation on held-out goals (IQM over seeds, 95% CI)")
    ax.legend()
    savefig(fig, outdir / "nav2d_finn_adaptation.png")

    cost = cost_sweep(table)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), constrained_layout=True)
    if not cost.empty:
        g = cost.groupby("width")[["ratio", "s_maml", "s_fomaml"]].median().sort_index()
        axes[0].plot(g.index, g["ratio"], marker="o", color="C0", label="MAML / FOMAML (same process)")
        axes[0].set_ylabel("wall-time ratio per meta-iteration")
        axes[1].plot(g.index, g["s_maml"], marker="o", color="C0", label=LABELS["maml"])
        axes[1].plot(g.index, g["s_fomaml"], marker="s", color="C1", label=LABELS["fomaml"])
        axes[1].set_yscale("log")
        for ax in axes:
            ax.set_xscale("log", base=2)
            ax.set_xlabel("hidden units per layer (2 layers)")
        axes[1].set_ylabel("seconds per meta-iteration (median)")
        axes[1].legend()
        axes[1].set_title("time per meta-iteration")
    else:
        mt = table[table["phase"] == "meta_train"]
        med = mt.groupby("algo")["wall_s"].median()
        axes[1].bar([LABELS.get(a, a) for a in med.index], med.values)
        axes[1].set_ylabel("median seconds per meta-iteration")
    mt = table[table["phase"] == "meta_train"]
    if {"maml", "fomaml"} <= set(mt["algo"]):
        r = (_median_iter_time(table, "maml") / _median_iter_time(table, "fomaml")).dropna()
        w = tuple(params.get("policy", {}).get("hidden", [100, 100]))[0]
        axes[0].scatter([w] * len(r), r.values, color="C2", s=14, zorder=3,
                        label="training runs, per seed (config width)")
    axes[0].axhline(10, ls="--", color="grey", lw=1, label="chapter's claim: 10x")
    axes[0].set_ylim(bottom=0)
    axes[0].legend(fontsize=8)
    axes[0].set_title("MAML / FOMAML cost ratio")
    fig.suptitle("2D navigation: cost of the second-order meta-gradient (1 CPU thread)")
    savefig(fig, outdir / "nav2d_finn_cost_ratio.png")


# --------------------------------------------------------------------------- report


def report_section(table: pd.DataFrame, params: dict) -> str:
    ad = adapt_rows(table)
    lines = ["Held-out adaptation (mean over seeds of the average return per trajectory; "
             f"{table['seed'].nunique()} seeds):", "",
             "| algo | " + " | ".join(f"{k} steps" for k in sorted(ad["step"].unique())) + " |",
             "| --- |" + " --- |" * ad["step"].nunique()]
    for a in present(ad, ALGOS):
        s = ad[ad["algo"] == a].groupby("step")["return"].mean().sort_index()
        lines.append(f"| {a} | " + " | ".join(f"{v:.2f}" for v in s.values) + " |")
    mt = table[table["phase"] == "meta_train"]
    if not mt.empty:
        med = mt.groupby("algo")["wall_s"].median()
        lines += ["", "Median wall time per meta-iteration (training runs, 1 thread each): "
                  + ", ".join(f"{a} {med[a]:.3f} s" for a in med.index)]
        if {"maml", "fomaml"} <= set(med.index):
            lines.append(f"MAML / FOMAML = {med['maml'] / med['fomaml']:.2f}x.")
    cost = cost_sweep(table)
    if not cost.empty:
        g = cost.groupby("width")[["s_maml", "s_fomaml", "ratio"]].median().sort_index()
        lines += ["", "In-process interleaved timing sweep (median s per meta-iteration):", "",
                  "| width | MAML s | FOMAML s | ratio |", "| --- | --- | --- | --- |"]
        lines += [f"| {w} | {r.s_maml:.3f} | {r.s_fomaml:.3f} | {r.ratio:.2f} |" for w, r in g.iterrows()]
    return "\n".join(lines) + "\n"

