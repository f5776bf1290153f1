"""Directed-MAML (Zhang, Yan & Liu 2025, "Directed-MAML: Meta Reinforcement Learning Algorithm with
Task-directed Approximation", arXiv 2510.00212) and the MAML family it extends, with a first-order outer
optimiser (Adam) on the policy-gradient meta-objective, for categorical policies on batched task families.

Reconstructed from the abstract (its method section could not be read), which says only that "before the
second-order gradient step, Directed-MAML applies an additional first-order task-directed approximation".
Read here as: before MAML's second-order meta-update, Directed-MAML takes ONE extra first-order step,

    theta <- theta - beta_d * grad_theta L_m(theta),

where ``L_m`` is the vanilla policy-gradient loss on trajectories sampled with theta in a representative
"medium" task ``m`` of the task distribution (this reconstruction's reading, not the abstract's words;
here the distribution's mean, a CHOICE),
and then the usual meta-update from the moved parameters. The same pre-step in front of FOMAML gives
Directed-FOMAML. Open details and how they are set here (all parameters):

- the medium task: ``medium`` = ``mean`` of the task box (or ``geometric_mean``);
- the pre-step's step size ``pre_lr`` (beta_d) and its trajectories ``pre_n_traj``; the pre-step is a
  plain gradient step (the abstract: "first-order"), not a step of the outer optimiser;
- the pre-step's trajectories are drawn from their own random stream, so that with ``pre_lr = 0``
  Directed-MAML is exactly MAML (same tasks, same trajectories, same parameters).

Everything else reuses :mod:`hrlmeta.algos.maml`: the per-task linear-baseline advantages
(:func:`~hrlmeta.algos.maml.process`), the inner step (:func:`~hrlmeta.algos.maml.adapt` /
:func:`~hrlmeta.algos.maml.inner_step`, ``second_order`` being the MAML/FOMAML switch), the meta-loss
(:func:`~hrlmeta.algos.maml.pg_meta_loss`) and test-time adaptation
(:func:`~hrlmeta.algos.maml.evaluate_adaptation`).

Pretrained (transfer-learning) baseline: the same outer optimiser on the unadapted policy's loss over the
task mixture (``adapt_steps = 0``), fine-tuned at test time with the same adaptation steps.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from . import maml as M
from .maml import Batch, Params

from .meta_variants import VARIANTS  # noqa: E402,F401 (algo id -> (inner steps, second order, directed pre-step))


@dataclass(frozen=True)
class DirectedConfig:
    outer_lr: float = 0.01  # Adam step size of the meta-update
    pre_lr: float = 0.1  # beta_d, the pre-step's step size (0: Directed-MAML == MAML)
    pre_n_traj: int = 20  # trajectories sampled in the medium task per pre-step
    medium: str = "mean"

    def __post_init__(self):
        if not 0 < self.outer_lr <= 1:
            raise ValueError(f"meta.outer_lr must be in (0, 1], got {self.outer_lr}")
        if not 0 <= self.pre_lr <= 1:
            raise ValueError(f"directed.pre_lr must be in [0, 1], got {self.pre_lr}")
        if self.pre_n_traj < 1:
            raise ValueError(f"directed.pre_n_traj must be >= 1, got {self.pre_n_traj}")
        if self.medium not in ("mean", "geometric_mean"):
            raise ValueError(f"directed.medium: expected 'mean' or 'geometric_mean', got {self.medium!r}")


# --------------------------------------------------------------------------- sampling (categorical)


@torch.no_grad()
def rollout_categorical(env, params: Params, tasks: torch.Tensor, n_traj: int, generator: torch.Generator,
                        dtype=torch.float32) -> Batch:
    """``n_traj`` trajectories in each of ``tasks.shape[0]`` tasks of a batched task family ``env``, all at
    once. The family's ``start(tasks, n_traj, generator)`` returns a simulator with ``obs()`` (tasks, traj,
    obs_dim) and ``step(action, alive) -> (reward, terminated)``, both (tasks, traj); only ``alive``
    episodes advance. ``params``: a categorical policy, shared or per task. Actions are drawn by inverse
    CDF from uniforms drawn up front, so the same stream gives the same trajectories however the batch is
    split. ``act`` is stored as integers (tasks, traj, horizon)."""
    T, N, H = tasks.shape[0], n_traj, env.horizon
    device = tasks.device
    u = torch.rand((T, N, H), generator=generator, dtype=torch.float64, device=device)
    sim = env.start(tasks, N, generator)
    obs = torch.zeros((T, N, H, env.obs_dim), dtype=dtype, device=device)
    act = torch.zeros((T, N, H), dtype=torch.long, device=device)
    rew = torch.zeros((T, N, H), dtype=dtype, device=device)
    mask = torch.zeros((T, N, H), dtype=dtype, device=device)
    alive = torch.ones((T, N), dtype=torch.bool, device=device)
    for t in range(H):
        o = sim.obs().to(dtype)
        cdf = torch.cumsum(torch.softmax(M.policy_mean(params, o), dim=-1).double(), dim=-1)
        a = (cdf[..., :-1] < u[:, :, t, None]).sum(-1)
        obs[:, :, t] = o
        act[:, :, t] = a
        alive_f = alive.to(dtype)
        mask[:, :, t] = alive_f
        r, terminated = sim.step(a, alive)
        rew[:, :, t] = r.to(dtype) * alive_f
        alive = alive & ~terminated
        if device == torch.device("cpu") and not bool(alive.any()):
            break
    return Batch(obs, act, rew, mask)


def env_steps(batch: Batch) -> int:
    return int(batch.mask.sum())


# --------------------------------------------------------------------------- the pre-step


def directed_pre_step(theta: Params, medium_batch: Batch, lr: float) -> Params:
    """theta - lr * grad L_m(theta): one first-order policy-gradient step on the medium task's processed
    batch (one task). Returns new detached parameters shaped like theta."""
    if medium_batch.n_tasks != 1:
        raise ValueError(f"the medium batch must hold one task, got {medium_batch.n_tasks}")
    stepped = M.inner_step(M.expand_tasks(theta, 1), medium_batch, lr)
    return {k: v[0].clone() for k, v in stepped.items()}


# --------------------------------------------------------------------------- one meta-iteration


class MetaLearner:
    """Meta-training state of one agent: parameters theta (leaf tensors), the Adam outer optimiser and
    the two random streams (tasks/trajectories, and the medium task's trajectories)."""

    def __init__(self, algo: str, theta: Params, env, cfg: M.MamlConfig, dcfg: DirectedConfig,
                 generator: torch.Generator, medium_generator: torch.Generator):
        if algo not in VARIANTS:
            raise KeyError(f"no meta-training variant {algo!r}; variants: {', '.join(VARIANTS)}")
        self.algo = algo
        self.adapt_steps, self.second_order, self.directed = VARIANTS[algo]
        self.env, self.cfg, self.dcfg = env, cfg, dcfg
        self.theta = {k: v.detach().clone().requires_grad_(True) for k, v in theta.items()}
        self.opt = torch.optim.Adam(list(self.theta.values()), lr=dcfg.outer_lr)
        self.gen, self.gen_medium = generator, medium_generator
        self.medium = env.medium_task(dcfg.medium, device=next(iter(theta.values())).device)

    def sample(self, params: Params, tasks: torch.Tensor, n_traj: int, gen: torch.Generator) -> Batch:
        dtype = next(iter(self.theta.values())).dtype
        return M.process(rollout_categorical(self.env, params, tasks, n_traj, gen, dtype=dtype), params, self.cfg)

    def pre_step(self) -> dict:
        """Directed-MAML's task-directed first-order step on the medium task (in place)."""
        theta = M.detach(self.theta)
        med = self.sample(theta, self.medium[None], self.dcfg.pre_n_traj, self.gen_medium)
        new = directed_pre_step(theta, med, self.dcfg.pre_lr)
        with torch.no_grad():
            for k, v in self.theta.items():
                v.copy_(new[k])
        return {"return_medium": float(med.returns().mean()), "env_steps": env_steps(med)}

    def step(self) -> dict:
        """One meta-iteration: [pre-step], sample tasks, adapt, one Adam step on the meta-objective."""
        stats = {"return_medium": float("nan"), "env_steps": 0}
        if self.directed:
            stats.update(self.pre_step())
        cfg = self.cfg
        theta = M.detach(self.theta)
        tasks = self.env.sample_tasks(cfg.n_tasks, self.gen, device=self.medium.device)
        pre, sample_params = None, theta
        if self.adapt_steps == 1:
            pre = self.sample(theta, tasks, cfg.n_traj, self.gen)
            stats["env_steps"] += env_steps(pre)
            stats["return_pre"] = float(pre.returns().mean())
            sample_params = M.inner_step(M.expand_tasks(theta, cfg.n_tasks), pre, cfg.inner_lr)
        post = self.sample(sample_params, tasks, cfg.n_traj, self.gen)
        stats["env_steps"] += env_steps(post)
        stats["return_post"] = float(post.returns().mean())
        stats.setdefault("return_pre", stats["return_post"])
        with torch.enable_grad():
            loss = M.pg_meta_loss(self.theta, pre, post, cfg.inner_lr, self.second_order)
            grads = torch.autograd.grad(loss, list(self.theta.values()))
        for p, g in zip(self.theta.values(), grads):
            p.grad = g
        self.opt.step()
        stats.update(loss=float(loss.detach()), grad_norm=float(M.flat(grads).norm()))
        return stats
