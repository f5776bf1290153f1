"""The Directed-MAML task-family harness shared by ``cartpole_meta`` and ``lunarlander_meta``: MAML vs
first-order MAML vs Directed-MAML (and its first-order version) vs the transfer baseline on any task family
(``env_factory(params)``; the CartPole family by default), with its analysis (convergence to a return
threshold, interleaved timing), figures and report text.

Audits the chapter's Q11 ("Directed-MAML (2024) ... CartPole-v1: 40% faster convergence; LunarLander-v2:
30% improved sample efficiency; 50% reduction in computation time") against Zhang, Yan & Liu (2025),
arXiv 2510.00212, whose abstract gives no such figures, and Q9 (meta-RL vs transfer learning: pre-train
on the task mixture, then fine-tune with the same adaptation steps).

Algorithms (:mod:`hrlmeta.algos.directed_maml`, environment :mod:`hrlmeta.envs.cartpole`):
``maml``, ``fomaml``, ``directed_maml`` (medium-task pre-step + second-order MAML), ``directed_fomaml``
(pre-step + first-order), ``pretrained`` (multi-task policy gradient on the unadapted policy, fine-tuned at
test time), ``random_init`` (fine-tuned from the initial parameters). Categorical MLP policy, vanilla
policy-gradient inner step, Adam outer optimiser (a CHOICE, see config/config.yaml).

Run table (KIND "meta"): ``meta_train`` rows (one per meta-iteration: ``return`` = mean undiscounted
return of the post-adaptation trajectories (unadapted for ``pretrained``), ``env_steps`` = environment
steps sampled in that iteration, the medium task's included, ``return_medium`` = the pre-step's return,
``wall_s`` = the whole iteration), ``adapt_0`` ... ``adapt_K`` rows on held-out tasks (``return`` after
k first-order adaptation steps; ``iteration`` = meta-iterations trained before: each of ``eval.checkpoints``
and the end), and for ``maml`` runs ``cost_{variant}`` rows: seconds per meta-iteration
of every meta-trained variant timed interleaved in one process from the run's final parameters
(``wall_s`` = the median; ``return`` = the post-adaptation return of its last timed iteration). Every column except the measured ``wall_s`` is a deterministic function of
(algo, seed, params). Held-out tasks and their sampling come from (``eval.task_seed``, seed), shared by all
algorithms of a seed (comparisons are paired by seed).
"""

from __future__ import annotations

import json
import statistics
import time

import numpy as np
import pandas as pd

from ..algos.meta_variants import VARIANTS
from ..progress import progress
from ..claims import Measures, Samples
from ..tidy import present
from .criterion import episodes_to_criterion
from .torch_runs import adapt_rows
from .torch_runs import device as _device
from .torch_runs import generator as _generator

# torch (the learners, the batched CartPole) is imported inside the training functions: the analysis
# (measures, figures, report) of the three task-family experiments loads without it.

#: the agents of the harness (experiment.yaml of each task family lists the same)
ALGOS = ("maml", "fomaml", "directed_maml", "directed_fomaml", "pretrained", "random_init")
TRAINED = tuple(VARIANTS)
ENV_NAME = "cartpole_task_family"
LABELS = {"maml": "MAML", "fomaml": "FOMAML", "directed_maml": "Directed-MAML",
          "directed_fomaml": "Directed-FOMAML", "pretrained": "pretrained (transfer)",
          "random_init": "random init"}


def make_env(params: dict) -> CartPoleFamily:
    from ..envs.cartpole import CartPoleFamily

    e = dict(params.get("env", {}))
    for k in ("masscart", "masspole", "length"):
        if k in e:
            e[k] = tuple(e[k])
    return CartPoleFamily(**e)


def make_configs(params: dict) -> tuple[M.MamlConfig, D.DirectedConfig]:
    from ..algos import directed_maml as D
    from ..algos import maml as M

    meta, pol, dr = params.get("meta", {}), params.get("policy", {}), params.get("directed", {})
    kw = {k: v for k, v in meta.items() if k not in ("n_iterations", "outer_lr")}
    cfg = M.MamlConfig(hidden=tuple(pol.get("hidden", (32, 32))), **kw)
    dcfg = D.DirectedConfig(outer_lr=float(meta.get("outer_lr", 0.01)), **dr)
    return cfg, dcfg


