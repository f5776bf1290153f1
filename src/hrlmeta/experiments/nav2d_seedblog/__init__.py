"""Experiment ``nav2d_seedblog``: the chapter's own "MAML for RL" listing, run as written and audited.

The listing (:mod:`hrlmeta.algos.seedblog_maml`) is driven through its own classes: ``MAML.outer_loop``
for meta-training (10 tasks per batch, inner lr 0.1, Adam 1e-3, one trajectory per task and phase, goals
in [-10, 10]^2, horizon 50) and the listing's ``evaluate_maml`` for the before/after-5-steps evaluation.

Algorithms
- ``maml_as_written``: the listing exactly as written.
- ``maml_lossfix``: the listing with ONE change, in ``compute_loss``: ``log_probs`` is stacked to shape
  (T, 1) while ``returns`` is (T,), so the listing's ``log_probs * returns`` broadcasts to a (T, T) outer
  product and ``.mean()`` gives ``mean(log_probs) * mean(normalised returns)``; the normalised returns
  have mean 0 (up to float32 rounding), so the loss and its gradient vanish. The fix flattens
  ``log_probs`` to (T,) (the evident intent: per-step REINFORCE). Everything else, including the
  ``param.data`` swap in ``outer_loop``, is untouched, so the audit can isolate that second question.
- ``random_init``: no meta-training; the listing's ``evaluate_maml`` from the initial policy.

Audit (every ``audit_every`` meta-iterations of the two trained variants). The trajectories the
listing samples inside ``outer_loop`` are recorded (by wrapping the instance's ``collect_trajectory``,
the listing itself is unchanged); on exactly those trajectories, with the variant's own loss, we compute
  - ``g_listing``: what ``outer_loop`` leaves in ``param.grad`` (the update Adam then applies);
  - ``g_maml``: the true MAML meta-gradient, d/d theta of mean_i L(theta - a grad L(theta; pre_i); post_i),
    second order (``create_graph=True``);
  - ``g_fomaml``: the first-order one, mean_i grad L(phi_i; post_i) at the adapted phi_i;
  - ``g_pg_theta``: the plain policy gradient at theta of the post-adaptation trajectories;
and log cosine similarities and norms (``cos_*``, ``norm_*``, ``relerr_fomaml``). Meta-training rows log
the listing's meta-loss as ``loss``, its ``wall_s`` excludes the audit.

One-step trajectories. When a goal lies within reach of the first step (``dist < 0.5`` after one step),
the trajectory has one reward and the listing's ``returns.std()`` (unbiased, n - 1 = 0) is NaN; the NaN
gradient reaches the parameters (Adam) and the next ``torch.distributions.Normal`` raises: as written,
the run crashes. We snapshot the policy and Adam state before every ``outer_loop`` and, when that happens,
restore them and mark the row ``nan_skipped`` (the first such iteration is where the listing as written
dies); at evaluation such test tasks are counted (``eval_tasks_failed``) and left out.

Run table rows: ``meta_train`` (``return`` = mean undiscounted return of the post-adaptation
trajectories of the batch), then ``adapt_0`` ... ``adapt_5`` from the listing's ``evaluate_maml`` on held-out
goals (adapt_0 = its "before" trajectory, adapt_5 = its "after" trajectory, adapt_k for 1 <= k <= 4 = the
trajectory ``adapt_to_task`` collects after k SGD steps), averaged over test tasks.
"""

from __future__ import annotations

import copy
import time
import warnings

import numpy as np
import pandas as pd
import torch

from ...algos import seedblog_maml as S
from ...pipeline_env import configure_torch
from ...progress import progress
from ...shared.torch_runs import adapt_rows
from ...tidy import present
from .. import declared

KIND, ALGOS, FIGURES = declared(__name__)  # from experiment.yaml
ENV_NAME = "nav2d_seedblog_chapter"
LABELS = {"maml_as_written": "listing as written", "maml_lossfix": "listing, loss broadcast fixed",
          "random_init": "random init"}


class LossFixMAML(S.MAML):
    """The listing's MAML with only the broadcasting bug of ``compute_loss`` fixed."""

    def compute_loss(self, states, actions, rewards, log_probs):
        returns = []
        G = 0
        for r in reversed(rewards):
            G = r + 0.99 * G
            returns.insert(0, G)
        returns = torch.FloatTensor(returns)
        returns = (returns - returns.mean()) / (returns.std() + 1e-8)
        log_probs = torch.stack(log_probs).reshape(-1)  # (T,) instead of (T, 1): the only change
        return -(log_probs * returns).mean()


