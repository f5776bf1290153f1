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

import importlib

import numpy as np
import pandas as pd

from ...shared.torch_runs import adapt_rows
from ...tidy import present
from .. import declared

KIND, ALGOS, FIGURES = declared(__name__)  # from experiment.yaml
ENV_NAME = "nav2d_seedblog_chapter"
LABELS = {"maml_as_written": "listing as written", "maml_lossfix": "listing, loss broadcast fixed",
          "random_init": "random init"}


def train(algo: str, seed: int, params: dict) -> pd.DataFrame:
    """One run (see :func:`hrlmeta.experiments.nav2d_seedblog.training.train`): the training code and torch live
    in ``training.py``, so the analysis below loads without them."""
    from .training import train as _train

    return _train(algo, seed, params)


def __getattr__(name: str):
    """The training module's names (``LossFixMAML``, ``audit_outer_loop``, ...) as attributes of the package."""
    if name.startswith("__"):
        raise AttributeError(name)
    training = importlib.import_module(".training", __name__)
    try:
        return getattr(training, name)
    except AttributeError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None


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

