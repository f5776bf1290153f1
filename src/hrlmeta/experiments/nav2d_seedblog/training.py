"""Training of ``nav2d_seedblog``: the chapter's MAML listing run as written and with its loss line fixed,
with the gradient audit of its outer loop (see the package docstring)."""

from __future__ import annotations

import copy
import time
import warnings

import numpy as np
import pandas as pd
import torch

from ...algos import listing_maml as S
from ...numerics import configure_torch
from ...progress import progress
from .analysis import ALGOS

ENV_NAME = "nav2d_seedblog_chapter"


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
    return cls(policy, inner_lr=float(params["inner_lr"]), outer_lr=float(params["outer_lr"]))


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
    ev = params["eval"]
    n_tasks, k = int(ev["n_tasks"]), int(ev["adapt_steps"])
    rng, gen = _generators(int(ev["task_seed"]), seed)
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


def _train(algo: str, seed: int, params: dict) -> pd.DataFrame:
    if algo not in ALGOS:
        raise KeyError(f"nav2d_seedblog has no algorithm {algo!r}; its algorithms: {', '.join(ALGOS)}")
    configure_torch(1)  # pinned kernels, deterministic algorithms, 1 intra-op thread (results depend on it)
    maml = _make(algo, seed, params)
    n_iter = int(params["n_iterations"]) if algo != "random_init" else 0
    batch = int(params["task_batch_size"])
    audit_every = int(params["audit_every"])
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
    df.insert(1, "env", ENV_NAME)
    df.insert(2, "algo", algo)
    df.insert(3, "seed", int(seed))
    for col in ("audited", "nan_skipped"):
        if col in df.columns:
            df[col] = df[col].astype("boolean").fillna(False).astype(bool)
    return df


def train(algo: str, seeds: list[int], params: dict) -> list[pd.DataFrame]:
    """One table per seed, trained in turn (not batched)."""
    return [_train(algo, int(s), params) for s in seeds]