def _generators(seed: int, stream: int) -> tuple[np.random.Generator, torch.Generator]:
    ss = np.random.SeedSequence([seed, stream])
    a, b = ss.generate_state(2)
    return np.random.default_rng(ss), torch.Generator().manual_seed(int(a) << 32 | int(b))


def _make(algo: str, seed: int, params: dict):
    _, gen = _generators(seed, 1)
    policy = S.make_policy(seed, gen)
    cls = LossFixMAML if algo == "maml_lossfix" else S.MAML
    return cls(policy, inner_lr=float(params.get("inner_lr", 0.1)), outer_lr=float(params.get("outer_lr", 0.001)))


class _Recorder:
    """Wrap ``maml.collect_trajectory`` to keep every trajectory it returns (the listing is unchanged)."""

    def __init__(self, maml):
        self.maml, self.records = maml, []

    def __enter__(self):
        inner = type(self.maml).collect_trajectory

        def recording(env, policy, max_steps=50):
            out = inner(self.maml, env, policy, max_steps)
            self.records.append(out)
            return out

        self.maml.collect_trajectory = recording
        return self

    def __exit__(self, *exc):
        del self.maml.collect_trajectory


def _loss_at(maml, params: dict, record) -> torch.Tensor:
    """The variant's own ``compute_loss`` on a recorded trajectory, log-probs re-evaluated at ``params``."""
    states, actions, rewards, _ = record
    s = torch.as_tensor(np.asarray(states, dtype=np.float32))
    a = torch.as_tensor(np.asarray(actions, dtype=np.float32))
    mean, std = torch.func.functional_call(maml.policy, params, (s,))
    lp = torch.distributions.Normal(mean, std).log_prob(a).sum(dim=-1)
    return maml.compute_loss(states, actions, rewards, [x.reshape(1) for x in lp])


def _cos(a: torch.Tensor, b: torch.Tensor) -> float:
    den = float(a.norm() * b.norm())
    return float(a @ b) / den if den > 0 else float("nan")


def audit_outer_loop(maml, task_batch):
    """Run ``maml.outer_loop(task_batch)`` and compare its meta-gradient with the references.
    Returns (meta_loss, audit dict, recorded trajectories, seconds spent in outer_loop)."""
    names = [n for n, _ in maml.policy.named_parameters()]
    theta = {n: p.detach().clone() for n, p in maml.policy.named_parameters()}
    with _Recorder(maml) as rec:
        t0 = time.perf_counter()
        meta_loss = maml.outer_loop(task_batch)
        wall = time.perf_counter() - t0
    g_listing = torch.cat([p.grad.reshape(-1) for p in maml.policy.parameters()])
    pre, post = rec.records[0::2], rec.records[1::2]
    n = len(task_batch)
    lr = maml.inner_lr

    leaf = {k: v.clone().requires_grad_(True) for k, v in theta.items()}
    outer = 0.0
    for r_pre, r_post in zip(pre, post):
        inner = _loss_at(maml, leaf, r_pre)
        grads = torch.autograd.grad(inner, [leaf[k] for k in names], create_graph=True)
        phi = {k: leaf[k] - lr * g for k, g in zip(names, grads)}
        outer = outer + _loss_at(maml, phi, r_post)
    g_maml = torch.cat([g.reshape(-1) for g in torch.autograd.grad(outer / n, [leaf[k] for k in names])])

    g_fo = torch.zeros_like(g_maml)
    g_theta = torch.zeros_like(g_maml)
    for r_pre, r_post in zip(pre, post):
        lf = {k: v.clone().requires_grad_(True) for k, v in theta.items()}
        grads = torch.autograd.grad(_loss_at(maml, lf, r_pre), [lf[k] for k in names])
        phi = {k: (theta[k] - lr * g).requires_grad_(True) for k, g in zip(names, grads)}
        g_fo += torch.cat([g.reshape(-1) for g in torch.autograd.grad(_loss_at(maml, phi, r_post),
                                                                     [phi[k] for k in names])]) / n
        lt = {k: v.clone().requires_grad_(True) for k, v in theta.items()}
        g_theta += torch.cat([g.reshape(-1) for g in torch.autograd.grad(_loss_at(maml, lt, r_post),
                                                                        [lt[k] for k in names])]) / n
    audit = {
        "norm_listing": float(g_listing.norm()),
        "norm_maml": float(g_maml.norm()),
        "norm_fomaml": float(g_fo.norm()),
        "norm_pg_theta": float(g_theta.norm()),
        "norm_second_order_term": float((g_maml - g_fo).norm()),
        "cos_listing_maml": _cos(g_listing, g_maml),
        "cos_listing_fomaml": _cos(g_listing, g_fo),
        "cos_listing_pg_theta": _cos(g_listing, g_theta),
        "cos_fomaml_maml": _cos(g_fo, g_maml),
        "relerr_fomaml": float((g_listing - g_fo).norm() / g_fo.norm()) if g_fo.norm() > 0 else float("nan"),
    }
    return meta_loss, audit, rec.records, wall