def _row(iteration: int, phase: str, env_name: str, ret: float, wall: float, **extra) -> dict:
    return {"env": env_name, "iteration": int(iteration), "phase": phase, "return": float(ret),
            "wall_s": float(wall), **extra}


def _learner(algo: str, seed: int, params: dict, theta=None, stream: int = 1, env_factory=None) -> D.MetaLearner:
    from ..algos import directed_maml as D
    from ..algos import maml as M

    device = _device(params)
    env = (env_factory or make_env)(params)
    cfg, dcfg = make_configs(params)
    if theta is None:
        theta = M.init_policy(env.obs_dim, env.n_actions, cfg.hidden, _generator(device, seed, 0),
                              device=device, distribution="categorical")
    return D.MetaLearner(algo, theta, env, cfg, dcfg, _generator(device, seed, stream),
                         _generator(device, seed, stream + 1))


def time_variants(theta, seed: int, params: dict, repeats: int, variants=TRAINED, env_factory=None) -> dict:
    """Median seconds per meta-iteration of each variant, interleaved in this process, every variant
    starting each round from the same parameters and random streams (one warm-up round first).
    Returns {variant: (median seconds, post-adaptation return of its last timed iteration)}."""
    times: dict[str, list[float]] = {v: [] for v in variants}
    returns: dict[str, float] = {}
    for rep in range(repeats + 1):
        for v in variants:
            learner = _learner(v, seed, params, theta=theta, stream=10 + 2 * rep, env_factory=env_factory)
            t0 = time.perf_counter()
            st = learner.step()
            if rep > 0:
                times[v].append(time.perf_counter() - t0)
                returns[v] = st["return_post"]
    return {v: (statistics.median(t), returns[v]) for v, t in times.items()}


def run(algo: str, seed: int, params: dict, experiment: str, env_name: str, env_factory) -> pd.DataFrame:
    """One training run of any task family (``env_factory(params)``) through the same agents."""
    from ..algos import maml as M

    if algo not in ALGOS:
        raise KeyError(f"{experiment} has no algorithm {algo!r}; its algorithms: {', '.join(ALGOS)}")
    device = _device(params)
    n_iter = int(params.get("meta", {}).get("n_iterations", 30))
    ev = params.get("eval", {})
    learner = _learner("maml" if algo == "random_init" else algo, seed, params, env_factory=env_factory)
    rows: list[dict] = []
    steps = [float(x) for x in ev.get("step_sizes", [0.1, 0.1, 0.1])]

    def evaluate(iteration: int) -> None:
        # held-out tasks and sampling noise from (task_seed, seed): the same for every algorithm and checkpoint
        eval_gen = _generator(device, int(ev.get("task_seed", 20251001)), seed)
        tasks = learner.env.sample_tasks(int(ev.get("n_tasks", 20)), eval_gen, device=device)
        curve = M.evaluate_adaptation(M.detach(learner.theta), learner.env, tasks, int(ev.get("n_traj", 20)), steps,
                                      eval_gen, learner.cfg, sampler=learner.sample)
        for k, (task_returns, wall) in enumerate(curve):
            rows.append(_row(iteration, f"adapt_{k}", env_name, float(task_returns.mean()), wall,
                             n_tasks=int(tasks.shape[0]),
                             task_returns=json.dumps([round(float(x), 4) for x in task_returns.tolist()])))

    if algo in TRAINED:
        checkpoints = {int(c) for c in ev.get("checkpoints", []) if 0 < int(c) < n_iter}
        for it in progress(range(n_iter), desc=f"{algo} seed {seed}", unit="meta-iter", leave=False):
            t0 = time.perf_counter()
            st = learner.step()
            wall = time.perf_counter() - t0
            rows.append(_row(it, "meta_train", env_name, st["return_post"], wall, return_pre=st["return_pre"],
                             return_medium=st["return_medium"], env_steps=int(st["env_steps"]),
                             loss=st["loss"], grad_norm=st["grad_norm"], n_tasks=learner.cfg.n_tasks))
            if it + 1 in checkpoints:
                evaluate(it + 1)
    evaluate(n_iter if algo in TRAINED else 0)
    theta = M.detach(learner.theta)

    repeats = int(params.get("cost", {}).get("repeats", 2))
    if algo == "maml" and repeats > 0:
        for v, (s, ret) in time_variants(theta, seed, params, repeats, env_factory=env_factory).items():
            rows.append(_row(n_iter, f"cost_{v}", env_name, ret, s))
    df = pd.DataFrame(rows)
    df["task_returns"] = df["task_returns"].fillna("").astype(str)  # per held-out task, adapt rows only
    df.insert(2, "algo", algo)
    df.insert(3, "seed", int(seed))
    return df


