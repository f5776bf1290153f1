"""Experiment ``cartpole_flip_meta``: the agents of :mod:`hrlmeta.experiments.cartpole_meta` on a CartPole
task family where one policy cannot serve every task: besides the physical parameters, each task swaps the
meaning of its two actions with probability ``env.flip_prob`` (:class:`hrlmeta.envs.cartpole.CartPoleFamily`).

Why this family: on ``cartpole_meta``'s family (masses and pole length only) a single unadapted policy
balances almost every task to the horizon, so "faster convergence" there measures how fast an optimiser
solves CartPole, not meta-learning. With mirrored actions, what balances the pole in a task tips it over in
its mirror; a policy blind to the task earns little on average, and only adaptation to the task's own
trajectories can recover the return -- the analogue of the opposite-direction tasks of Finn et al. (2017).
Mirrored actions are chosen over a moving target position because they keep CartPole's reward (1 per step)
and termination unchanged, so returns stay comparable with the paper-faithful family.

Same run table as ``cartpole_meta`` (the task-family harness :mod:`hrlmeta.shared.meta_task_family`;
adaptation rows carry ``task_returns``: the return of every held-out task after that many adaptation steps,
as JSON); its figures plus ``adaptation_per_task``: pre- vs post-adaptation return of every held-out task.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from ...shared import meta_task_family as base
from ...tidy import present
from .. import declared

KIND, ALGOS, FIGURES = declared(__name__)  # from experiment.yaml
ENV_NAME = "cartpole_mirrored_actions_task_family"
EXPERIMENT = "cartpole_flip_meta"


def make_env(params: dict):
    return base.make_env(params)


def train(algo: str, seed: int, params: dict) -> pd.DataFrame:
    if not float(params.get("env", {}).get("flip_prob", 0.0)) > 0:
        raise ValueError(f"{EXPERIMENT}: params.env.flip_prob must be > 0 (0 is cartpole_meta's family)")
    return base.run(algo, seed, params, EXPERIMENT, ENV_NAME, make_env)


def per_task(table: pd.DataFrame, step: int, iteration="final") -> pd.DataFrame:
    """Long table (algo, seed, task, return) of every held-out task's return after ``step`` adaptation
    steps, at the evaluation after ``iteration`` meta-iterations (``final``: each run's last)."""
    a = base.adapt_at(table, iteration)
    a = a[(a["step"] == step) & (a["task_returns"].astype(str) != "")]
    rows = []
    for algo, seed, txt in zip(a["algo"], a["seed"], a["task_returns"]):
        for i, r in enumerate(json.loads(txt)):
            rows.append({"algo": algo, "seed": int(seed), "task": i, "return": float(r)})
    return pd.DataFrame(rows, columns=["algo", "seed", "task", "return"])


def adaptation_gain(table: pd.DataFrame, algo: str, step: int, iteration="final") -> pd.Series:
    """Per seed: mean over the held-out tasks of (return after ``step`` adaptation steps - return before
    adaptation), at the evaluation after ``iteration`` meta-iterations."""
    pre, post = per_task(table, 0, iteration), per_task(table, step, iteration)
    pre, post = pre[pre["algo"] == algo], post[post["algo"] == algo]
    m = pre.merge(post, on=["algo", "seed", "task"], suffixes=("_pre", "_post"))
    return (m["return_post"] - m["return_pre"]).groupby(m["seed"]).mean()


def figures(table: pd.DataFrame, params: dict, outdir) -> None:
    from pathlib import Path

    from ...plotting import savefig, setup

    base.figures(table, params, outdir, experiment=EXPERIMENT, title="CartPole, mirrored actions")
    plt = setup()
    K = len(params.get("eval", {}).get("step_sizes", [0.1, 0.1, 0.1]))
    pre, post = per_task(table, 0), per_task(table, K)
    m = pre.merge(post, on=["algo", "seed", "task"], suffixes=("_pre", "_post"))
    algos = present(m, ALGOS) or ["none"]
    fig, axes = plt.subplots(1, len(algos), figsize=(4.2 * len(algos), 4.2), squeeze=False, sharex=True,
                             sharey=True)
    horizon = base.make_env(params).horizon
    for ax, a in zip(axes[0], algos):
        g = m[m["algo"] == a]
        ax.scatter(g["return_pre"], g["return_post"], s=8, alpha=0.5)
        ax.plot([0, horizon], [0, horizon], color="grey", ls=":", lw=1, label="no change")
        if len(g):
            ax.set_title(f"{base.LABELS.get(a, a)}: mean gain {np.mean(g['return_post'] - g['return_pre']):+.1f}",
                         fontsize=9)
        ax.set_xlabel("return before adaptation")
        ax.legend(fontsize=7)
    axes[0][0].set_ylabel(f"return after {K} adaptation step(s)")
    fig.suptitle("Mirrored-action CartPole: every held-out task of every seed, before vs after adaptation")
    savefig(fig, Path(outdir) / f"{EXPERIMENT}_adaptation_per_task.png")


def report_section(table: pd.DataFrame, params: dict) -> str:
    fp = float(params.get("env", {}).get("flip_prob", 0.5))
    intro = (f"A task family where one policy cannot serve every task: each task mirrors its two actions with "
             f"probability {fp:g} (see `src/hrlmeta/experiments/cartpole_flip_meta/__init__.py` for why). On "
             "`cartpole_meta`'s family an unadapted policy already reaches the horizon, so adaptation cannot show "
             "there; here the return before adaptation is low and the claims `flip_adaptation_gain_*` measure "
             "what adaptation adds.")
    K = len(params.get("eval", {}).get("step_sizes", [0.1, 0.1, 0.1]))
    lines = [base.report_section(table, params, intro=intro)]
    rows = []
    for a in present(table, ALGOS):
        g = adaptation_gain(table, a, K)
        if len(g):
            rows.append(f"| {a} | {g.mean():+.1f} | {len(g)} |")
    if rows:
        lines += [f"Held-out return after {K} adaptation step(s) minus before, per task (mean over tasks, then "
                  "over seeds):", "", "| algo | gain | seeds |", "| --- | --- | --- |", *rows, ""]
    return "\n".join(lines)