def _finite(maml) -> bool:
    return all(bool(torch.isfinite(p).all()) for p in maml.policy.parameters())


def evaluate(maml, seed: int, params: dict) -> tuple[list[tuple[float, float]], int]:
    """The loop of the listing's ``evaluate_maml`` on held-out goals (same calls in the same order), with
    the returns after 0..K steps recorded. A test task on which the listing breaks down (a one-step
    trajectory makes ``returns.std()`` NaN, the SGD step then makes the adapted policy NaN and the next
    ``Normal`` raises) is counted and left out. Returns ([(mean return over tasks, seconds)] for adapt_0..K,
    number of failed tasks)."""
    ev = params.get("eval", {})
    n_tasks, k = int(ev.get("n_tasks", 20)), int(ev.get("adapt_steps", 5))
    rng, gen = _generators(int(ev.get("task_seed", 1000003)), seed)
    maml.policy.generator = gen
    curves, failed = [], 0
    t0 = time.perf_counter()
    # adapt_to_task builds a PolicyNetwork() (default init from the global RNG, then overwritten by
    # load_state_dict): fork_rng keeps the caller's global RNG state untouched
    with torch.random.fork_rng(devices=[]):
        _evaluate_tasks(maml, rng, n_tasks, k, curves)
    failed = n_tasks - len(curves)
    wall = (time.perf_counter() - t0) / (k + 1)
    if not curves:
        raise RuntimeError("nav2d_seedblog: the listing failed on every test task")
    mean = np.mean(np.asarray(curves, dtype=float), axis=0)
    return [(float(c), wall) for c in mean], failed


def _evaluate_tasks(maml, rng, n_tasks: int, k: int, curves: list) -> None:
    for _ in range(n_tasks):
        test_env = S.Navigation2DEnv.sample_task(rng)
        with _Recorder(maml) as rec:
            try:
                # the before / after trajectories' log-probabilities are never differentiated: sampled
                # without building their graphs (same forward, same draws, same numbers)
                with torch.no_grad():
                    _, _, before, _ = maml.collect_trajectory(test_env, maml.policy)
                adapted_policy = maml.adapt_to_task(test_env, num_steps=k)
                with torch.no_grad():
                    _, _, after, _ = maml.collect_trajectory(test_env, adapted_policy)
            except ValueError:
                continue
        if not all(bool(torch.isfinite(p).all()) for p in adapted_policy.parameters()):
            continue
        mid = [sum(r[2]) for r in rec.records[2:1 + k]]  # trajectories after 1..k-1 SGD steps
        curves.append([sum(before), *mid, sum(after)])


def train(algo: str, seed: int, params: dict) -> pd.DataFrame:
    if algo not in ALGOS:
        raise KeyError(f"nav2d_seedblog has no algorithm {algo!r}; its algorithms: {', '.join(ALGOS)}")
    configure_torch(1)  # pinned kernels, deterministic algorithms, 1 intra-op thread (results depend on it)
    maml = _make(algo, seed, params)
    n_iter = int(params.get("n_iterations", 500)) if algo != "random_init" else 0
    batch = int(params.get("task_batch_size", 10))
    audit_every = int(params.get("audit_every", 10))
    task_rng, _ = _generators(seed, 2)
    rows = []
    with warnings.catch_warnings():
        # the listing's returns.std() of a one-step trajectory warns before it returns NaN; counted below
        warnings.filterwarnings("ignore", message="std\\(\\): degrees of freedom")
        return _train_loop(algo, seed, params, maml, n_iter, batch, audit_every, task_rng, rows)