# --------------------------------------------------------------------------- analysis


def adapt_at(table: pd.DataFrame, iteration="final") -> pd.DataFrame:
    """Adaptation rows (with ``step``) evaluated after ``iteration`` meta-iterations; ``final``: each run's
    last evaluation (random_init: its only one, before any training)."""
    a = adapt_rows(table)
    if iteration == "final":
        last = a.groupby(["algo", "seed"])["iteration"].transform("max")
        return a[a["iteration"] == last]
    return a[(a["iteration"] == int(iteration)) | (a["algo"] == "random_init")]


def convergence_table(table: pd.DataFrame, threshold: float, window: int) -> pd.DataFrame:
    """Per (algo, seed): meta-iterations (``iters``), environment steps (``env_steps``) and training wall
    seconds (``train_s``) until the trailing mean of the post-adaptation return over ``window``
    meta-iterations reaches ``threshold`` and stays there; ``censored`` when it is not there at the last
    iteration (then the whole run, a lower bound)."""
    mt = table[table["phase"] == "meta_train"]
    out = []
    for (algo, seed), g in mt.groupby(["algo", "seed"], sort=True):
        g = g.sort_values("iteration")
        it, cens = episodes_to_criterion(g["iteration"].to_numpy(), -g["return"].to_numpy(), -threshold, 0.0,
                                         window)
        upto = g[g["iteration"] <= it]
        out.append({"algo": algo, "seed": int(seed), "iters": it + 1, "censored": cens,
                    "env_steps": float(upto["env_steps"].sum()), "train_s": float(upto["wall_s"].sum())})
    return pd.DataFrame(out, columns=["algo", "seed", "iters", "censored", "env_steps", "train_s"])


def cost_rows(table: pd.DataFrame) -> pd.DataFrame:
    """Seconds per meta-iteration by (seed, variant) from the in-process ``cost_*`` rows."""
    c = table[table["phase"].str.startswith("cost_")].copy()
    c["variant"] = c["phase"].str[len("cost_"):]
    return c.pivot_table(index="seed", columns="variant", values="wall_s")


def _criterion(cp: dict) -> tuple[float, int]:
    crit = cp.get("criterion", {}) or {}
    return float(crit.get("threshold", 175.0)), int(crit.get("window", 3))


