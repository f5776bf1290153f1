"""The Directed-MAML task-family harness shared by ``cartpole_meta``, ``cartpole_flip_meta`` and
``lunarlander_meta``: MAML vs first-order MAML vs Directed-MAML (and its first-order version) vs the transfer
baseline on any task family (``env_factory(params)``; the CartPole family by default). This module is the
training the three experiments' ``training.py`` call; the torch-free rest is shared too: the analysis
(convergence to a return threshold, interleaved timing: :mod:`.meta_task_family_analysis`), the claims'
measures (:mod:`.meta_task_family_measures`), the figures (:mod:`.meta_task_family_figures`) and the values
the reports show (:mod:`.meta_task_family_report`; each experiment's prose is its own ``report.md``).

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

import copy
import json
import statistics
import time
from pathlib import Path

import pandas as pd

from ..progress import progress
from .meta_task_family_analysis import ALGOS, TRAINED
from .torch_runs import device as _device
from .torch_runs import generator as _generator

# torch (the learners, the batched CartPole) is imported inside the training functions

ENV_NAME = "cartpole_task_family"
#: the parameters every task family shares, with their ``default:`` values (each experiment's schema.yaml extends it)
SCHEMA = Path(__file__).with_name("meta_task_family.schema.yaml")


def with_defaults(params: dict) -> dict:
    """A copy of ``params`` completed with the ``default:`` values of the harness's schema (``SCHEMA``) for
    the keys it lacks: what the config loader does for the experiments' params, done here for the callers
    that build params themselves (the learner check ``pg_cartpole``); params that have every key are
    returned unchanged."""
    from ..config import load_yaml, schema_defaults

    return schema_defaults(copy.deepcopy(params), load_yaml(SCHEMA))


def make_env(params: dict) -> CartPoleFamily:
    from ..envs.cartpole import CartPoleFamily

    e = dict(params["env"])
    for k in ("masscart", "masspole", "length"):
        if k in e:
            e[k] = tuple(e[k])
    return CartPoleFamily(**e)


def make_configs(params: dict) -> tuple[M.MamlConfig, D.DirectedConfig]:
    from ..algos import directed_maml as D
    from ..algos import maml as M

    meta, pol, dr = params["meta"], params["policy"], params["directed"]
    kw = {k: v for k, v in meta.items() if k not in ("n_iterations", "outer_lr")}
    cfg = M.MamlConfig(hidden=tuple(pol["hidden"]), **kw)
    dcfg = D.DirectedConfig(outer_lr=float(meta["outer_lr"]), **dr)
    return cfg, dcfg


def _row(iteration: int, phase: str, env_name: str, ret: float, wall: float, **extra) -> dict:
    return {"env": env_name, "iteration": int(iteration), "phase": phase, "return": float(ret),
            "wall_s": float(wall), **extra}


def _learner(algo: str, seed: int, params: dict, theta=None, stream: int = 1, env_factory=None) -> D.MetaLearner:
    from ..algos import directed_maml as D
    from ..algos import maml as M

    params = with_defaults(params)
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
    params = with_defaults(params)
    device = _device(params)
    n_iter = int(params["meta"]["n_iterations"])
    ev = params["eval"]
    learner = _learner("maml" if algo == "random_init" else algo, seed, params, env_factory=env_factory)
    rows: list[dict] = []
    steps = [float(x) for x in ev["step_sizes"]]

    def evaluate(iteration: int) -> None:
        # held-out tasks and sampling noise from (task_seed, seed): the same for every algorithm and checkpoint
        eval_gen = _generator(device, int(ev["task_seed"]), seed)
        tasks = learner.env.sample_tasks(int(ev["n_tasks"]), eval_gen, device=device)
        curve = M.evaluate_adaptation(M.detach(learner.theta), learner.env, tasks, int(ev["n_traj"]), steps,
                                      eval_gen, learner.cfg, sampler=learner.sample)
        for k, (task_returns, wall) in enumerate(curve):
            rows.append(_row(iteration, f"adapt_{k}", env_name, float(task_returns.mean()), wall,
                             n_tasks=int(tasks.shape[0]),
                             task_returns=json.dumps([round(float(x), 4) for x in task_returns.tolist()])))

    if algo in TRAINED:
        checkpoints = {int(c) for c in ev["checkpoints"] if 0 < int(c) < n_iter}
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

    repeats = int(params["cost"]["repeats"])
    if algo == "maml" and repeats > 0:
        for v, (s, ret) in time_variants(theta, seed, params, repeats, env_factory=env_factory).items():
            rows.append(_row(n_iter, f"cost_{v}", env_name, ret, s))
    df = pd.DataFrame(rows)
    df["task_returns"] = df["task_returns"].fillna("").astype(str)  # per held-out task, adapt rows only
    df.insert(2, "algo", algo)
    df.insert(3, "seed", int(seed))
    return df
