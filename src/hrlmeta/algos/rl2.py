"""RL^2 (Duan, Schulman, Chen, Bartlett, Sutskever & Abbeel, 2016, "RL^2: Fast Reinforcement Learning via
Slow Reinforcement Learning"): a recurrent policy whose hidden state *is* the state of a fast learning
algorithm, trained across tasks by a slow, general-purpose RL algorithm.

Policy. A GRU reads, at every step t of a trial, the tuple (observation o_t, one-hot previous action
a_{t-1}, previous reward r_{t-1}, previous termination flag d_{t-1}) -- zeros at t = 0 -- and emits a
softmax policy over actions and a value estimate (two linear heads on the GRU state). The hidden state is
carried across all steps *and episodes* of one trial (one task) and reset to zero between trials, so
everything the policy knows about the current task lives in the hidden state.

Slow learner. CHOICE: PPO (Schulman et al., 2017) with GAE(gamma, lambda) instead of the paper's TRPO,
because PPO's first-order clipped objective needs no conjugate-gradient/line-search machinery, is the
standard modern substitute for TRPO at the same sample budget, and batches cleanly over whole trials.
The trial is one long episode of the meta-MDP: advantages are computed over the whole trial (episode
boundaries inside a trial are not terminal), bootstrapping with 0 at the trial's end. Each update does
``epochs`` passes of full-sequence BPTT over ``minibatches`` minibatches of whole trials. Value targets
are normalised by running return statistics (the value head predicts standardised returns).

CHOICE: a shared GRU torso for policy and value (the paper used separate networks), hidden size 64 by
default (paper: 256), both to fit a 2-core CPU budget. Evaluation samples actions from the trained
stochastic policy (the learned algorithm), on fresh tasks, with the hidden state reset per task.

Dense observations and episodic tasks (the learner's check, experiment ``learner_checks``, on CartPole-v1
and CartPoleNoVel-v1 through :class:`CartPoleMetaEnv`): the same policy, rollout and update, generalised
without changing the RL^2 experiments' computations (their golden hashes): a meta-environment may be
*absorbing* (a trial is one episode; the steps after a task's episode ended are masked out of the update,
see :class:`MetaEnv`), and the learning rate and clip range may follow linear schedules (``lr_final``,
``clip_final``, over iterations or over ``anneal_steps`` environment steps). Both are off by default.

Implementation (speed; none of it changes the algorithm):

- Tasks are played as a batch in lockstep by *meta-environments* (:class:`BanditMetaEnv`,
  :class:`TabularMDPMetaEnv`) whose step is a handful of torch tensor ops over all tasks; a trial's task
  parameters are sampled once per trial by the same numpy samplers the baselines use
  (:mod:`hrlmeta.envs`), and the trial's per-step noise is drawn in one call from a seeded
  ``torch.Generator``. No per-step numpy <-> torch conversion, no per-task Python.
- Rollouts run under ``torch.no_grad`` with :func:`gru_cell` on the GRU's own weights; actions
  are drawn by the Gumbel-max trick (argmax of logits + Gumbel noise, exactly a softmax sample); the
  old log-probabilities and values of the recorded trials are computed after the loop from the stored
  hidden states in one matrix product.
- The PPO update runs the GRU over whole trials through :class:`GRUSequence`, an autograd function
  with the backward pass (backpropagation through time) written out: the forward loop is four tensor
  operations per step into preallocated buffers and keeps the gates; the backward computes the gates'
  derivative factors of all steps at once, runs the time recursion of the hidden-state gradient with
  three operations per step, and forms each weight gradient as one matrix product over all steps
  (instead of autograd's ~25 recorded operations per step through ``nn.GRU``). Same function and
  gradient as ``nn.GRU`` up to float rounding (tested against it and by gradcheck). Minibatches are
  whole trials.
- Every matrix product (rollout, update, heads) runs in numpy's OpenBLAS through :mod:`hrlmeta.blas`
  (AVX2 kernels pinned by name on every CPU), not in MKL's vendor-independent SSE2 branch: the update
  is dominated by GRU-sized products. ``log_softmax`` is written out (see :func:`log_softmax`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.autograd.function import once_differentiable

from .. import blas
from ..numerics import configure_torch
from ..progress import progress


class MetaEnv:
    """Protocol of a batch of tasks played in lockstep for one trial of ``trial_length`` steps.

    ``obs_dim``, ``n_actions``, ``trial_length`` attributes;
    ``reset_trial(n_tasks, rng, gen) -> obs``: sample ``n_tasks`` fresh tasks with the numpy Generator
    ``rng``, draw the trial's per-step noise from the torch Generator ``gen``, start a trial;
    ``obs`` is a float32 tensor (n_tasks, obs_dim);
    ``step(actions: LongTensor (n_tasks,)) -> (obs, rewards, done, regret)``: float32 tensors
    ``obs`` (n_tasks, obs_dim) and ``rewards`` (n_tasks,); ``done`` a Python bool, True where an episode
    of the trial ended at this step (tasks run in lockstep; the next observation then starts the next
    episode), or a bool tensor (n_tasks,) where the tasks' episodes end at different steps;
    ``regret`` a (n_tasks,) tensor of per-step expected regret, or None.

    *Absorbing* meta-environments (e.g. :class:`CartPoleMetaEnv`: a trial is one episode that ends when the
    pole falls) also have ``alive``, a bool tensor (n_tasks,): the tasks whose trial is still running. A task
    that is no longer alive sits in an absorbing state (reward 0) until the trial ends; :func:`rollout` stops
    as soon as no task is alive (the recorded trial is then shorter than ``trial_length``) and records
    ``mask`` (the steps taken while alive), which :func:`ppo_update` uses to leave the absorbed steps out of
    the update (their value is 0: the episode's end is terminal). Meta-environments without ``alive`` run
    every trial for ``trial_length`` steps, unmasked.
    """

    obs_dim: int
    n_actions: int
    trial_length: int


class RL2Policy(nn.Module):
    """GRU policy + value heads over inputs (obs, one-hot a_{t-1}, r_{t-1}, d_{t-1}).

    ``separate_value``: the value head reads a second GRU of its own (``vgru``, same inputs and size) instead
    of the policy's, so the value loss never moves the policy's recurrent state (the RL^2 paper's separate
    policy and baseline networks; stable-baselines3's ``enable_critic_lstm``). Its hidden states are then
    (..., 2 * hidden): the policy's, then the value GRU's."""

    def __init__(self, obs_dim: int, n_actions: int, hidden: int = 64, separate_value: bool = False):
        super().__init__()
        self.obs_dim, self.n_actions, self.hidden = obs_dim, n_actions, hidden
        self.in_dim = obs_dim + n_actions + 2
        self.gru = nn.GRU(self.in_dim, hidden)
        self.pi = nn.Linear(hidden, n_actions)
        self.v = nn.Linear(hidden, 1)
        nn.init.orthogonal_(self.pi.weight, gain=0.01)
        nn.init.zeros_(self.pi.bias)
        self.separate_value = bool(separate_value)
        self.vgru = nn.GRU(self.in_dim, hidden) if self.separate_value else None

    def _vgru_weights(self):
        g = self.vgru
        return g.weight_ih_l0, g.weight_hh_l0, g.bias_ih_l0, g.bias_hh_l0

    def initial_state(self, batch: int) -> torch.Tensor:
        """Hidden state at the start of a trial (a new task): zeros, (1, batch, hidden) as for nn.GRU."""
        return torch.zeros(1, batch, self.hidden)

    def _gru_weights(self):
        g = self.gru
        return g.weight_ih_l0, g.weight_hh_l0, g.bias_ih_l0, g.bias_hh_l0

    def step(self, x: torch.Tensor, h: torch.Tensor):
        """One step: x (batch, in_dim), h (1, batch, hidden) -> logits, value, new h (1, batch, hidden)."""
        w_ih, w_hh, b_ih, b_hh = (w.detach() for w in self._gru_weights())
        h = gru_cell(x, h[0], w_ih.t(), w_hh.t(), b_ih, b_hh)
        logits, v = self.heads(h)
        return logits, v, h[None]

    def heads(self, hs: torch.Tensor):
        """Logits (..., A) and values (...) of hidden states hs (..., hidden), or (..., 2 * hidden) with
        ``separate_value`` (the policy's state, then the value GRU's)."""
        H = self.hidden
        hp, hv = (hs[..., :H], hs[..., H:]) if self.separate_value else (hs, hs)
        return blas.linear(hp, self.pi.weight, self.pi.bias), blas.linear(hv, self.v.weight, self.v.bias).squeeze(-1)

    def forward_seq(self, X: torch.Tensor, h0: torch.Tensor | None = None):
        """Whole trials: X (T, batch, in_dim) -> logits (T, batch, A), values (T, batch).
        ``h0`` (1, batch, hidden) (``separate_value``: (1, batch, 2 * hidden)), zeros (a trial's start) if None.
        Differentiable (:class:`GRUSequence`)."""
        H = self.hidden
        if h0 is None:
            h0 = torch.zeros(1, X.shape[1], 2 * H if self.separate_value else H)
        out = GRUSequence.apply(X, h0[0, :, :H], *self._gru_weights())
        if self.separate_value:
            out = torch.cat([out, GRUSequence.apply(X, h0[0, :, H:], *self._vgru_weights())], dim=-1)
        return self.heads(out)

    def value_states(self, X: torch.Tensor) -> torch.Tensor:
        """The value GRU's hidden states (T, batch, hidden) over whole trials X from zeros, without a graph."""
        with torch.no_grad():
            return GRUSequence.apply(X, torch.zeros(X.shape[1], self.hidden), *(w.detach() for w in self._vgru_weights()))


def gru_cell(x: torch.Tensor, h: torch.Tensor, w_ih_t: torch.Tensor, w_hh_t: torch.Tensor,
             b_ih: torch.Tensor, b_hh: torch.Tensor) -> torch.Tensor:
    """One GRU step without autograd, the operations of :class:`GRUSequence`'s forward (PyTorch's gate
    layout r, z, n): x (B, I), h (B, H), transposed weights w_ih_t (I, 3H), w_hh_t (H, 3H) -> new h."""
    H = h.shape[1]
    gi = blas.mm(x, w_ih_t).add_(b_ih)
    gh = blas.mm(h, w_hh_t).add_(b_hh)
    rz = torch.add(gi[:, : 2 * H], gh[:, : 2 * H]).sigmoid_()
    n = torch.addcmul(gi[:, 2 * H :], rz[:, :H], gh[:, 2 * H :]).tanh_()
    return torch.lerp(n, h, rz[:, H:])


class _unfilled:
    """Context in which ``torch.empty`` returns unfilled memory even under ``torch.use_deterministic_algorithms``
    (which fills every new tensor with NaN, to make reads of uninitialised memory reproducible; for the
    buffers here, every element is written before it is read, so the fill is pure cost)."""

    def __enter__(self):
        self.prev = torch.utils.deterministic.fill_uninitialized_memory
        torch.utils.deterministic.fill_uninitialized_memory = False

    def __exit__(self, *exc):
        torch.utils.deterministic.fill_uninitialized_memory = self.prev


class GRUSequence(torch.autograd.Function):
    """``nn.GRU`` (one layer, gates r, z, n in PyTorch's layout) over a whole sequence, with BPTT written out.

    ``apply(X (T, B, I), h0 (B, H), w_ih (3H, I), w_hh (3H, H), b_ih (3H,), b_hh (3H,)) -> out (T, B, H)``,
    the hidden states h_1..h_T of
        r_t = sigmoid(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr),  z_t = sigmoid(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz),
        n_t = tanh(W_in x_t + b_in + r_t * (W_hn h_{t-1} + b_hn)),  h_t = (1 - z_t) * n_t + z_t * h_{t-1}.
    Backward: with dh_t the total gradient reaching h_t (from out_t and from step t + 1),
        d(pre-activations of r, z, n) = dh_t * [K_r, K_z, K_n]_t,   d(W_h h + b_h) = dh_t * [K_r, K_z, K_n r]_t,
        K_n = (1 - z)(1 - n^2),  K_r = K_n (W_hn h_{t-1} + b_hn) r (1 - r),  K_z = (h_{t-1} - n) z (1 - z),
        dh_{t-1} = dout_{t-1} + dh_t * z_t + d(W_h h + b_h)_t @ W_hh;
    the K factors of all steps are computed at once from the gates the forward kept, so the sequential
    loop is three tensor operations per step, and the weight gradients are single products over all
    (t, b) rows. Every product runs through :mod:`hrlmeta.blas`.
    """

    @staticmethod
    def forward(ctx, X, h0, w_ih, w_hh, b_ih, b_hh):
        with _unfilled():
            return GRUSequence._forward(ctx, X, h0, w_ih, w_hh, b_ih, b_hh)

    @staticmethod
    @once_differentiable
    def backward(ctx, dout):
        with _unfilled():
            return GRUSequence._backward(ctx, dout)

    @staticmethod
    def _forward(ctx, X, h0, w_ih, w_hh, b_ih, b_hh):
        T, B, I = X.shape
        H = w_hh.shape[1]
        X = X.contiguous()
        gi = blas.addmm_(X.new_empty(T * B, 3 * H), X.view(T * B, I), w_ih.t(), b_ih).view(T, B, 3, H)
        hs = X.new_empty(T + 1, B, H)                  # h_0 .. h_T
        hs[0] = h0
        RZ = X.new_empty(T, B, 2, H)                   # gates r, z
        N = X.new_empty(T, B, H)                       # candidate n
        GH = X.new_empty(T, B, 3 * H)                  # W_hh h_{t-1} + b_hh
        w_hh_t = w_hh.detach().t()
        b_hh = b_hh.detach()
        GHv = GH.view(T, B, 3, H)
        # per-step views made once (slicing inside the loop costs more than the small ops themselves)
        steps = zip(hs[:-1].unbind(0), hs[1:].unbind(0), GH.unbind(0), gi[:, :, :2].unbind(0), GHv[:, :, :2].unbind(0),
                    RZ.unbind(0), gi[:, :, 2].unbind(0), RZ[:, :, 0].unbind(0), GHv[:, :, 2].unbind(0),
                    N.unbind(0), RZ[:, :, 1].unbind(0))
        # a trial starts from h_0 = 0, where W_hh h_0 + b_hh = b_hh exactly: that product is skipped (here and
        # in the weight gradient, whose rows at t = 1 are then zero)
        ctx.zero_h0 = zero_h0 = not bool(h0.any())
        for t, (h, h_next, gh, gi_rz, gh_rz, rz, gi_n, r, gh_n, n, z) in enumerate(steps):
            if t == 0 and zero_h0:
                gh.copy_(b_hh)
            else:
                blas.addmm_(gh, h, w_hh_t, b_hh)
            torch.add(gi_rz, gh_rz, out=rz).sigmoid_()
            torch.addcmul(gi_n, r, gh_n, out=n).tanh_()
            torch.lerp(n, h, z, out=h_next)
        ctx.save_for_backward(X, hs, RZ, N, GH, w_ih, w_hh)
        return hs[1:]

    @staticmethod
    def _backward(ctx, dout):
        X, hs, RZ, N, GH, w_ih, w_hh = ctx.saved_tensors
        T, B, I = X.shape
        H = w_hh.shape[1]
        TB = T * B
        hprev, X2 = hs[:-1].reshape(TB, H), X.reshape(TB, I)
        z = RZ[:, :, 1]                                         # (T, B, H)
        r, zf = RZ[:, :, 0].reshape(TB, H), z.reshape(TB, H)
        n, ghn = N.view(TB, H), GH.view(TB, 3 * H)[:, 2 * H :]
        kn = torch.addcmul(torch.ones_like(n), n, n, value=-1).mul_(1 - zf)          # (1 - z)(1 - n^2)
        K = torch.empty(TB, 3 * H, dtype=X.dtype)               # [K_r, K_z, K_n r] of every (t, b)
        torch.mul(kn, r, out=K[:, 2 * H :])
        torch.mul(K[:, 2 * H :], ghn, out=K[:, :H]).mul_(1 - r)                       # K_n gh_n r (1 - r)
        torch.mul(hprev - n, torch.addcmul(zf, zf, zf, value=-1), out=K[:, H : 2 * H])  # (h - n) z (1 - z)
        K = K.view(T, B, 3, H)
        dout = dout.contiguous()
        DH = torch.empty(T, B, H, dtype=X.dtype)                # total gradient reaching h_t
        DGH = torch.empty(T, B, 3, H, dtype=X.dtype)            # gradient of W_hh h_{t-1} + b_hh
        DH[T - 1] = dout[T - 1]
        dh_ = DH.unbind(0)
        steps = zip(range(T - 1, 0, -1), dh_[::-1], K.unbind(0)[::-1], DGH.unbind(0)[::-1],
                    DGH.view(T, B, 3 * H).unbind(0)[::-1], z.unbind(0)[::-1], dout.unbind(0)[-2::-1], dh_[-2::-1])
        for t, dh, k, dgh, g, z_t, dout_prev, dh_prev in steps:      # t = T-1 .. 1
            torch.mul(k, dh.unsqueeze(1), out=dgh)
            blas.addmm_(dh_prev, g, w_hh, torch.addcmul(dout_prev, dh, z_t))
        torch.mul(K[0], DH[0].unsqueeze(1), out=DGH[0])
        DGH = DGH.view(TB, 3 * H)
        DGI = DGH.clone()                                       # gradient of W_ih x_t + b_ih
        torch.mul(DH.view(TB, H), kn, out=DGI[:, 2 * H :])
        need = ctx.needs_input_grad
        dX = blas.mm(DGI, w_ih).view(T, B, I) if need[0] else None
        dh0 = blas.mm(DGH[:B], w_hh).add_(DH[0] * z[0]) if need[1] else None
        dw_ih = blas.mm(DGI.t(), X2) if need[2] else None
        s = B if ctx.zero_h0 else 0
        dw_hh = blas.mm(DGH[s:].t(), hprev[s:]) if need[3] else None
        ones = torch.ones(1, TB, dtype=X.dtype)                 # column sums as products (faster than sum(0))
        db_ih = blas.mm(ones, DGI)[0] if need[4] else None
        db_hh = blas.mm(ones, DGH)[0] if need[5] else None
        return dX, dh0, dw_ih, dw_hh, db_ih, db_hh


@dataclass
class PPOConfig:
    iterations: int = 100
    batch_tasks: int = 256          # trials per iteration
    hidden: int = 64
    lr: float = 3e-3
    gamma: float = 0.99
    gae_lambda: float = 0.3
    clip: float = 0.2
    epochs: int = 4
    minibatches: int = 4
    entropy_coef: float = 0.01
    entropy_coef_final: float = 0.0  # linearly annealed to this value over training
    value_coef: float = 0.5
    max_grad_norm: float = 1.0
    torch_threads: int = 1
    # linear schedules: the learning rate and the clip range go from ``lr`` / ``clip`` to these values (None:
    # constant), as the entropy coefficient goes to ``entropy_coef_final``, all over the fraction
    # iteration / (iterations - 1), or, with ``anneal_steps``, environment steps taken / anneal_steps (at most 1)
    lr_final: float | None = None
    clip_final: float | None = None
    anneal_steps: int | None = None
    # truncated BPTT in the update (None: every minibatch is whole trials, backpropagated from their start):
    # the recorded trials are cut into segments of ``bptt_len`` steps, each starting from the hidden state the
    # rollout had there (detached), and each epoch's minibatches hold ``minibatch_segments`` segments (the
    # last one fewer); segments with no live step (absorbed, or padding past the trial's end) are left out
    bptt_len: int | None = None
    minibatch_segments: int | None = None
    # a value network of its own (a second GRU, see RL2Policy): False = one GRU shared by the two heads
    separate_value: bool = False

    def __post_init__(self):
        if self.bptt_len is None and self.minibatch_segments is not None:
            raise ValueError("rl2: minibatch_segments is set but bptt_len is not (segments need a length)")
        if self.bptt_len is not None:
            if int(self.bptt_len) < 1:
                raise ValueError(f"rl2: bptt_len must be >= 1 or null, got {self.bptt_len}")
            if self.minibatch_segments is None or int(self.minibatch_segments) < 1:
                raise ValueError(f"rl2: bptt_len needs minibatch_segments >= 1, got {self.minibatch_segments}")

    @classmethod
    def from_params(cls, p: dict) -> "PPOConfig":
        known = set(cls.__dataclass_fields__)
        bad = [k for k in p if k not in known]
        if bad:
            raise KeyError(f"rl2: unknown training parameter(s) {bad}; known: {sorted(known)}")
        if p.get("bptt_len") is not None and "minibatches" in p:
            raise ValueError("rl2: minibatches (of whole trials) and bptt_len (segments) are exclusive: with bptt_len, "
                             "set minibatch_segments")
        return cls(**p)


def log_softmax(logits: torch.Tensor) -> torch.Tensor:
    """log-softmax over the last axis. Same values as ``torch.log_softmax``; written out because torch's
    CPU kernel is several times slower for the handful of actions here (a short last axis)."""
    z = logits - logits.amax(dim=-1, keepdim=True).detach()
    return z - z.exp().sum(dim=-1, keepdim=True).log()


def rollout(policy: RL2Policy, env: MetaEnv, n_tasks: int, rng: np.random.Generator,
            gen: torch.Generator, record: bool = True) -> dict:
    """Play one trial in ``n_tasks`` fresh tasks with the hidden state reset at the trial's start.

    Returns rewards (T, n_tasks) and the per-step mean regret (T,); with ``record`` also the inputs
    X (T, n_tasks, in_dim), actions A, and the behaviour policy's log-probabilities and values. For an
    absorbing meta-environment (see :class:`MetaEnv`) T is the number of steps until no task is alive
    (at most ``trial_length``), and ``mask`` (T, n_tasks) float is 1 where the step was taken while alive.
    """
    T, od, nA = env.trial_length, policy.obs_dim, policy.n_actions
    w_ih, w_hh, b_ih, b_hh = (w.detach() for w in policy._gru_weights())
    w_ih_t, w_hh_t = w_ih.t().contiguous(), w_hh.t().contiguous()
    w_pi, b_pi = policy.pi.weight.detach().t().contiguous(), policy.pi.bias.detach()
    with torch.no_grad():
        obs = env.reset_trial(n_tasks, rng, gen)
        # inputs: all T steps when recording, else a two-row ring buffer (step t reads row t % 2)
        X = torch.zeros(T if record else 2, n_tasks, policy.in_dim)
        X[0, :, :od] = obs
        HS = torch.empty(T, n_tasks, policy.hidden) if record else None
        A = torch.empty(T, n_tasks, dtype=torch.long)
        Rw = torch.empty(T, n_tasks)
        regret = torch.zeros(T)
        h = torch.zeros(n_tasks, policy.hidden)
        L = X.shape[0]
        absorbing = getattr(env, "alive", None) is not None
        M = torch.empty(T, n_tasks) if absorbing else None
        for t in range(T):
            if absorbing:
                M[t] = env.alive
            h = gru_cell(X[t % L], h, w_ih_t, w_hh_t, b_ih, b_hh)
            logits = blas.mm(h, w_pi).add_(b_pi)
            gumbel = torch.empty_like(logits).exponential_(generator=gen).log_()   # -Gumbel noise
            a = torch.argmax(logits - gumbel, dim=1)
            obs, r, done, reg = env.step(a)
            A[t], Rw[t] = a, r
            if record:
                HS[t] = h
            if reg is not None:
                regret[t] = reg.mean()
            if t + 1 < T:
                nx = X[(t + 1) % L]
                if not record:
                    nx.zero_()
                nx[:, :od] = obs
                nx[:, od : od + nA].scatter_(1, a[:, None], 1.0)
                nx[:, od + nA] = r
                nx[:, od + nA + 1] = done if isinstance(done, torch.Tensor) else float(done)
            if absorbing and not bool(env.alive.any()):
                break
        if absorbing and t + 1 < T:  # every task ended before the trial's last step: keep the steps taken
            T = t + 1
            X, A, Rw, regret, M = X[:T] if record else X, A[:T], Rw[:T], regret[:T], M[:T]
            HS = HS[:T] if record else None
        out = {"rewards": Rw, "regret_per_step": regret, "A": A}
        if absorbing:
            out["mask"] = M
        if record:
            if policy.separate_value:   # the value GRU does not act: its states are computed after the trial
                HS = torch.cat([HS, policy.value_states(X)], dim=-1)
            logits, values = policy.heads(HS)
            out["logp"] = log_softmax(logits).gather(2, A[:, :, None]).squeeze(2)
            out.update(X=X, values=values, HS=HS)
    return out


def gae(rewards: torch.Tensor, values: torch.Tensor, gamma: float, lam: float) -> torch.Tensor:
    """GAE advantages over a whole trial (T, batch); the trial's end is terminal (bootstrap 0)."""
    rewards, values = torch.as_tensor(rewards), torch.as_tensor(values)
    T = rewards.shape[0]
    nxt = torch.cat([values[1:], torch.zeros_like(values[:1])])
    delta = rewards + gamma * nxt - values
    adv = torch.empty_like(delta)
    last = torch.zeros_like(delta[0])
    for t in range(T - 1, -1, -1):
        last = delta[t] + gamma * lam * last
        adv[t] = last
    return adv


class RunningStats:
    """Mean/std of value targets across iterations (Chan et al. parallel update)."""

    def __init__(self):
        self.n, self.mean, self.m2 = 0, 0.0, 0.0

    def update(self, x):
        x = torch.as_tensor(x, dtype=torch.float64).ravel()
        nb, mb, vb = x.numel(), float(x.mean()), float(x.var(correction=0))
        n = self.n + nb
        delta = mb - self.mean
        self.mean += delta * nb / n
        self.m2 += vb * nb + delta**2 * self.n * nb / n
        self.n = n

    @property
    def std(self) -> float:
        return float(np.sqrt(self.m2 / self.n)) if self.n > 1 and self.m2 > 0 else 1.0


def ppo_update(policy: RL2Policy, opt: torch.optim.Optimizer, ro: dict, stats: RunningStats,
               cfg: PPOConfig, ent_coef: float, gen: torch.Generator, clip: float | None = None) -> float:
    """``cfg.epochs`` passes of clipped-PPO minibatch steps on one batch of recorded trials.
    Returns the policy entropy of the last minibatch. ``clip``: the clip range (default ``cfg.clip``).

    With a ``mask`` in ``ro`` (an absorbing meta-environment, see :class:`MetaEnv`), the absorbed steps have
    value 0 (the episode's end is terminal) and are left out of the return statistics, the advantage
    normalisation and every loss average; without one, every step counts (the same operations as before
    masks existed)."""
    mask = ro.get("mask")
    clip = cfg.clip if clip is None else clip
    values = ro["values"] * stats.std + stats.mean
    if mask is not None:
        values = values * mask
    adv = gae(ro["rewards"], values, cfg.gamma, cfg.gae_lambda)
    ret = adv + values
    if mask is None:
        stats.update(ret)
        adv = (adv - adv.mean()) / (adv.std() + 1e-8)
    else:
        live = mask.bool()
        stats.update(ret[live])
        adv = (adv - adv[live].mean()) / (adv[live].std() + 1e-8)
    target = (ret - stats.mean) / stats.std
    X, A, old_logp, h0 = ro["X"], ro["A"], ro["logp"], None
    if cfg.bptt_len is not None:
        X, A, old_logp, adv, target, mask, h0 = _segments(ro, X, A, old_logp, adv, target, mask, int(cfg.bptt_len))
    B = X.shape[1]
    mb = max(B // cfg.minibatches, 1) if cfg.bptt_len is None else int(cfg.minibatch_segments)
    params = list(policy.parameters())
    for _ in range(cfg.epochs):
        perm = torch.randperm(B, generator=gen)
        for start in range(0, B, mb):
            idx = perm[start : start + mb]
            if mask is None:
                avg = torch.mean
            else:
                m = mask[:, idx]
                n_live = m.sum().clamp(min=1.0)

                def avg(x, m=m, n_live=n_live):
                    return (x * m).sum() / n_live
            logits, v = policy.forward_seq(X[:, idx], None if h0 is None else h0[:, idx])
            logp_all = log_softmax(logits)
            logp = logp_all.gather(2, A[:, idx, None]).squeeze(2)
            ratio = torch.exp(logp - old_logp[:, idx])
            a = adv[:, idx]
            pg = -avg(torch.min(ratio * a, torch.clamp(ratio, 1 - clip, 1 + clip) * a))
            vloss = 0.5 * avg((v - target[:, idx]) ** 2)
            entropy = avg(-(logp_all.exp() * logp_all).sum(-1))
            loss = pg + cfg.value_coef * vloss - ent_coef * entropy
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(params, cfg.max_grad_norm, foreach=True)
            opt.step()
    return float(entropy.detach())


def _segments(ro: dict, X, A, old_logp, adv, target, mask, L: int):
    """Recorded trials (T, B, ...) cut into segments of ``L`` steps for truncated BPTT (``PPOConfig.bptt_len``):
    (L, n, ...) arrays of the n segments that hold a live step, in order (trial-major within each segment
    start), with ``h0`` (1, n, hidden), the rollout's hidden state before each segment's first step (zeros at
    a trial's start) and the mask (L, n) of live steps (steps past the trial's end are padding, mask 0)."""
    T, B = A.shape
    n_seg = -(-T // L)
    pad = n_seg * L - T
    live = torch.ones(T, B) if mask is None else mask

    def cut(x):
        if pad:
            x = torch.cat([x, x.new_zeros((pad, *x.shape[1:]))])
        # (n_seg * L, B, ...) -> (L, n_seg * B, ...): segment k of trial b is column k * B + b
        x = x.reshape(n_seg, L, *x.shape[1:]).transpose(0, 1)
        return x.reshape(L, n_seg * B, *x.shape[3:])

    HS = ro["HS"]
    starts = torch.cat([torch.zeros(1, B, HS.shape[2]), HS[L - 1 : T - 1 : L]])   # (n_seg, B, H or 2H)
    h0 = starts.reshape(1, n_seg * B, HS.shape[2])
    out = [cut(x) for x in (X, A, old_logp, adv, target, live)]
    keep = out[-1].sum(0) > 0
    out = [x[:, keep] for x in out]
    return (*out, h0[:, keep].contiguous())


def train(env: MetaEnv, cfg: PPOConfig, seed: int, log=None, callback=None,
          checkpoint=None) -> tuple[RL2Policy, list[dict]]:
    """Train an RL^2 policy on tasks from ``env``. Returns (policy, per-iteration log rows).

    ``log(row)`` sees each iteration's row; ``callback(policy, row)``, called after it, may evaluate the
    policy and stops training (before ``cfg.iterations``) by returning True. ``row["env_steps"]`` is the
    number of environment steps the iteration's trials took (the unmasked steps; see :class:`MetaEnv`).

    ``checkpoint`` (:class:`hrlmeta.checkpoint.Checkpoint` or an object with its ``load`` / ``due`` / ``save``):
    the whole training state (policy, optimiser, return statistics, both random streams, rows, counters) is
    saved between iterations when due, and training resumes from a saved state with the same numbers. Not
    with ``log`` / ``callback``, whose own state it cannot save."""
    if checkpoint is not None and (log is not None or callback is not None):
        raise ValueError("rl2.train: a checkpoint cannot save the state of log / callback")
    configure_torch(cfg.torch_threads)
    state = checkpoint.load() if checkpoint is not None else None
    if state is None:
        gen = torch.Generator().manual_seed(seed + 1)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)  # parameter initialisation (nn.Module init uses the default generator)
            policy = RL2Policy(env.obs_dim, env.n_actions, cfg.hidden, cfg.separate_value)
        rng = np.random.default_rng([seed, 2])
        opt = torch.optim.Adam(policy.parameters(), lr=cfg.lr, eps=1e-5, foreach=True)
        stats = RunningStats()
        rows, steps, start = [], 0, 0
    else:
        policy, opt, stats, rng, gen = state["policy"], state["opt"], state["stats"], state["rng"], state["gen"]
        rows, steps, start = state["rows"], state["steps"], state["iteration"]
    for it in progress(range(start, cfg.iterations), desc=f"RL2 seed {seed}", unit="iter", leave=False):
        t0 = time.perf_counter()
        frac = it / max(cfg.iterations - 1, 1) if cfg.anneal_steps is None else min(steps / cfg.anneal_steps, 1.0)
        ent_coef = cfg.entropy_coef + frac * (cfg.entropy_coef_final - cfg.entropy_coef)
        if cfg.lr_final is not None:
            for group in opt.param_groups:
                group["lr"] = cfg.lr + frac * (cfg.lr_final - cfg.lr)
        clip = cfg.clip if cfg.clip_final is None else cfg.clip + frac * (cfg.clip_final - cfg.clip)
        ro = rollout(policy, env, cfg.batch_tasks, rng, gen)
        entropy = ppo_update(policy, opt, ro, stats, cfg, ent_coef, gen, clip)
        row = {
            "iteration": it,
            "return": float(ro["rewards"].sum(0).mean()),
            "wall_s": time.perf_counter() - t0,
            "entropy": entropy,
            "env_steps": int(ro["mask"].sum()) if "mask" in ro else int(ro["rewards"].numel()),
        }
        rows.append(row)
        steps += row["env_steps"]
        if log is not None:
            log(row)
        if callback is not None and callback(policy, row):
            break
        if checkpoint is not None and it + 1 < cfg.iterations and checkpoint.due(it + 1):
            checkpoint.save({"policy": policy, "opt": opt, "stats": stats, "rng": rng, "gen": gen, "rows": rows,
                             "steps": steps, "iteration": it + 1}, it + 1)
    return policy, rows


def evaluate(policy: RL2Policy, env: MetaEnv, n_tasks: int, seed: int, chunk: int = 1000) -> dict:
    """Total reward per task of the trained policy on ``n_tasks`` fresh tasks (hidden state reset per
    task), plus per-step mean reward and regret curves (numpy arrays)."""
    rng = np.random.default_rng([seed, 3])
    gen = torch.Generator().manual_seed(seed + 3)
    totals, rew, reg = [], torch.zeros(env.trial_length), torch.zeros(env.trial_length)
    done = 0
    while done < n_tasks:
        b = min(chunk, n_tasks - done)
        ro = rollout(policy, env, b, rng, gen, record=False)
        totals.append(ro["rewards"].sum(0))
        T = ro["rewards"].shape[0]  # < trial_length where every task of an absorbing env ended early
        rew[:T] += ro["rewards"].mean(1) * b
        reg[:T] += ro["regret_per_step"] * b
        done += b
    return {"totals": torch.cat(totals).double().numpy(), "reward_per_step": (rew / n_tasks).double().numpy(),
            "regret_per_step": (reg / n_tasks).double().numpy()}


# ----------------------------------------------------------------------------------------------------
# meta-environments of the two RL^2 experiments (batched torch dynamics)
# ----------------------------------------------------------------------------------------------------
class BanditMetaEnv(MetaEnv):
    """k-armed Bernoulli bandits (arm means i.i.d. U[0, 1], :func:`hrlmeta.envs.bandits.sample_means`),
    n pulls per trial; each pull is a one-step episode (constant observation 1, done after every pull)."""

    def __init__(self, n: int, k: int):
        self.n, self.k = int(n), int(k)
        self.obs_dim, self.n_actions, self.trial_length = 1, self.k, self.n
        self.means = None

    def reset_trial(self, n_tasks, rng, gen):
        from ..envs.bandits import sample_means

        self.means = torch.from_numpy(sample_means(rng, n_tasks, self.k)).float()
        self.best = self.means.max(dim=1).values
        self._u = torch.rand(self.n, n_tasks, generator=gen)   # reward noise of every pull of the trial
        self._obs = torch.ones(n_tasks, 1)
        self.t = 0
        return self._obs

    def step(self, actions):
        p = self.means.gather(1, actions[:, None]).squeeze(1)
        r = (self._u[self.t] < p).float()
        self.t += 1
        return self._obs, r, True, self.best - p


class TabularMDPMetaEnv(MetaEnv):
    """Random tabular MDPs (:func:`hrlmeta.envs.tabular_mdp.sample_mdps`: R ~ N(1, 1), P ~ flat Dirichlet),
    ``n_episodes`` episodes of ``horizon`` steps per trial, each starting in state 0, rewards
    N(R(s, a), 1); observation = one-hot state. Same dynamics as :class:`hrlmeta.envs.tabular_mdp.TabularMDPs`.
    """

    def __init__(self, n_episodes: int, horizon: int = 10, n_states: int = 10, n_actions: int = 5):
        self.n_episodes, self.horizon = int(n_episodes), int(horizon)
        self.nS = int(n_states)
        self.obs_dim, self.n_actions = self.nS, int(n_actions)
        self.trial_length = self.n_episodes * self.horizon
        self._eye = torch.eye(self.nS)

    def reset_trial(self, n_tasks, rng, gen):
        from ..envs.tabular_mdp import sample_mdps

        R, P = sample_mdps(rng, n_tasks, self.nS, self.n_actions)
        self.R = torch.from_numpy(R).float().reshape(-1)                                   # (tasks*S*A,)
        self.cdf = torch.from_numpy(np.cumsum(P, axis=-1)).float().reshape(-1, self.nS)    # (tasks*S*A, S)
        self._base = torch.arange(n_tasks) * (self.nS * self.n_actions)
        T = self.trial_length
        self._noise = torch.randn(T, n_tasks, generator=gen)    # reward noise of every step of the trial
        self._u = torch.rand(T, n_tasks, 1, generator=gen)       # transition draws (inverse CDF)
        self.state = torch.zeros(n_tasks, dtype=torch.long)
        self.t = 0
        return self._eye[self.state]

    def step(self, actions):
        sa = self._base + self.state * self.n_actions + actions
        r = self.R[sa] + self._noise[self.t]
        nxt = (self._u[self.t] > self.cdf[sa]).sum(1).clamp_(max=self.nS - 1)
        self.t += 1
        done = self.t % self.horizon == 0
        self.state = torch.zeros_like(nxt) if done else nxt
        return self._eye[self.state], r, done, None


class CartPoleMetaEnv(MetaEnv):
    """CartPole-v1 as an absorbing meta-environment with a fixed task: the dense-input case of the learner
    (its check, experiment ``learner_checks``). The dynamics are :class:`hrlmeta.envs.cartpole.CartPoleFamily`'s
    batched copy of gymnasium's ``CartPole-v1`` (checked against gymnasium transition by transition) with
    gymnasium's own cart, pole and length. A trial is one episode: start state uniform on [-0.05, 0.05]^4
    (drawn from the trial's torch Generator), reward 1 for every step taken, the terminating one included,
    at most ``horizon`` steps (CartPole-v1's time limit, 500; the trial's end is terminal, as every RL^2
    trial's is). A task whose pole has fallen is absorbed (``alive`` False: reward 0, observation frozen,
    done flag 1) until every task of the batch has ended or the horizon is reached.

    The GRU reads, as for every meta-environment, (observation, one-hot previous action, previous reward,
    previous done flag). ``mask_velocity``: observation entries 1 and 3 (cart velocity, pole angular
    velocity) are multiplied by 0, rl-baselines3-zoo's ``CartPoleNoVel-v1`` (``MaskVelocityWrapper``), so
    only the recurrent state can recover them. ``normalize``: the observation is standardised by running
    statistics, as stable-baselines3's ``VecNormalize`` does it (mean and variance of every observation
    the training trials produce, from count 1e-4, mean 0, variance 1; (obs - mean) / sqrt(var + 1e-8)
    clipped to [-10, 10]); ``training`` False freezes the statistics (evaluation shares the training
    environment's ``obs_rms`` and leaves it unchanged).
    """

    def __init__(self, horizon: int = 500, mask_velocity: bool = False, normalize: bool = False):
        from ..envs.cartpole import CartPoleFamily

        self.family = CartPoleFamily(masscart=(1.0, 1.0), masspole=(0.1, 0.1), length=(0.5, 0.5),
                                     horizon=int(horizon))
        self.task = torch.tensor([1.0, 0.1, 0.5], dtype=torch.float64)   # gymnasium's CartPoleEnv constants
        self.obs_dim, self.n_actions, self.trial_length = 4, 2, int(horizon)
        self.mask_velocity = bool(mask_velocity)
        self._keep = torch.tensor([1.0, 0.0, 1.0, 0.0]) if self.mask_velocity else None
        self.obs_rms = RunningMeanStd(4) if normalize else None
        self.training = True
        self.alive = None

    def observe(self, state: torch.Tensor, update: torch.Tensor | None = None) -> torch.Tensor:
        """What the policy sees of states (n, 4) float64: gymnasium's float32 observation, velocities zeroed
        (``mask_velocity``), standardised (``normalize``; the rows ``update`` selects update the running
        statistics first, in training)."""
        o = state.float()
        if self._keep is not None:
            o = o * self._keep
        if self.obs_rms is None:
            return o
        if self.training and update is not None and bool(update.any()):
            self.obs_rms.update(o[update].double())
        return self.obs_rms.normalize(o)

    def reset_trial(self, n_tasks, rng, gen):
        self.state = self.family.reset((n_tasks,), gen)
        self.alive = torch.ones(n_tasks, dtype=torch.bool)
        return self.observe(self.state, self.alive)

    def step(self, actions):
        new, terminated = self.family.step(self.state, actions, self.task)
        r = self.alive.float()
        self.state = torch.where(self.alive[:, None], new, self.state)
        self.alive = self.alive & ~terminated
        return self.observe(self.state, self.alive), r, ~self.alive, None


class RunningMeanStd:
    """Running mean and variance of vectors (stable-baselines3's ``RunningMeanStd``: parallel update, count
    starting at 1e-4), float64; :meth:`normalize` as ``VecNormalize`` normalises observations."""

    def __init__(self, dim: int, epsilon: float = 1e-4, clip: float = 10.0):
        self.mean = torch.zeros(dim, dtype=torch.float64)
        self.var = torch.ones(dim, dtype=torch.float64)
        self.count = float(epsilon)
        self.clip = float(clip)

    def update(self, x: torch.Tensor) -> None:
        n = x.shape[0]
        bmean, bvar = x.mean(0), x.var(0, correction=0)
        delta = bmean - self.mean
        tot = self.count + n
        m2 = self.var * self.count + bvar * n + delta.square() * self.count * n / tot
        self.mean = self.mean + delta * n / tot
        self.var = m2 / tot
        self.count = tot

    def normalize(self, obs: torch.Tensor) -> torch.Tensor:
        z = (obs.double() - self.mean) / torch.sqrt(self.var + 1e-8)
        return z.clamp(-self.clip, self.clip).to(obs.dtype)