def _reduction(table, cp, measure: str, base: str, agent: str):
    thr, win = _criterion(cp)
    ct = convergence_table(table, thr, win).set_index(["algo", "seed"])
    missing = [a for a in (base, agent) if a not in ct.index.get_level_values("algo")]
    if missing:
        return np.empty(0), ct, f"no meta-training runs of {missing}"
    if measure == "wall_s":
        if cp.get("source", "interleaved") == "interleaved":
            cost = cost_rows(table)
            if base not in cost or agent not in cost:
                return np.empty(0), ct, f"no in-process timing rows (cost.repeats = 0?) for {base}/{agent}"
            x = {a: ct.loc[a]["iters"] * cost[a] for a in (base, agent)}
            how = "meta-iterations to threshold x median s per meta-iteration (timed interleaved in one process)"
        else:
            x = {a: ct.loc[a]["train_s"] for a in (base, agent)}
            how = "summed wall seconds of the training iterations up to the threshold (separate jobs)"
    else:
        x = {a: ct.loc[a][measure] for a in (base, agent)}
        how = {"iters": "meta-iterations to threshold", "env_steps": "environment steps to threshold (medium-"
               "task samples included)"}[measure]
    seeds = x[base].dropna().index.intersection(x[agent].dropna().index)
    red = 1.0 - x[agent][seeds] / x[base][seeds]
    cens = {a: int(ct.loc[a]["censored"].sum()) for a in (base, agent)}
    note = (f"per seed: 1 - ({how} of {agent}) / (same of {base}); threshold: trailing mean over {win} "
            f"meta-iteration(s) of the post-adaptation training return >= {thr:g} and staying there; censored "
            f"runs (counted as the whole run, a lower bound): {cens}; {len(seeds)} seeds")
    return red.to_numpy(dtype=float), ct, note


# --------------------------------------------------------------------------- figures


def figures(table: pd.DataFrame, params: dict, outdir, experiment: str = "cartpole_meta", title: str = "CartPole",
            ref_line: tuple[float, str] | None = None) -> None:
    """The three figures (meta_training, adaptation, time_per_iter); ``ref_line`` = (return, label) drawn on the training curve
    (default: CartPole's horizon, the highest return there is)."""
    from pathlib import Path

    from matplotlib.ticker import MaxNLocator

    from ..plotting import curve_iqm_ci, savefig, setup

    plt = setup()
    outdir = Path(outdir)
    if ref_line is None:
        horizon = make_env(params).horizon
        ref_line = (horizon, f"horizon ({horizon})")

    fig, ax = plt.subplots(figsize=(6.5, 4))
    mt = table[table["phase"] == "meta_train"]
    tr_order = present(mt, TRAINED)
    curve_iqm_ci(ax, mt, "iteration", "return", order=tr_order, labels=LABELS, smooth=3)
    ax.axhline(ref_line[0], color="grey", ls=":", lw=1, label=ref_line[1])
    ax.set_xlabel("meta-iteration")
    ax.set_ylabel("return after adaptation (training tasks)")
    ax.set_title(f"{title} task family: meta-training (IQM over seeds, 95% CI)")
    ax.legend(fontsize=8)
    savefig(fig, outdir / f"{experiment}_meta_training.png")

    ad = adapt_rows(table)
    whens = sorted(ad.loc[ad["algo"] != "random_init", "iteration"].unique()) or [0]
    fig, axes = plt.subplots(1, len(whens), figsize=(4.2 * len(whens) + 1, 4), squeeze=False, sharey=True,
                             constrained_layout=True)
    for ax, when in zip(axes[0], whens):
        sub = ad[(ad["iteration"] == when) | (ad["algo"] == "random_init")]
        order = present(sub, ALGOS)
        curve_iqm_ci(ax, sub, "step", "return", order=order, labels=LABELS)
        ax.set_xlabel("adaptation steps on the held-out task")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_title(f"after {when} meta-iterations")
    axes[0][0].set_ylabel("average return per trajectory")
    axes[0][-1].legend(fontsize=7)
    fig.suptitle(f"{title}: adaptation on held-out tasks (IQM over seeds, 95% CI; random init: untrained)")
    savefig(fig, outdir / f"{experiment}_adaptation.png")

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), constrained_layout=True)
    med = mt.groupby(["algo", "seed"])["wall_s"].median().reset_index()
    order = present(med, TRAINED)
    for i, a in enumerate(order):
        v = med[med["algo"] == a]["wall_s"].to_numpy()
        axes[0].bar(i, np.median(v), color=f"C{i}")
        axes[0].scatter(np.full(len(v), i), v, color="k", s=10, zorder=3)
    axes[0].set_xticks(range(len(order)), [LABELS[a] for a in order], rotation=25, ha="right")
    axes[0].set_ylabel("median s per meta-iteration")
    axes[0].set_title("training runs (separate jobs; dots: seeds)")
    cost = cost_rows(table)
    corder = [a for a in TRAINED if a in cost]
    for i, a in enumerate(corder):
        v = cost[a].dropna().to_numpy()
        axes[1].bar(i, np.median(v), color=f"C{TRAINED.index(a)}")
        axes[1].scatter(np.full(len(v), i), v, color="k", s=10, zorder=3)
    axes[1].set_xticks(range(len(corder)), [LABELS[a] for a in corder], rotation=25, ha="right")
    axes[1].set_ylabel("median s per meta-iteration")
    axes[1].set_title("interleaved in one process, from MAML's final parameters")
    fig.suptitle(f"{title}: wall time per meta-iteration (1 CPU thread)")
    savefig(fig, outdir / f"{experiment}_time_per_iter.png")


