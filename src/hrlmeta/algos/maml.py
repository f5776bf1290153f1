"""MAML and first-order MAML (FOMAML) for reinforcement learning with a TRPO meta-optimiser.

Finn, Abbeel & Levine (2017), "Model-Agnostic Meta-Learning for Fast Adaptation of Deep Networks", ICML,
Algorithm 3 and Section 5.3 / Appendix A.2; the released code ``cbfinn/maml_rl`` (``MAMLTRPO``) and the
PyTorch port ``tristandeleu/pytorch-maml-rl`` were read for details (nothing is copied from them).

Everything is a pure function of explicit parameter dicts (no ``nn.Module`` state) and is batched over
(tasks x trajectories x time): one meta-iteration is a handful of large tensor operations, never one
Python call per environment step and task.

Policy
    Gaussian MLP: ``mean = MLP(obs)`` (two hidden layers of 100 ReLU units in the paper, linear output),
    state-independent ``log_std`` vector (initialised to 0, i.e. std 1, as rllab). Weights Glorot-uniform,
    biases zero (rllab/TensorFlow defaults). Parameters are a dict ``{"W0", "b0", ..., "log_std"}``; the
    same functions also take *per-task* parameters with a leading task axis (``W0`` shaped
    ``(tasks, in, out)``), which is how the adapted policies of a whole meta-batch are evaluated at once.
    Categorical MLP (discrete actions, e.g. CartPole): the same network outputs logits, no ``log_std``;
    :func:`log_prob` dispatches on that key, so the inner step, the adaptation and :func:`pg_meta_loss`
    serve both (the TRPO code below is Gaussian only).

Sampling: :func:`rollout` runs any batched task family with :class:`BatchedEnv`'s interface (the 2D
navigation of :mod:`hrlmeta.envs.nav2d`; learner_checks' Pendulum-v1), every task and trajectory at once.

Inner step (the "fast" adaptation), per task ``i``
    vanilla policy gradient (REINFORCE) on ``n_traj`` trajectories sampled with theta:
    ``L_i(theta) = - mean_{valid (n, t)} log pi_theta(a|s) * A``, with ``A`` the discounted return-to-go
    (gamma 0.99) minus rllab's linear feature baseline fitted per task on those same trajectories
    (:func:`fit_linear_baseline`), then standardised per task (rllab ``center_adv``).
    ``phi_i = theta - alpha * grad L_i(theta)``, alpha = 0.1 (paper, Appendix A.2).

The ONE switch between MAML and FOMAML is ``second_order`` in :func:`adapt`: MAML keeps the graph of the
inner gradient (``create_graph=True``), so derivatives w.r.t. theta see ``d phi / d theta = I - alpha H_i``;
FOMAML detaches the inner gradient, so ``d phi / d theta = I`` and the meta-gradient is the plain policy
gradient at the adapted parameters. Everything downstream (meta-gradient, TRPO curvature, line search)
is the same code for both.

Meta-objective and TRPO (Schulman et al. 2015) on it
    Trajectories are sampled with every adapted ``phi_i``; the outer loss is the importance-weighted
    surrogate ``- mean_i mean_{valid} [pi_{phi_i(theta)}(a|s) / pi_old(a|s)] A`` (advantages computed as
    in the inner step, on the post-adaptation trajectories), and the trust region is
    ``mean_i KL(pi_old || pi_{phi_i(theta)}) <= max_kl`` (0.01) over the post-adaptation states.
    Step: conjugate gradient (10 iterations, damping 1e-5) on Hessian-vector products of that KL w.r.t.
    theta, scaled to the KL boundary, then a backtracking line search (ratio 0.8, up to 15 steps) that
    accepts the first step that lowers the surrogate *and* keeps the measured KL <= max_kl (else no step).

    Curvature. At theta_old the KL and its gradient vanish, so its Hessian w.r.t. theta is exactly the
    Gauss-Newton form ``(1/T) sum_i J_i^T F_i J_i`` with ``J_i = d phi_i / d theta`` and ``F_i`` the Fisher
    matrix of the Gaussian policy at ``phi_i`` (mean block ``J_mu^T J_mu / sigma^2``, log-std block 2).
    ``J_i`` is symmetric (``I - alpha H_i``), so ``J_i v`` is one vector-Jacobian product through the inner
    gradient's graph (a Hessian-vector product of the inner loss, i.e. real second-order differentiation),
    and ``F_i`` is one forward-mode JVP plus one VJP of the mean network. The paper used finite differences
    of gradients for these products "to avoid computing third derivatives"; the Gauss-Newton form gives the
    exact product without third derivatives. With FOMAML ``J_i = I`` and the metric is the plain Fisher.
    CHOICE ``hvp_subsample``: the curvature may be computed on the first fraction of each task's
    trajectories (OpenAI baselines' TRPO computes Fisher-vector products on every 5th sample); 1.0 = all.

Pretrained baseline (paper Fig. 4, "pretrained"): the same TRPO step on ``adapt_steps=0``, i.e. on the
average return of the unadapted policy over tasks (``phi_i = theta``), fine-tuned at test time with the
same inner steps. Random initialisation: fine-tuning from the initial parameters.

Test-time adaptation (:func:`evaluate_adaptation`): up to K first-order policy-gradient steps per held-out
task, each on freshly sampled trajectories of the current adapted policy (paper: 40 trajectories per step,
alpha = 0.1 for the first step and 0.05 after, Appendix A.2).

Not modelled (as in the paper and its code): the dependence of the *pre-update sampling distribution* on
theta (the score-function term later added by ProMP / DiCE); the meta-gradient differentiates the
inner loss through its log-likelihoods only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

import torch

from .. import blas

Params = dict[str, torch.Tensor]


class BatchedEnv(Protocol):
    """What :func:`rollout` needs of a batched task family (:class:`hrlmeta.envs.nav2d.Nav2D`, or any
    other with this interface, e.g. learner_checks' Pendulum-v1). The family holds no random state.

    ``horizon``, ``obs_dim``, ``act_dim``;
    ``sample_goals(n, generator, dtype=, device=)``: ``n`` task descriptions, shaped ``(n, task_dim)``
    (``task_dim`` may be 0: a single task);
    ``reset(batch_shape, dtype=, device=, generator=None)``: start states ``(*batch_shape, state_dim)``,
    drawn from ``generator`` where the starts are random;
    ``observe(state)`` (optional; absent: the state is the observation): observations ``(*batch, obs_dim)``;
    ``step(state, action, tasks)``: ``(next state, reward, done)`` for every episode at once, ``tasks``
    broadcasting against the batch as ``(tasks, 1, task_dim)``, ``reward`` and ``done`` shaped ``batch``.
    """

    horizon: int
    obs_dim: int
    act_dim: int

    def sample_goals(self, n: int, generator: torch.Generator, dtype=..., device=...) -> torch.Tensor: ...

    def reset(self, batch_shape: tuple[int, ...], dtype=..., device=..., generator=None) -> torch.Tensor: ...

    def step(self, state: torch.Tensor, action: torch.Tensor, goals: torch.Tensor): ...


# --------------------------------------------------------------------------- configuration


@dataclass(frozen=True)
class MamlConfig:
    hidden: tuple[int, ...] = (100, 100)
    n_tasks: int = 20  # meta-batch size (tasks per meta-iteration)
    n_traj: int = 20  # trajectories per task, for the inner step and for the post-adaptation batch
    inner_lr: float = 0.1
    gamma: float = 0.99
    normalize_advantages: bool = True
    baseline_reg: float = 1e-5
    init_log_std: float = 0.0
    max_kl: float = 0.01
    cg_iters: int = 10
    cg_damping: float = 1e-5
    ls_backtrack: float = 0.8
    ls_max_steps: int = 15
    hvp_subsample: float = 1.0

    def __post_init__(self):
        checks = {
            "n_tasks": self.n_tasks >= 1,
            "n_traj": self.n_traj >= 1,
            "inner_lr": self.inner_lr > 0,
            "gamma": 0 <= self.gamma <= 1,
            "max_kl": self.max_kl > 0,
            "cg_iters": self.cg_iters >= 1,
            "cg_damping": self.cg_damping >= 0,
            "ls_backtrack": 0 < self.ls_backtrack < 1,
            "ls_max_steps": self.ls_max_steps >= 1,
            "hvp_subsample": 0 < self.hvp_subsample <= 1,
            "hidden": len(self.hidden) >= 1 and all(h >= 1 for h in self.hidden),
        }
        for key, ok in checks.items():
            if not ok:
                raise ValueError(f"invalid MAML setting {key}={getattr(self, key)!r}")


# --------------------------------------------------------------------------- policy (pure functions)


def init_policy(
    obs_dim: int,
    act_dim: int,
    hidden: tuple[int, ...],
    generator: torch.Generator,
    init_log_std: float = 0.0,
    dtype=torch.float32,
    device="cpu",
    distribution: str = "gaussian",
) -> Params:
    """Glorot-uniform weights, zero biases, constant log-std.

    ``distribution="categorical"``: a policy over ``act_dim`` discrete actions whose network output are
    the logits; it has no ``log_std`` (that key's absence is what marks a categorical policy below)."""
    if distribution not in ("gaussian", "categorical"):
        raise ValueError(f"distribution must be 'gaussian' or 'categorical', got {distribution!r}")
    sizes = (obs_dim, *hidden, act_dim)
    params: Params = {}
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        limit = math.sqrt(6.0 / (fan_in + fan_out))
        u = torch.rand((fan_in, fan_out), generator=generator, dtype=dtype, device=device)
        params[f"W{i}"] = (2.0 * u - 1.0) * limit
        params[f"b{i}"] = torch.zeros(fan_out, dtype=dtype, device=device)
    if distribution == "gaussian":
        params["log_std"] = torch.full((act_dim,), float(init_log_std), dtype=dtype, device=device)
    return params


def n_layers(params: Params) -> int:
    return sum(1 for k in params if k.startswith("W"))


def _row(v: torch.Tensor, base_dim: int) -> torch.Tensor:
    """A per-task vector (tasks, d) becomes (tasks, 1, d) to broadcast over samples; shared stays (d,)."""
    return v.unsqueeze(-2) if v.dim() > base_dim else v


def policy_mean(params: Params, obs: torch.Tensor) -> torch.Tensor:
    """Mean action. Shared params: obs (..., obs_dim). Per-task params: obs (tasks, samples, obs_dim)."""
    x = obs
    L = n_layers(params)
    for i in range(L):
        x = blas.matmul(x, params[f"W{i}"]) + _row(params[f"b{i}"], 1)
        if i < L - 1:
            x = torch.relu(x)
    return x


def log_std_of(params: Params) -> torch.Tensor:
    return _row(params["log_std"], 1)


def gaussian_log_prob(mean: torch.Tensor, log_std: torch.Tensor, act: torch.Tensor) -> torch.Tensor:
    z = (act - mean) * torch.exp(-log_std)
    return (-0.5 * z * z - log_std - 0.5 * math.log(2 * math.pi)).sum(-1)


def categorical_log_prob(logits: torch.Tensor, act: torch.Tensor) -> torch.Tensor:
    """log pi(a|s) of integer actions ``act`` (shape ``logits.shape[:-1]``) under softmax(logits)."""
    return torch.log_softmax(logits, dim=-1).gather(-1, act.long().unsqueeze(-1)).squeeze(-1)


def log_prob(params: Params, obs: torch.Tensor, act: torch.Tensor) -> torch.Tensor:
    """log pi(a|s): Gaussian policy (params with ``log_std``) or categorical policy (without)."""
    if "log_std" not in params:
        return categorical_log_prob(policy_mean(params, obs), act)
    return gaussian_log_prob(policy_mean(params, obs), log_std_of(params), act)


def expand_tasks(params: Params, n_tasks: int) -> Params:
    """Per-task views of shared parameters (no copy); gradients w.r.t. them are per task."""
    return {k: v.expand(n_tasks, *v.shape) for k, v in params.items()}


def detach(params: Params) -> Params:
    return {k: v.detach() for k, v in params.items()}


def flat(tensors) -> torch.Tensor:
    return torch.cat([t.reshape(-1) for t in tensors])


def unflat(vec: torch.Tensor, like: Params) -> Params:
    out, i = {}, 0
    for k, v in like.items():
        out[k] = vec[i : i + v.numel()].view_as(v)
        i += v.numel()
    return out


# --------------------------------------------------------------------------- sampling


@dataclass
class Batch:
    """Trajectories of a meta-batch, every tensor shaped (tasks, trajectories, horizon[, dim])."""

    obs: torch.Tensor
    act: torch.Tensor
    rew: torch.Tensor
    mask: torch.Tensor  # 1.0 for steps inside the episode, 0.0 after it ended
    adv: torch.Tensor | None = None
    logp_old: torch.Tensor | None = None
    mean_old: torch.Tensor | None = None
    log_std_old: torch.Tensor | None = None

    @property
    def n_tasks(self) -> int:
        return self.obs.shape[0]

    def returns(self) -> torch.Tensor:
        """Undiscounted return of every trajectory, (tasks, trajectories)."""
        return self.rew.sum(-1)

    def flat(self, name: str) -> torch.Tensor:
        """(tasks, traj, horizon, ...) -> (tasks, traj * horizon, ...)"""
        x = getattr(self, name)
        return x.reshape(x.shape[0], -1, *x.shape[3:])

    def head(self, n_traj: int) -> "Batch":
        """The first ``n_traj`` trajectories of every task."""
        f = lambda x: None if x is None else x[:, :n_traj]  # noqa: E731
        return Batch(*(f(getattr(self, k)) for k in
                       ("obs", "act", "rew", "mask", "adv", "logp_old", "mean_old", "log_std_old")))


@torch.no_grad()
def rollout_with_noise(env: BatchedEnv, params: Params, goals: torch.Tensor, noise: torch.Tensor,
                       start: torch.Tensor | None = None) -> Batch:
    """Run ``noise.shape[1]`` trajectories in each of ``goals.shape[0]`` tasks, all at once.

    ``params`` are shared or per task; ``noise`` (tasks, traj, horizon, act_dim) holds the standard normal
    draws, so actions are ``mean + std * noise`` (the same stream gives the same trajectories batched
    or one at a time; zero noise runs the mean action). ``goals`` (tasks, task_dim) are the task
    descriptions ``env.step`` takes; ``start`` the start states (tasks, traj, state_dim), by default
    ``env.reset`` without a random stream (2D navigation: the origin)."""
    T, N, H, A = noise.shape
    if H != env.horizon:
        raise ValueError(f"noise horizon {H} != env horizon {env.horizon}")
    if goals.dim() != 2 or goals.shape[0] != T:
        raise ValueError(f"goals must be shaped ({T}, task_dim), got {tuple(goals.shape)}")
    dtype, device = noise.dtype, noise.device
    std = torch.exp(log_std_of(params))
    state = env.reset((T, N), dtype=dtype, device=device) if start is None else start
    observe = getattr(env, "observe", None)
    obs = torch.zeros((T, N, H, env.obs_dim), dtype=dtype, device=device)
    act = torch.zeros((T, N, H, A), dtype=dtype, device=device)
    rew = torch.zeros((T, N, H), dtype=dtype, device=device)
    mask = torch.zeros((T, N, H), dtype=dtype, device=device)
    alive = torch.ones((T, N), dtype=torch.bool, device=device)
    g = goals[:, None, :]
    for t in range(H):
        o = state if observe is None else observe(state).to(dtype)
        a = policy_mean(params, o) + std * noise[:, :, t]
        new_state, r, done = env.step(state, a, g)
        obs[:, :, t] = o
        act[:, :, t] = a
        alive_f = alive.to(dtype)
        mask[:, :, t] = alive_f
        rew[:, :, t] = r * alive_f
        state = torch.where(alive[..., None], new_state, state)
        alive = alive & ~done
        if device == torch.device("cpu") and not bool(alive.any()):
            break
    return Batch(obs, act, rew, mask)


def rollout(env: BatchedEnv, params: Params, goals: torch.Tensor, n_traj: int,
            generator: torch.Generator) -> Batch:
    """``n_traj`` sampled trajectories per task; the action noise is drawn first, then the start states
    (``env.reset`` with the same stream: 2D navigation draws none)."""
    T = goals.shape[0]
    noise = torch.randn(
        (T, n_traj, env.horizon, env.act_dim), generator=generator, dtype=goals.dtype, device=goals.device
    )
    start = env.reset((T, n_traj), dtype=goals.dtype, device=goals.device, generator=generator)
    return rollout_with_noise(env, params, goals, noise, start)


# --------------------------------------------------------------------------- advantages


def discounted_returns(rew: torch.Tensor, gamma: float) -> torch.Tensor:
    """Return-to-go sum_{t' >= t} gamma^(t'-t) r_t' along the last axis (one matmul)."""
    H = rew.shape[-1]
    idx = torch.arange(H, device=rew.device)
    power = (idx[:, None] - idx[None, :]).to(rew.dtype)  # [t', t] = t' - t
    D = torch.where(power >= 0, torch.pow(torch.as_tensor(gamma, dtype=rew.dtype), power.clamp(min=0)),
                    torch.zeros((), dtype=rew.dtype))
    return rew @ D


def baseline_features(obs: torch.Tensor) -> torch.Tensor:
    """rllab's LinearFeatureBaseline features of every step: [o, o^2, t/100, (t/100)^2, (t/100)^3, 1],
    o clipped to [-10, 10], t the step index in the trajectory. obs (..., horizon, obs_dim)."""
    o = obs.clamp(-10, 10)
    H = obs.shape[-2]
    al = (torch.arange(H, dtype=obs.dtype, device=obs.device) / 100.0).expand(*obs.shape[:-1])[..., None]
    return torch.cat([o, o * o, al, al**2, al**3, torch.ones_like(al)], dim=-1)


def fit_linear_baseline(features: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor, reg: float = 1e-5):
    """Ridge regression per task (float64): features (tasks, samples, k), targets/mask (tasks, samples).
    Returns coefficients (tasks, k). Like rllab, the ridge coefficient grows 10x while the fit is not finite."""
    X = features.double()
    y = targets.double()
    w = mask.double()
    XtX = X.transpose(1, 2) @ (X * w[..., None])
    Xty = (X.transpose(1, 2) @ (y * w)[..., None])[..., 0]
    eye = torch.eye(X.shape[-1], dtype=X.dtype, device=X.device)
    for attempt in range(5):
        coef = torch.linalg.solve(XtX + reg * (10**attempt) * eye, Xty)
        if torch.isfinite(coef).all():
            break
    return coef


@torch.no_grad()
def process(batch: Batch, params: Params, cfg: MamlConfig) -> Batch:
    """Attach advantages (per-task linear baseline, standardised per task) and the sampling policy's
    log-likelihoods / distribution (for the TRPO ratio and KL; a categorical policy gets ``logp_old`` only)."""
    T = batch.n_tasks
    R = discounted_returns(batch.rew, cfg.gamma)
    feats = baseline_features(batch.obs)
    mask = batch.flat("mask")
    coef = fit_linear_baseline(feats.reshape(T, -1, feats.shape[-1]), R.reshape(T, -1), mask, cfg.baseline_reg)
    base = (feats.reshape(T, -1, feats.shape[-1]).double() @ coef[..., None])[..., 0].to(R.dtype)
    adv = (R.reshape(T, -1) - base) * mask
    if cfg.normalize_advantages:
        n = mask.sum(1, keepdim=True)
        mu = adv.sum(1, keepdim=True) / n
        var = (((adv - mu) * mask) ** 2).sum(1, keepdim=True) / n
        adv = (adv - mu) / (var.sqrt() + 1e-8) * mask
    batch.adv = adv.reshape(batch.rew.shape)
    obs, act = batch.flat("obs"), batch.flat("act")
    if "log_std" not in params:
        batch.logp_old = log_prob(params, obs, act).reshape(batch.rew.shape)
        return batch
    mean = policy_mean(params, obs)
    batch.mean_old = mean.reshape(batch.act.shape)
    batch.log_std_old = log_std_of(params).expand_as(mean).reshape(batch.act.shape)
    batch.logp_old = gaussian_log_prob(mean, log_std_of(params), act).reshape(batch.rew.shape)
    return batch


# --------------------------------------------------------------------------- losses


def _masked_task_mean(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    return (x * mask).sum(1) / mask.sum(1)


def inner_loss(params_T: Params, batch: Batch) -> torch.Tensor:
    """Vanilla policy-gradient loss of every task, shape (tasks,); params_T per task."""
    lp = log_prob(params_T, batch.flat("obs"), batch.flat("act"))
    return -_masked_task_mean(lp * batch.flat("adv"), batch.flat("mask"))


def surrogate_loss(params_T: Params, batch: Batch) -> torch.Tensor:
    """TRPO surrogate -E[ratio * A] of every task, shape (tasks,)."""
    lp = log_prob(params_T, batch.flat("obs"), batch.flat("act"))
    ratio = torch.exp(lp - batch.flat("logp_old"))
    return -_masked_task_mean(ratio * batch.flat("adv"), batch.flat("mask"))


def kl_old_new(params_T: Params, batch: Batch) -> torch.Tensor:
    """mean KL(pi_old || pi_params) over each task's valid steps, shape (tasks,)."""
    mean = policy_mean(params_T, batch.flat("obs"))
    log_std = log_std_of(params_T)
    m0, s0 = batch.flat("mean_old"), batch.flat("log_std_old")
    kl = (log_std - s0 + (torch.exp(2 * s0) + (m0 - mean) ** 2) / (2 * torch.exp(2 * log_std)) - 0.5).sum(-1)
    return _masked_task_mean(kl, batch.flat("mask"))


def surrogate_and_kl(params_T: Params, batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`surrogate_loss` and :func:`kl_old_new` from one forward pass (line search)."""
    mean = policy_mean(params_T, batch.flat("obs"))
    log_std = log_std_of(params_T)
    mask, adv = batch.flat("mask"), batch.flat("adv")
    ratio = torch.exp(gaussian_log_prob(mean, log_std, batch.flat("act")) - batch.flat("logp_old"))
    m0, s0 = batch.flat("mean_old"), batch.flat("log_std_old")
    kl = (log_std - s0 + (torch.exp(2 * s0) + (m0 - mean) ** 2) / (2 * torch.exp(2 * log_std)) - 0.5).sum(-1)
    return -_masked_task_mean(ratio * adv, mask), _masked_task_mean(kl, mask)


# --------------------------------------------------------------------------- the inner update


def adapt(theta: Params, batch: Batch | None, lr: float, second_order: bool, theta_T: Params | None = None) -> Params:
    """Per-task adapted parameters phi_i = theta - lr * grad L_i(theta), shaped (tasks, ...).

    ``second_order`` is THE switch between MAML (keep the inner gradient's graph: derivatives of phi
    w.r.t. theta include -lr * Hessian) and FOMAML (the inner gradient is a constant: d phi/d theta = I).
    ``theta_T`` optionally passes the per-task views of theta to differentiate w.r.t. (TRPO curvature)."""
    if batch is None:
        raise ValueError("adapt() needs the pre-update batch")
    if theta_T is None:
        theta_T = expand_tasks(theta, batch.n_tasks)
    loss = inner_loss(theta_T, batch).sum()  # tasks are independent: d/d theta_T[i] is task i's gradient
    grads = torch.autograd.grad(loss, list(theta_T.values()), create_graph=second_order)
    if not second_order:
        grads = [g.detach() for g in grads]
    return {k: p - lr * g for (k, p), g in zip(theta_T.items(), grads)}


def adapted_params(theta: Params, pre: Batch | None, n_tasks: int, lr: float, second_order: bool) -> Params:
    """phi(theta) for the meta-objective: adapted (MAML/FOMAML) or the shared theta (pretrained)."""
    if pre is None:
        return expand_tasks(theta, n_tasks)
    return adapt(theta, pre, lr, second_order)


def inner_step(phi_T: Params, batch: Batch, lr: float) -> Params:
    """One first-order adaptation step from per-task parameters (test time)."""
    leaf = {k: v.detach().requires_grad_(True) for k, v in phi_T.items()}
    with torch.enable_grad():
        loss = inner_loss(leaf, batch).sum()
        grads = torch.autograd.grad(loss, list(leaf.values()))
    return {k: (v - lr * g).detach() for (k, v), g in zip(leaf.items(), grads)}


# --------------------------------------------------------------------------- TRPO on the meta-objective


def pg_meta_loss(theta: Params, pre: Batch | None, post: Batch, lr: float, second_order: bool) -> torch.Tensor:
    """The policy-gradient meta-objective for a first-order outer optimiser (e.g. Adam): the mean over
    tasks of the vanilla policy-gradient loss of the adapted parameters phi_i(theta) on their own
    post-adaptation trajectories; its gradient w.r.t. theta is the MAML (``second_order``) or FOMAML
    meta-gradient. ``pre=None``: no adaptation (the pretrained multi-task objective)."""
    return inner_loss(adapted_params(theta, pre, post.n_tasks, lr, second_order), post).mean()


def meta_objective(theta: Params, pre: Batch | None, post: Batch, cfg: MamlConfig, second_order: bool):
    """(surrogate loss, KL), both averaged over tasks, as differentiable functions of theta."""
    phi = adapted_params(theta, pre, post.n_tasks, cfg.inner_lr, second_order)
    return surrogate_loss(phi, post).mean(), kl_old_new(phi, post).mean()


def make_kl_hvp(theta: Params, pre: Batch | None, post: Batch, cfg: MamlConfig, second_order: bool):
    """v -> (Hessian of the mean post-adaptation KL w.r.t. theta at theta_old) v + damping v,
    as (1/T) sum_i J_i F_i J_i v (exact at theta_old, see the module docstring)."""
    T = post.n_tasks
    theta_T = expand_tasks(theta, T)
    phi = theta_T if pre is None else adapt(theta, pre, cfg.inner_lr, second_order, theta_T=theta_T)
    phi_leaf = {k: v.detach().contiguous().requires_grad_(True) for k, v in phi.items()}
    net_keys = [k for k in phi_leaf if k != "log_std"]
    obs = post.flat("obs")
    mask = post.flat("mask")
    inv_var = torch.exp(-2 * log_std_of(phi_leaf)).detach()  # (T, 1, A)
    weight = (mask / mask.sum(1, keepdim=True))[..., None] * inv_var  # (T, S, A)
    mean = policy_mean(phi_leaf, obs)

    def mean_fn(net: Params) -> torch.Tensor:
        return policy_mean(net, obs)

    thetas = list(theta_T.values())
    phis = list(phi.values())

    def J(vecs: list[torch.Tensor]) -> list[torch.Tensor]:
        if pre is None or not second_order:
            return vecs  # d phi / d theta = I
        return list(torch.autograd.grad(phis, thetas, vecs, retain_graph=True))

    def fisher(vecs: list[torch.Tensor]) -> list[torch.Tensor]:
        tangent = dict(zip(phi_leaf.keys(), vecs))
        primal = {k: phi_leaf[k].detach() for k in net_keys}
        _, jv = torch.func.jvp(mean_fn, (primal,), ({k: tangent[k] for k in net_keys},))
        out = torch.autograd.grad(mean, [phi_leaf[k] for k in net_keys], jv * weight, retain_graph=True)
        res = dict(zip(net_keys, out))
        res["log_std"] = 2.0 * tangent["log_std"]
        return [res[k] for k in phi_leaf]

    def hvp(v: torch.Tensor) -> torch.Tensor:
        vs = unflat(v, theta)
        v_T = [vs[k].expand(T, *vs[k].shape) for k in theta]
        out = J(fisher(J(v_T)))
        return flat([o.sum(0) for o in out]) / T + cfg.cg_damping * v

    return hvp


def conjugate_gradient(Avp, b: torch.Tensor, iters: int, tol: float = 1e-10):
    """Approximately solve A x = b for symmetric positive definite A given only products A p.
    Returns (x, A x); A x is accumulated from the products already computed (no extra product)."""
    x = torch.zeros_like(b)
    Ax = torch.zeros_like(b)
    r = b.clone()
    p = b.clone()
    rr = r @ r
    for _ in range(iters):
        Ap = Avp(p)
        alpha = rr / (p @ Ap)
        x = x + alpha * p
        Ax = Ax + alpha * Ap
        r = r - alpha * Ap
        rr_new = r @ r
        if rr_new < tol:
            break
        p = r + (rr_new / rr) * p
        rr = rr_new
    return x, Ax


def trpo_step(theta: Params, pre: Batch | None, post: Batch, cfg: MamlConfig, second_order: bool):
    """One TRPO step on the meta-objective. Returns (new theta, stats dict)."""
    leaf = {k: v.detach().requires_grad_(True) for k, v in theta.items()}
    with torch.enable_grad():
        loss, _ = meta_objective(leaf, pre, post, cfg, second_order)
        grad = flat(torch.autograd.grad(loss, list(leaf.values())))
        n_sub = max(1, int(round(cfg.hvp_subsample * post.obs.shape[1])))
        pre_s = None if pre is None else pre.head(max(1, int(round(cfg.hvp_subsample * pre.obs.shape[1]))))
        hvp = make_kl_hvp(leaf, pre_s, post.head(n_sub), cfg, second_order)
        step_dir, h_step = conjugate_gradient(hvp, -grad, cfg.cg_iters)
        shs = 0.5 * step_dir @ h_step
    loss_old = float(loss.detach())
    stats = {"loss": loss_old, "grad_norm": float(grad.norm()), "kl": 0.0, "backtracks": cfg.ls_max_steps,
             "improvement": 0.0}
    if not torch.isfinite(shs) or shs <= 0:
        return detach(theta), stats
    # shs = s'Hs / 2, so this step's quadratic KL, (1/2) beta^2 s'Hs, is exactly max_kl (rllab's
    # ConjugateGradientOptimizer: sqrt(2 max_kl / s'Hs)); sqrt(2 max_kl / shs) overshot to 2 max_kl
    full_step = step_dir * torch.sqrt(cfg.max_kl / shs)
    theta_flat = flat([v.detach() for v in theta.values()])
    for k in range(cfg.ls_max_steps):
        cand = unflat(theta_flat + cfg.ls_backtrack**k * full_step, theta)
        cand_leaf = {n: v.clone().requires_grad_(True) for n, v in cand.items()}
        with torch.enable_grad():
            phi = detach(adapted_params(cand_leaf, pre, post.n_tasks, cfg.inner_lr, second_order=False))
        with torch.no_grad():
            new_loss, kl = (float(x.mean()) for x in surrogate_and_kl(phi, post))
        if new_loss < loss_old and kl <= cfg.max_kl:
            stats.update(kl=kl, backtracks=k, improvement=loss_old - new_loss)
            return {n: v.clone() for n, v in cand.items()}, stats
    return detach(theta), stats


# --------------------------------------------------------------------------- one meta-iteration


def meta_iteration(
    theta: Params, env: BatchedEnv, cfg: MamlConfig, generator: torch.Generator, adapt_steps: int, second_order: bool
):
    """Sample a meta-batch of tasks, adapt (``adapt_steps`` 1 = MAML/FOMAML, 0 = pretrained), and take
    one TRPO step on the post-adaptation objective. Returns (new theta, stats)."""
    if adapt_steps not in (0, 1):
        raise ValueError(f"meta-training supports 0 or 1 inner steps, got {adapt_steps}")
    theta = detach(theta)
    dtype, device = theta["log_std"].dtype, theta["log_std"].device
    goals = env.sample_goals(cfg.n_tasks, generator, dtype=dtype, device=device)
    stats: dict = {}
    pre = None
    sample_params = theta
    if adapt_steps == 1:
        pre = process(rollout(env, theta, goals, cfg.n_traj, generator), theta, cfg)
        stats["return_pre"] = float(pre.returns().mean())
        sample_params = inner_step(expand_tasks(theta, cfg.n_tasks), pre, cfg.inner_lr)
    post = process(rollout(env, sample_params, goals, cfg.n_traj, generator), sample_params, cfg)
    stats["return_post"] = float(post.returns().mean())
    if adapt_steps == 0:
        stats["return_pre"] = stats["return_post"]
    new_theta, trpo = trpo_step(theta, pre, post, cfg, second_order)
    stats.update(trpo)
    return new_theta, stats


# --------------------------------------------------------------------------- test-time adaptation


def evaluate_adaptation(
    theta: Params,
    env: BatchedEnv,
    goals: torch.Tensor,
    n_traj: int,
    step_sizes: list[float],
    generator: torch.Generator,
    cfg: MamlConfig,
    clock=None,
    sampler=None,
):
    """Average return per trajectory after 0..K first-order adaptation steps on each task in ``goals``.

    ``sampler(params, tasks, n_traj, generator) -> Batch`` samples the trajectories (default: the 2D
    navigation :func:`rollout`); ``goals`` are then whatever task descriptions it takes, one row per task.
    Returns a list of (per-task mean returns tensor (tasks,), seconds spent on that evaluation point)."""
    import time

    clock = clock or time.perf_counter
    if sampler is None:
        def sampler(p, tasks, n, gen):
            return rollout(env, p, tasks, n, gen)
    T = goals.shape[0]
    phi = {k: v.detach().expand(T, *v.shape).contiguous() for k, v in theta.items()}
    out = []
    batch = None
    for k in range(len(step_sizes) + 1):
        t0 = clock()
        if k > 0:  # the k-th adaptation step, on the trajectories sampled at step k-1
            phi = inner_step(phi, batch, step_sizes[k - 1])
        batch = process(sampler(phi, goals, n_traj, generator), phi, cfg)
        out.append((batch.returns().mean(1), clock() - t0))
    return out


# --------------------------------------------------------------------------- cost of the two variants


def time_variants(
    env: BatchedEnv, cfg: MamlConfig, repeats: int, seed: int = 0, device: str = "cpu"
) -> dict:
    """Median seconds per meta-iteration of MAML and FOMAML, interleaved in this process (the cost rows of
    nav2d_finn's maml runs and ``python -m hrlmeta.bench maml``)."""
    import statistics
    import time

    gen_init = torch.Generator(device=device).manual_seed(seed)
    theta = init_policy(env.obs_dim, env.act_dim, cfg.hidden, gen_init, cfg.init_log_std, device=device)
    times: dict[str, list[float]] = {"maml": [], "fomaml": []}
    returns: dict[str, float] = {}
    for rep in range(repeats + 1):  # the first round is a warm-up
        for name, second_order in (("maml", True), ("fomaml", False)):
            gen = torch.Generator(device=device).manual_seed(seed * 1000 + rep)
            if device != "cpu":
                torch.cuda.synchronize()
            t0 = time.perf_counter()
            _, stats = meta_iteration(theta, env, cfg, gen, adapt_steps=1, second_order=second_order)
            if device != "cpu":
                torch.cuda.synchronize()
            if rep > 0:
                times[name].append(time.perf_counter() - t0)
                returns[name] = stats["return_post"]
    s = {k: statistics.median(v) for k, v in times.items()}
    return {"s_per_meta_iter": s, "ratio": s["maml"] / s["fomaml"], "return_post": returns}