def _train_loop(algo, seed, params, maml, n_iter, batch, audit_every, task_rng, rows):
    for it in progress(range(n_iter), desc=f"{algo} seed {seed}", unit="meta-iter", leave=False):
        task_batch = [S.Navigation2DEnv.sample_task(task_rng) for _ in range(batch)]
        snapshot = (copy.deepcopy(maml.policy.state_dict()), copy.deepcopy(maml.optimizer.state_dict()))
        extra, records, crashed = {}, [], False
        try:
            if audit_every > 0 and it % audit_every == 0:
                meta_loss, extra, records, wall = audit_outer_loop(maml, task_batch)
            else:
                with _Recorder(maml) as rec:
                    t0 = time.perf_counter()
                    meta_loss = maml.outer_loop(task_batch)
                    wall = time.perf_counter() - t0
                records = rec.records
        except ValueError:  # NaN parameters reached torch.distributions.Normal inside outer_loop
            crashed, meta_loss, wall = True, float("nan"), 0.0
        if crashed or not _finite(maml):
            # as written the run dies here (NaN parameters); we restore the state before this batch,
            # count the event and go on, so the rest of the listing can still be measured
            crashed, extra = True, {}
            maml.policy.load_state_dict(snapshot[0])
            maml.optimizer.load_state_dict(snapshot[1])
        post = records[1::2] or records
        ret = float(np.mean([sum(r[2]) for r in post])) if post else float("nan")
        rows.append({"iteration": it, "phase": "meta_train", "return": ret, "wall_s": wall,
                     "loss": meta_loss, "nan_skipped": crashed, "audited": bool(extra), **extra})
    curve, failed = evaluate(maml, seed, params)
    for k, (ret, wall) in enumerate(curve):
        rows.append({"iteration": n_iter, "phase": f"adapt_{k}", "return": ret, "wall_s": wall,
                     "eval_tasks_failed": failed})
    df = pd.DataFrame(rows)
    # a batch whose every trajectory was lost to the NaN has no return: carry the previous one
    df["return"] = df["return"].ffill().fillna(df["return"].mean())
    df.insert(0, "experiment", "nav2d_seedblog")
    df.insert(1, "env", ENV_NAME)
    df.insert(2, "algo", algo)
    df.insert(3, "seed", int(seed))
    for col in ("audited", "nan_skipped"):
        if col in df.columns:
            df[col] = df[col].astype("boolean").fillna(False).astype(bool)
    return df


# --------------------------------------------------------------------------- analysis


def _gain(table: pd.DataFrame, algo: str, k: int) -> pd.Series:
    a = adapt_rows(table)
    a = a[a["algo"] == algo].pivot_table(index="seed", columns="step", values="return")
    if a.empty or k not in a.columns:
        return pd.Series(dtype=float)
    return (a[k] - a[0]).dropna()