# --------------------------------------------------------------------------- report


PAPER_NOTE = ("Reconstructed from the abstract of Zhang, Yan & Liu (2025, arXiv 2510.00212; the chapter dates it "
             "2024): the method section, the paper's hyper-parameters and its tables could not be read, and "
             "the abstract gives none of the chapter's figures (40% / 30% / 50%). The chapter's description "
             "(\"only compute gradient components most relevant to the current task\", task feature vectors "
             "weighting gradient directions) does not match the abstract, which describes \"an additional "
             "first-order task-directed approximation\" before the second-order gradient step; taking that step "
             "on a representative (\"medium\") task of the distribution is this reconstruction's reading, not "
             "the paper's words. Where each quoted number was read: 40% / 30% / 50% -- the chapter says them "
             "(Q11); the paper's abstract, the only part read, has none of them.")


def report_section(table: pd.DataFrame, params: dict, threshold: float = 175.0, intro: str | None = None) -> str:
    ad = adapt_at(table)
    if intro is None:
        intro = (PAPER_NOTE + " The LunarLander figure (30% better sample efficiency) is the experiment "
                 "`lunarlander_meta` (LunarLander-v3: v2 is deprecated in gymnasium 1.x), enabled in "
                 "config/paper.yaml only: it does not fit the default budget, so that claim is not decided at the "
                 "default scale; `directed_maml_sample_efficiency_cartpole` measures the same quantity here.")
    lines = [intro, "",
             f"Held-out adaptation (mean over {table['seed'].nunique()} seeds of the average return per trajectory):",
             "", "| algo | " + " | ".join(f"{k} steps" for k in sorted(ad["step"].unique())) + " |",
             "| --- |" + " --- |" * ad["step"].nunique()]
    for a in present(ad, ALGOS):
        s = ad[ad["algo"] == a].groupby("step")["return"].mean().sort_index()
        lines.append(f"| {a} | " + " | ".join(f"{v:.1f}" for v in s.values) + " |")
    ck = adapt_rows(table)
    ck = ck[(ck["algo"] != "random_init") & (ck["step"] == 1)]
    if ck["iteration"].nunique() > 1:
        p = ck.pivot_table(index="algo", columns="iteration", values="return", aggfunc="mean")
        lines += ["", "Held-out return after 1 adaptation step, by meta-iterations of training (mean over seeds):", "",
                  "| algo | " + " | ".join(f"{c} it." for c in p.columns) + " |", "| --- |" + " --- |" * p.shape[1]]
        lines += [f"| {a} | " + " | ".join(f"{v:.1f}" for v in p.loc[a].values) + " |"
                  for a in present(ck, ALGOS)]
    mt = table[table["phase"] == "meta_train"]
    if not mt.empty:
        thr, win = _criterion({"criterion": {"threshold": threshold}})
        ct = convergence_table(table, thr, win)
        g = ct.groupby("algo").agg(iters=("iters", "median"), cens=("censored", "sum"),
                                   steps=("env_steps", "median"))
        lines += ["", f"Meta-iterations / env steps to a trailing-{win} return >= {thr:g} (median over seeds; "
                  "censored runs):", "", "| algo | iterations | env steps | censored |", "| --- | --- | --- | --- |"]
        lines += [f"| {a} | {r.iters:.0f} | {r.steps:.0f} | {int(r.cens)} |" for a, r in g.iterrows()]
    cost = cost_rows(table)
    if not cost.empty:
        m = cost.median()
        lines += ["", "Seconds per meta-iteration, interleaved in one process (median over seeds): "
                  + ", ".join(f"{a} {m[a]:.3f}" for a in TRAINED if a in m)]
        if {"maml", "directed_maml"} <= set(m.index):
            lines.append(f"Directed-MAML / MAML per iteration: {m['directed_maml'] / m['maml']:.2f}x "
                         "(the pre-step adds one medium-task batch and one first-order gradient). This extra cost "
                         "of our reconstruction decides `directed_maml_compute`: with each iteration that much "
                         "longer, halving the computation time needs convergence in "
                         f"{0.5 * m['maml'] / m['directed_maml']:.0%} of MAML's iterations or fewer, so the "
                         "verdict is about this reconstruction, not the authors' implementation (whose cost per "
                         "iteration could not be read).")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- measures (the claims')

MEASURES = Measures()

ALGO = {"type": "string"}
CRITERION = {"type": "object", "additionalProperties": False,
             "properties": {"threshold": {"type": "number"}, "window": {"type": "integer", "minimum": 1}}}


@MEASURES.register("reduction", {"quantity": {"enum": ["iters", "wall_s", "env_steps"]}, "baseline": ALGO,
                                 "agent": ALGO, "criterion": CRITERION,
                                 "source": {"enum": ["interleaved", "training"]}},
                   required=["quantity"])
def reduction(table: pd.DataFrame, params: dict, cp: dict) -> Samples:
    """Per seed: 1 - (``quantity`` the agent needs to reach the return threshold) / (the same of the
    baseline); ``quantity``: meta-iterations, wall seconds or environment steps."""
    base, agent = cp.get("baseline", "maml"), cp.get("agent", "directed_maml")
    vals, _, note = _reduction(table, cp, cp["quantity"], base, agent)
    return Samples(vals, statistic="iqm", note=note)


def samples_before(table: pd.DataFrame, algo: str, params: dict) -> pd.DataFrame:
    """Per (seed, evaluated iteration) of ``algo``: environment steps (``env_steps``) and trajectories
    (``traj``) sampled by meta-training before that held-out evaluation (medium-task samples included)."""
    mt = table[(table["phase"] == "meta_train") & (table["algo"] == algo)]
    ev = adapt_rows(table)
    ev = ev[(ev["algo"] == algo) & (ev["step"] == 0)][["seed", "iteration"]].drop_duplicates()
    per_iter = trajectories_per_iteration(algo, params) if algo in TRAINED else 0.0
    out = []
    for seed, it in zip(ev["seed"], ev["iteration"]):
        g = mt[(mt["seed"] == seed) & (mt["iteration"] < it)]
        out.append({"seed": int(seed), "iteration": int(it), "env_steps": float(g["env_steps"].sum()),
                    "traj": float(it) * per_iter})
    return pd.DataFrame(out, columns=["seed", "iteration", "env_steps", "traj"])


def trajectories_per_iteration(algo: str, params: dict) -> float:
    """Trajectories one meta-iteration of ``algo`` samples: n_tasks x n_traj per batch, two batches for the
    adapted variants (before and after the inner step), one for ``pretrained``; plus the medium task's
    ``pre_n_traj`` for the directed ones."""
    adapt, _, directed = VARIANTS[algo]
    meta, dr = params.get("meta", {}), params.get("directed", {})
    n_tasks, n_traj = int(meta.get("n_tasks", 10)), int(meta.get("n_traj", 10))
    return float(n_tasks * n_traj * (1 + adapt) + (int(dr.get("pre_n_traj", 2 * n_traj)) if directed else 0))


def transfer_gap(table: pd.DataFrame, params: dict, cp: dict) -> tuple[np.ndarray, str]:
    """Per seed: held-out return after ``adapt_step`` adaptation steps of ``agent`` (evaluated after
    ``iteration`` meta-iterations) minus that of ``baseline`` at the evaluation that matches it by ``match``:

    * ``env_steps`` (the claim's primary): the baseline's evaluation whose meta-training environment steps
      are closest to the agent's (MAML samples two batches per iteration, the pretrained policy one, so equal
      iterations would give MAML about twice the samples);
    * ``trajectories``: the baseline's evaluation after as many sampled trajectories (MAML at i iterations vs
      pretrained at 2i), skipped for a seed where that checkpoint was not evaluated;
    * ``iterations``: the same number of meta-iterations (MAML gets about twice the samples).
    """
    k = int(cp.get("adapt_step", 1))
    when = cp.get("iteration", "final")
    match = cp.get("match", "env_steps")
    agent, baseline = cp.get("agent", "maml"), cp.get("baseline", "pretrained")
    if match not in ("env_steps", "trajectories", "iterations"):
        raise ValueError(f"params.match {match!r} is not one of ['env_steps', 'trajectories', 'iterations']")
    a = adapt_rows(table)
    a = a[a["step"] == k]
    ret = {algo: a[a["algo"] == algo].set_index(["seed", "iteration"])["return"] for algo in (agent, baseline)}
    if ret[agent].empty or ret[baseline].empty:
        return np.empty(0), f"no {agent}/{baseline} adaptation rows"
    sa, sb = samples_before(table, agent, params), samples_before(table, baseline, params)
    if when == "final":
        sa = sa.loc[sa.groupby("seed")["iteration"].idxmax()]
    else:
        sa = sa[sa["iteration"] == int(when)]
    diffs, used, ratios = [], [], []
    for _, r in sa.iterrows():
        cand = sb[sb["seed"] == r["seed"]]
        if cand.empty:
            continue
        if match == "iterations":
            pick = cand[cand["iteration"] == r["iteration"]]
        elif match == "trajectories":
            pick = cand[np.isclose(cand["traj"], r["traj"])]
        else:
            pick = cand.loc[[(cand["env_steps"] - r["env_steps"]).abs().idxmin()]]
        if pick.empty:
            continue
        p = pick.iloc[0]
        key_a, key_b = (int(r["seed"]), int(r["iteration"])), (int(p["seed"]), int(p["iteration"]))
        if key_a not in ret[agent].index or key_b not in ret[baseline].index:
            continue
        diffs.append(float(ret[agent].loc[key_a]) - float(ret[baseline].loc[key_b]))
        used.append(int(p["iteration"]))
        if r["env_steps"] > 0:
            ratios.append(float(p["env_steps"]) / float(r["env_steps"]))
    how = {"env_steps": "the evaluation with the closest number of meta-training environment steps",
           "trajectories": "the evaluation after as many sampled trajectories",
           "iterations": "the same number of meta-iterations"}[match]
    ratio = f"; {baseline}/{agent} env steps at the matched evaluations: median {np.median(ratios):.2f}" \
        if ratios else ""
    note = (f"per seed: held-out return after {k} adaptation step(s), {agent} after {when} meta-iterations minus "
            f"{baseline} at {how} ({baseline} iterations used: {sorted(set(used))}){ratio}; {len(diffs)} seeds")
    return np.asarray(diffs, dtype=float), note


@MEASURES.register("meta_vs_transfer", {"adapt_step": {"type": "integer", "minimum": 0},
                                        "iteration": {"type": ["integer", "string"]},
                                        "match": {"enum": ["env_steps", "trajectories", "iterations"]},
                                        "agent": ALGO, "baseline": ALGO})
def meta_vs_transfer(table: pd.DataFrame, params: dict, cp: dict) -> Samples:
    """Per seed: held-out return after ``adapt_step`` adaptation steps, meta-learner after ``iteration``
    meta-iterations minus the transfer baseline at the evaluation matched by ``match`` (see
    :func:`transfer_gap`; default: equal meta-training environment steps)."""
    vals, note = transfer_gap(table, params, cp)
    return Samples(vals, statistic="mean", note=note)
