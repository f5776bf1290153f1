"""Experiment ``learner_checks``: each deep learner the claims rely on, trained by **the same code the claims
run** (same module, same update, same seed-batched path) on a standard gymnasium task, and compared with a
published result. A check that fails is a bug report against the learner, never a range to widen.

One algorithm id per (learner, task); each has its own module ``check_<learner>.py`` in this folder with

    train_batch(algo: str, seeds: list[int], params: dict) -> list[pandas.DataFrame]

where ``params`` is the algorithm's own block of the experiment's params (``params[algo]``). Every table has
one row per evaluation point: ``iteration`` (0, 1, ...), ``phase`` = ``eval``, ``env_steps`` (training
environment steps before the evaluation), ``return`` (mean undiscounted return over the evaluation
episodes), ``wall_s`` (training wall seconds since the previous point) and ``env`` (the gymnasium id); a
learner may add columns (e.g. TRPO's per-update KL and surrogate gain). ``experiment``, ``algo`` and
``seed`` are added by the caller.

Each algorithm's block also carries ``reference``: the published result it is compared with (mean, spread,
number of runs behind it, the environment steps it was read at, and its source), drawn beside the learning
curve; the claims (claims.yaml) state the same numbers and how each pass range was derived from them.
"""

from __future__ import annotations

import importlib

import pandas as pd

from .. import declared

KIND, ALGOS, FIGURES = declared(__name__)

#: algorithm id -> the module (in this folder) that trains it
MODULES = {
    "td3_pendulum": "check_td3",
    "sac_pendulum": "check_sac",
    "dqn_frozenlake": "check_dqn",
    "dqn_cartpole": "check_dqn",
    "ppo_gru_cartpole": "check_ppo_gru",
    "ppo_gru_cartpole_novel": "check_ppo_gru",
    "trpo_pendulum": "check_trpo",
    "pg_cartpole": "check_pg",
}
#: what each check vouches for: the learner, in words, and the experiments whose claims run it
LEARNERS = {
    "td3_pendulum": "TD3 (hrlmeta.algos.td3: flat TD3 and both levels of HIRO)",
    "sac_pendulum": "SAC with a fixed temperature (hrlmeta.algos.sac, as DIAYN trains it)",
    "dqn_frozenlake": "the Q-network learner of h-DQN (hrlmeta.algos.hdqn), one-hot states",
    "dqn_cartpole": "the Q-network learner of h-DQN (hrlmeta.algos.hdqn), dense input",
    "ppo_gru_cartpole": "PPO with the GRU policy of RL² (hrlmeta.algos.rl2)",
    "ppo_gru_cartpole_novel": "PPO with the GRU policy of RL² (hrlmeta.algos.rl2), velocities hidden",
    "trpo_pendulum": "TRPO as MAML's outer step runs it (hrlmeta.algos.maml), no adaptation step",
    "pg_cartpole": "the policy-gradient learner of Directed-MAML's pretrained baseline",
}


def _module(algo: str):
    if algo not in MODULES:
        raise KeyError(f"learner_checks has no algorithm {algo!r}; its algorithms: {', '.join(ALGOS)}")
    return importlib.import_module(f"{__name__}.{MODULES[algo]}")


def train_batch(algo: str, seeds: list[int], params: dict) -> list[pd.DataFrame]:
    """The seeds of one check, trained as one batch where its learner supports it."""
    dfs = _module(algo).train_batch(algo, [int(s) for s in seeds], params[algo])
    for df in dfs:
        df["phase"] = df["phase"] if "phase" in df else "eval"
    return dfs


def train(algo: str, seed: int, params: dict) -> pd.DataFrame:
    return train_batch(algo, [seed], params)[0]


# ---------------------------------------------------------------------------------------------- analysis


def eval_rows(table: pd.DataFrame, algo: str) -> pd.DataFrame:
    t = table[(table["algo"] == algo) & (table["phase"] == "eval")]
    return t.sort_values(["seed", "env_steps"])


def final_returns(table: pd.DataFrame, algo: str, at_steps: int | None = None, last_k: int = 1) -> pd.Series:
    """Per seed: the mean evaluation return over the last ``last_k`` evaluation points at or before
    ``at_steps`` training environment steps (all points when None)."""
    t = eval_rows(table, algo)
    if at_steps is not None:
        t = t[t["env_steps"] <= int(at_steps)]
    return t.groupby("seed")["return"].apply(lambda r: float(r.iloc[-int(last_k):].mean()))


def figures(table: pd.DataFrame, params: dict, outdir) -> None:
    from pathlib import Path

    import numpy as np

    from ...plotting import savefig, setup

    plt = setup()
    algos = [a for a in ALGOS if a in set(table["algo"])]
    if not algos:
        return
    n = len(algos)
    cols = min(4, n)
    rows = (n + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.3 * rows), squeeze=False)
    for ax, algo in zip(axes.flat, algos):
        t = eval_rows(table, algo)
        piv = t.pivot_table(index="env_steps", columns="seed", values="return")
        x = piv.index.to_numpy(dtype=float)
        v = piv.to_numpy(dtype=float)
        mean = np.nanmean(v, axis=1)
        ax.plot(x, v, color="0.75", lw=0.7)
        ax.plot(x, mean, color="C0", lw=2, label=f"ours: mean of {v.shape[1]} seeds")
        ref = (params.get(algo) or {}).get("reference")
        if ref:
            ax.errorbar([ref["env_steps"]], [ref["mean"]], yerr=[[ref.get("spread", 0)], [ref.get("spread", 0)]],
                        fmt="s", color="C3", capsize=4,
                        label=f"published: {ref['mean']:g} ± {ref.get('spread', 0):g} ({ref.get('n_runs', '?')} runs)")
        ax.set_title(algo, fontsize=10)
        ax.set_xlabel("training environment steps")
        ax.set_ylabel("evaluation return")
        ax.legend(fontsize=7, loc="lower right")
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    fig.tight_layout()
    savefig(fig, Path(outdir) / "learner_checks_learning_curves.png")
    plt.close(fig)


def report_section(table: pd.DataFrame, params: dict) -> str:
    lines = ["Each deep learner the claims rely on, on a standard task, against a published result (the "
             "claims `learner_*`; the claims table names, for every claim estimated by a deep learner, its "
             "check and the check's verdict).", "",
             "| check | learner | task | seeds | final evaluation return (mean over seeds) | published | source |",
             "|---|---|---|---|---|---|---|"]
    for algo in ALGOS:
        if algo not in set(table["algo"]):
            continue
        p = params.get(algo) or {}
        ref = p.get("reference") or {}
        fr = final_returns(table, algo)
        env = str(eval_rows(table, algo)["env"].iloc[0])
        pub = (f"{ref['mean']:g} ± {ref.get('spread', 0):g} at {int(ref['env_steps']):,} steps "
               f"({ref.get('n_runs', '?')} runs)") if ref else ""
        lines.append(f"| `{algo}` | {LEARNERS[algo]} | {env} | {len(fr)} | {fr.mean():.4g} | {pub} | "
                     f"{ref.get('source', '')} |")
    return "\n".join(lines) + "\n"