def audit_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Per algorithm: median over audited iterations and seeds of every audit column."""
    cols = [c for c in table.columns if c.startswith(("cos_", "norm_", "relerr_"))]
    if not cols or "audited" not in table.columns:
        return pd.DataFrame()
    a = table[(table["phase"] == "meta_train") & table["audited"].astype(bool)]
    return a.groupby("algo")[cols].median()


def figures(table: pd.DataFrame, params: dict, outdir) -> None:
    from pathlib import Path

    from ...plotting import curve_iqm_ci, savefig, setup

    plt = setup()
    outdir = Path(outdir)
    order = present(table, ALGOS)

    fig, ax = plt.subplots(figsize=(6, 4))
    mt = table[table["phase"] == "meta_train"]
    tr = present(mt, order)
    curve_iqm_ci(ax, mt, "iteration", "return", order=tr, labels=LABELS, smooth=10)
    ax.set_xlabel("meta-iteration (outer_loop call)")
    ax.set_ylabel("post-adaptation return (one trajectory per task)")
    ax.set_title("Chapter listing: meta-training (IQM over seeds, 95% CI)")
    if tr:
        ax.legend()
    savefig(fig, outdir / "nav2d_seedblog_meta_training.png")

    fig, ax = plt.subplots(figsize=(6, 4))
    ad = adapt_rows(table)
    curve_iqm_ci(ax, ad, "step", "return", order=order, labels=LABELS)
    ax.axhline(-50, ls=":", color="grey", lw=1)
    ax.axhline(-20, ls="--", color="grey", lw=1, label="chapter's example (-50 -> -20)")
    ax.set_xlabel("SGD steps of adapt_to_task on the held-out goal")
    ax.set_ylabel("return of one trajectory (mean over test goals)")
    ax.set_title("Chapter listing: adaptation on held-out goals (IQM, 95% CI)")
    ax.legend(fontsize=8)
    savefig(fig, outdir / "nav2d_seedblog_adaptation.png")

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), constrained_layout=True)
    a = table[(table["phase"] == "meta_train")]
    if "audited" in a.columns:
        a = a[a["audited"].astype(bool)]
    pairs = [("cos_listing_maml", "vs true MAML\n(2nd order)"), ("cos_listing_fomaml", "vs FOMAML\n(1st order)"),
             ("cos_listing_pg_theta", "vs policy gradient\nat theta")]
    recs = []
    for algo in order:
        for col, lab in pairs:
            if col in a.columns:
                for v in a.loc[a["algo"] == algo, col].dropna():
                    recs.append({"algo": LABELS.get(algo, algo), "reference": lab, "cosine": v})
    if recs:
        import seaborn as sns

        sns.boxplot(data=pd.DataFrame(recs), x="reference", y="cosine", hue="algo", ax=axes[0], fliersize=2)
        axes[0].set_ylim(-1.05, 1.05)
        axes[0].set_xlabel("")
        axes[0].set_ylabel("cosine similarity with outer_loop's meta-gradient")
        axes[0].tick_params(axis="x", labelsize=8)
        axes[0].legend(fontsize=8)
        nrec = []
        for algo in order:
            for col, lab in [("norm_listing", "listing"), ("norm_maml", "true MAML"),
                             ("norm_fomaml", "FOMAML"), ("norm_second_order_term", "2nd-order term")]:
                if col in a.columns:
                    for v in a.loc[a["algo"] == algo, col].dropna():
                        nrec.append({"algo": LABELS.get(algo, algo), "gradient": lab, "norm": max(v, 1e-12)})
        sns.boxplot(data=pd.DataFrame(nrec), x="gradient", y="norm", hue="algo", ax=axes[1], fliersize=2)
        axes[1].set_yscale("log")
        axes[1].set_xlabel("")
        axes[1].set_ylabel("gradient norm (log scale)")
        axes[1].legend(fontsize=8)
    fig.suptitle("Audit of the listing's outer_loop meta-gradient (audited iterations, all seeds)")
    savefig(fig, outdir / "nav2d_seedblog_audit.png")


def report_section(table: pd.DataFrame, params: dict) -> str:
    lines = []
    summ = audit_summary(table)
    if not summ.empty:
        lines += ["Audit of `MAML.outer_loop` (medians over audited iterations and seeds):", "",
                  "| algo | " + " | ".join(summ.columns) + " |", "| --- |" + " --- |" * len(summ.columns)]
        for algo, r in summ.iterrows():
            lines.append(f"| {algo} | " + " | ".join(f"{v:.3g}" for v in r.values) + " |")
        lines += ["",
                  "Reading (maml_lossfix): `cos_listing_fomaml` = 1 and `relerr_fomaml` ~ 1e-7 mean `outer_loop` "
                  "computes the first-order (FOMAML) meta-gradient, while `cos_listing_maml` < 1 and a second-order "
                  "term comparable to the gradient itself show what is lost: the "
                  "`param.data = adapted_param.data` swap evaluates the "
                  "post-adaptation loss at the adapted parameters, but the graph of the inner update is never "
                  "used, so no gradient flows through it. As written, `compute_loss` broadcasts (T,1) x (T,) "
                  "and returns mean(log pi) * mean(normalised returns) = O(1e-8): every gradient norm is ~1e-8, "
                  "inner and test-time SGD steps do nothing, and Adam turns the rounding noise into "
                  "sign-like steps of size ~lr.", ""]
    mt = table[table["phase"] == "meta_train"]
    if "nan_skipped" in mt.columns and not mt.empty:
        first = mt[mt["nan_skipped"]].groupby(["algo", "seed"])["iteration"].min()
        for algo in sorted(mt["algo"].unique()):
            sub = mt[mt["algo"] == algo]
            n_seeds = sub["seed"].nunique()
            crashed = first.loc[algo] if algo in first.index.get_level_values(0) else pd.Series(dtype=float)
            lines.append(
                f"- {algo}: {len(crashed)}/{n_seeds} seeds would have crashed (NaN parameters from a one-step "
                f"trajectory's `returns.std()`), first at iteration "
                f"{int(crashed.median()) if len(crashed) else 'n/a'} (median); "
                f"{int(sub['nan_skipped'].sum())} batches skipped in total.")
    ad = adapt_rows(table)
    if not ad.empty:
        lines += ["", "| algo | before (adapt_0) | after 5 steps (adapt_5) | gain |", "| --- | --- | --- | --- |"]
        for algo in present(ad, ALGOS):
            s = ad[ad["algo"] == algo].groupby("step")["return"].mean()
            k = s.index.max()
            lines.append(f"| {algo} | {s[0]:.1f} | {s[k]:.1f} | {s[k] - s[0]:+.1f} |")
        lines.append("\nThe chapter's example: from -50 to -20 (gain +30).")
    return "\n".join(lines) + "\n"

