"""Per-operation probe: the outputs of every kernel family the torch experiments use, hashed, so that a
machine whose golden runs disagree says *which operation* gives other bits, not only which run.

Each entry of :data:`OPS` computes one kernel family on fixed inputs at the shapes the experiments use
at their default scale (``config/config.yaml``): the policy / value MLPs and the linear baseline of
MAML (``nav2d_finn``: 2-100-100-2, 20 tasks x 20 trajectories x 100 steps), TRPO's KL Hessian-vector
products and conjugate gradient, RL²'s GRU (64 units, 512 and 128 trials), the stacked (``baddbmm``)
critics of SAC / DIAYN (32 units) and TD3 / HIRO (64 units), h-DQN's one-hot Q-network (32 units) and its
hand-written Adam, batched matmuls over seeds (``bmm`` / ``baddbmm``), log-probabilities, softmax,
transcendental functions, reductions, random draws, the three ``torch.optim.Adam`` implementations (for
loop, ``foreach``, ``fused``), and numpy's ufuncs and BLAS/LAPACK.

Inputs never come from a CPU-dependent kernel: they are uniform draws of numpy's PCG64 bit generator
(integer arithmetic, then an exact scaling), converted to float32 / float64. Each output (and gradient)
is hashed as dtype, shape and raw bytes (:func:`tensor_hash`). Random draws (``torch.randn`` etc.) are
probed on their own, because their CPU kernels are vectorised too.

``python -m hrlmeta.bench determinism --ops`` prints the hashes and the operations that differ from
``tests/golden/ops.json``; ``hrlmeta golden`` checks them before the golden runs; ``hrlmeta golden
--write`` regenerates both files.
"""

from __future__ import annotations

import hashlib
from typing import Callable

import numpy as np

#: default-scale shapes (config/config.yaml)
NAV_OBS, NAV_ACT, NAV_HIDDEN = 2, 2, 100          # nav2d_finn policy 2-100-100-2
NAV_TASKS, NAV_TRAJ, NAV_H = 20, 20, 100          # meta-batch 20 tasks x 20 trajectories x 100 steps
NAV_ROWS = NAV_TRAJ * NAV_H                       # rows of one task's batch
HVP_ROWS = int(round(0.2 * NAV_TRAJ)) * NAV_H     # TRPO curvature on 20% of the trajectories
RL2_HIDDEN, RL2_BANDIT_BATCH, RL2_MDP_BATCH = 64, 512, 128
RL2_BANDIT_IN, RL2_MDP_IN = 1 + 5 + 2, 10 + 5 + 2  # obs + one-hot action + reward + done
SAC_HIDDEN, SAC_BATCH, SAC_IN = 32, 128, 2 + 10 + 2  # DIAYN: state + one-hot skill (+ action for critics)
TD3_HIDDEN, TD3_BATCH, TD3_IN = 64, 100, 4 + 2 + 2  # HIRO worker: obs + goal + action
HDQN_HIDDEN, HDQN_BATCH, HDQN_IN = 32, 32, 12
CP_HIDDEN = 32                                    # cartpole_meta 4-32-32-2
SEEDS = 4                                         # batched seeds


def _u(shape, seed: int, lo: float = -1.0, hi: float = 1.0, dtype="float32"):
    """Uniform inputs from integer arithmetic only (PCG64 + exact scaling): the same bits on any CPU."""
    g = np.random.Generator(np.random.PCG64(seed))
    k = g.integers(0, 2**24, size=shape, dtype=np.int64)  # 24-bit grid: exact in float32 and float64
    return (lo + (hi - lo) * (k.astype(np.float64) / 2**24)).astype(dtype)


def _t(shape, seed, lo=-1.0, hi=1.0, dtype="float32", grad=False):
    import torch

    t = torch.from_numpy(np.ascontiguousarray(_u(shape, seed, lo, hi, dtype)))
    return t.requires_grad_(True) if grad else t


def tensor_hash(*xs) -> str:
    """SHA-256 of outputs: per output its dtype, shape and raw bytes (torch tensors or numpy arrays)."""
    h = hashlib.sha256()
    for x in xs:
        a = x.detach().contiguous().numpy() if hasattr(x, "detach") else np.ascontiguousarray(x)
        h.update(f"{a.dtype}:{a.shape}\n".encode())
        h.update(a.tobytes())
    return h.hexdigest()


# ---------------------------------------------------------------- the operations ------------------------

def _mlp_params(sizes, seed, dtype="float32"):
    ps = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        bound = 1.0 / a**0.5
        ps += [_t((a, b), seed + 2 * i, -bound, bound, dtype, grad=True),
               _t((b,), seed + 2 * i + 1, -bound, bound, dtype, grad=True)]
    return ps


def _mlp(ps, x, act="relu"):
    import torch

    n = len(ps) // 2
    for i in range(n):
        x = torch.addmm(ps[2 * i + 1], x, ps[2 * i]) if x.dim() == 2 else x @ ps[2 * i] + ps[2 * i + 1]
        if i < n - 1:
            x = torch.relu(x) if act == "relu" else torch.tanh(x)
    return x


def op_linear_nav2d():
    """MAML policy forward + backward (addmm / mm, relu), one task's batch at the default width."""
    import torch

    ps = _mlp_params((NAV_OBS, NAV_HIDDEN, NAV_HIDDEN, NAV_ACT), 10)
    x = _t((NAV_ROWS, NAV_OBS), 1)
    y = _mlp(ps, x)
    g = torch.autograd.grad((y * _t(y.shape, 2)).sum(), ps)
    return (y, *g)


def op_linear_3d_nav2d():
    """x @ W on (tasks, rows, in) inputs (folded into one gemm), as the MAML rollouts batch all tasks."""
    ps = _mlp_params((NAV_OBS, NAV_HIDDEN, NAV_HIDDEN, NAV_ACT), 20)
    return (_mlp(ps, _t((NAV_TASKS, NAV_TRAJ, NAV_OBS), 3)),)


def op_returns_to_go():
    """Discounted returns as one matmul with a (H, H) discount matrix (maml.discounted_returns)."""
    import torch

    t = torch.arange(NAV_H, dtype=torch.float32)
    D = torch.where(t[:, None] >= t[None, :], 0.99 ** (t[:, None] - t[None, :]), torch.zeros(()))
    return (_t((NAV_TASKS * NAV_TRAJ, NAV_H), 4) @ D,)


def op_baseline_bmm_solve_f64():
    """Linear baseline: batched X^T X (float64 bmm) and per-task ridge solves (LAPACK gesv)."""
    import torch

    X = _t((NAV_TASKS, NAV_ROWS, 2 * NAV_OBS + 4), 5, dtype="float64")
    y = _t((NAV_TASKS, NAV_ROWS), 6, dtype="float64")
    XtX = X.transpose(1, 2) @ X
    Xty = (X.transpose(1, 2) @ y[..., None])[..., 0]
    coef = torch.linalg.solve(XtX + 1e-5 * torch.eye(X.shape[-1], dtype=X.dtype), Xty)
    return XtX, Xty, coef, (X @ coef[..., None])[..., 0]


def op_gaussian_logprob():
    """Diagonal-Gaussian log-density and KL (MAML / the chapter listing's policies)."""
    import torch

    mean, act = _t((NAV_ROWS, NAV_ACT), 7), _t((NAV_ROWS, NAV_ACT), 8, -3, 3)
    log_std = _t((NAV_ACT,), 9, -1, 0.5)
    lp = (-0.5 * ((act - mean) / log_std.exp()) ** 2 - log_std - 0.5 * np.log(2 * np.pi)).sum(-1)
    mean2, log_std2 = _t((NAV_ROWS, NAV_ACT), 11), _t((NAV_ACT,), 12, -1, 0.5)
    kl = (log_std2 - log_std + (log_std.exp() ** 2 + (mean - mean2) ** 2) / (2 * log_std2.exp() ** 2) - 0.5).sum(-1)
    normal = torch.distributions.Normal(mean, log_std.exp()).log_prob(act)
    return lp, kl, normal


def op_trpo_hvp_cg():
    """TRPO: KL Hessian-vector products by double backward through the policy, 10 CG iterations, dots."""
    import torch

    ps = _mlp_params((NAV_OBS, NAV_HIDDEN, NAV_HIDDEN, NAV_ACT), 30)
    x = _t((HVP_ROWS, NAV_OBS), 13)
    mean_old = _mlp(ps, x).detach()

    def kl_fn():
        m = _mlp(ps, x)
        return 0.5 * ((m - mean_old) ** 2).sum(-1).mean()

    grads = torch.autograd.grad(kl_fn(), ps, create_graph=True)
    flat_g = torch.cat([g.reshape(-1) for g in grads])

    def hvp(v):
        hv = torch.autograd.grad(flat_g @ v, ps, retain_graph=True)
        return torch.cat([h.reshape(-1) for h in hv]) + 1e-5 * v

    b = _t(flat_g.shape, 14)
    xs, r, p = torch.zeros_like(b), b.clone(), b.clone()
    rr = r @ r
    out = []
    for _ in range(10):
        Ap = hvp(p)
        alpha = rr / (p @ Ap)
        xs, r = xs + alpha * p, r - alpha * Ap
        rr_new = r @ r
        p, rr = r + (rr_new / rr) * p, rr_new
        out.append(Ap)
    return (xs, torch.stack(out))


def op_gru_cell():
    """RL² rollouts: torch.gru_cell on the GRU's own weights (bandits: 512 trials)."""
    import torch

    H, I = RL2_HIDDEN, RL2_BANDIT_IN
    w_ih, w_hh = _t((3 * H, I), 40, -0.125, 0.125), _t((3 * H, H), 41, -0.125, 0.125)
    b_ih, b_hh = _t((3 * H,), 42, -0.125, 0.125), _t((3 * H,), 43, -0.125, 0.125)
    h = torch.zeros(RL2_BANDIT_BATCH, H)
    hs = []
    for t in range(10):
        h = torch.gru_cell(_t((RL2_BANDIT_BATCH, I), 50 + t), h, w_ih, w_hh, b_ih, b_hh)
        hs.append(h)
    return (torch.stack(hs),)


def op_gru_sequence_backward():
    """RL² PPO update: nn.GRU over whole trials (MDPs: 128 trials x 100 steps), heads, backward."""
    import torch

    gru = torch.nn.GRU(RL2_MDP_IN, RL2_HIDDEN)  # its initial weights are overwritten below
    with torch.no_grad():
        for i, p in enumerate(gru.parameters()):
            p.copy_(_t(p.shape, 60 + i, -0.125, 0.125))
    x = _t((100, RL2_MDP_BATCH, RL2_MDP_IN), 70)
    out, hN = gru(x)
    head = _mlp_params((RL2_HIDDEN, 5), 71)
    logits = _mlp(head, out.reshape(-1, RL2_HIDDEN))
    loss = (logits * _t(logits.shape, 72)).sum()
    g = torch.autograd.grad(loss, list(gru.parameters()) + head)
    return (out, hN, *g)


def op_rl2_gru_numpy_blas():
    """RL²: the rollout's gru_cell and GRUSequence's forward and hand-written backward (products in numpy's
    OpenBLAS through hrlmeta.blas; MDPs: 128 trials x 100 steps), heads, gradients."""
    import torch

    from .algos import rl2

    H, I = RL2_HIDDEN, RL2_MDP_IN
    w_ih, w_hh = _t((3 * H, I), 160, -0.125, 0.125, grad=True), _t((3 * H, H), 161, -0.125, 0.125, grad=True)
    b_ih, b_hh = _t((3 * H,), 162, -0.125, 0.125, grad=True), _t((3 * H,), 163, -0.125, 0.125, grad=True)
    x = _t((100, RL2_MDP_BATCH, I), 170)
    with torch.no_grad():
        h, hs = torch.zeros(RL2_MDP_BATCH, H), []
        for t in range(10):
            h = rl2.gru_cell(x[t], h, w_ih.t(), w_hh.t(), b_ih, b_hh)
            hs.append(h)
    out = rl2.GRUSequence.apply(x, torch.zeros(RL2_MDP_BATCH, H), w_ih, w_hh, b_ih, b_hh)
    loss = (out * _t(out.shape, 171)).sum()
    g = torch.autograd.grad(loss, [w_ih, w_hh, b_ih, b_hh])
    return (torch.stack(hs), out.detach(), *g)


def op_maml_mlp_numpy_blas_second_order():
    """MAML: the policy MLP's products in numpy's OpenBLAS (hrlmeta.blas.matmul), per-task adapted
    weights, a second-order meta-gradient and a forward-mode product (nav2d sizes, 20 tasks x 400 rows)."""
    import torch

    from . import blas

    ps = [p.requires_grad_(True) for p in _mlp_params((2, 100, 100, 2), 180)]
    x = _t((20, 400, 2), 181)

    def f(params, rows):
        h = rows
        for i in range(0, len(params), 2):
            b = params[i + 1]
            h = blas.matmul(h, params[i]) + (b.unsqueeze(-2) if b.dim() > 1 else b)
            if i + 2 < len(params):
                h = torch.relu(h)
        return h

    inner = (f([p.expand(20, *p.shape) for p in ps], x) ** 2).mean()
    grads = torch.autograd.grad(inner, ps, create_graph=True)
    adapted = [p - 0.1 * g for p, g in zip(ps, grads)]
    outer = (f(adapted, x) * _t((20, 400, 2), 182)).mean()
    meta = torch.autograd.grad(outer, ps)
    _, jv = torch.func.jvp(lambda w: f([w] + [p.detach() for p in ps[1:]], x),  # noqa: B023
                           (ps[0].detach(),), (_t(ps[0].shape, 183),))
    return (*meta, jv)


def op_log_softmax_categorical():
    """RL²'s written-out log-softmax, torch.log_softmax / softmax (DIAYN discriminator, CartPole), gather."""
    import torch

    logits = _t((RL2_BANDIT_BATCH * 10, 5), 80, -5, 5)
    z = logits - logits.amax(dim=-1, keepdim=True)
    ls_written = z - z.exp().sum(dim=-1, keepdim=True).log()
    ls = torch.log_softmax(_t((SAC_BATCH * 10, 10), 81, -5, 5), dim=-1)
    sm = torch.softmax(_t((NAV_ROWS, 2), 82, -5, 5), dim=-1)
    act = torch.from_numpy((_u((RL2_BANDIT_BATCH * 10,), 83, 0, 5) // 1).astype(np.int64))
    return ls_written, ls, sm, ls_written.gather(-1, act[:, None]), torch.cumsum(sm.double(), dim=-1)


def op_elementwise():
    """exp, log, tanh, sigmoid, softplus, sqrt, pow, log1p, clamp on 64k floats (float32 and float64)."""
    import torch

    x, pos = _t((65536,), 90, -8, 8), _t((65536,), 91, 1e-3, 10)
    x64 = x.double()
    return (x.exp(), pos.log(), x.tanh(), torch.sigmoid(x), torch.nn.functional.softplus(x), pos.sqrt(),
            pos ** 1.5, torch.log1p(pos), x.clamp(-2, 2), x64.exp(), pos.double().log(), x64.tanh())


def op_reductions():
    """sum, mean, var, std, norm, amax, logsumexp, cumsum over rows, columns and everything."""
    import torch

    x = _t((NAV_TASKS * NAV_TRAJ, NAV_H), 95, -3, 3)
    return (x.sum(), x.sum(0), x.sum(1), x.mean(1), x.var(1), x.std(), x.norm(), x.amax(1),
            torch.logsumexp(x, 1), x.cumsum(1), x.double().sum(1))


def op_random_draws():
    """torch.randn / rand / normal_ / randint / multinomial with a seeded generator (vectorised kernels)."""
    import torch

    g = torch.Generator().manual_seed(1234)
    return (torch.randn(4099, generator=g), torch.rand(4099, generator=g),
            torch.empty(257, 3).normal_(0.5, 2.0, generator=g), torch.randint(0, 7, (1031,), generator=g),
            torch.multinomial(torch.softmax(_t((64, 5), 99), -1), 3, replacement=True, generator=g),
            torch.randn(4099, dtype=torch.float64, generator=g))


def _stacked(S, B, sizes, seed, act="relu"):
    """S independent MLPs in one :func:`hrlmeta.blas.baddbmm` per layer (SAC / TD3 twin critics; batched seeds)."""
    import torch

    from . import blas

    ws = [_t((S, a, b), seed + i, -a**-0.5, a**-0.5, grad=True) for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:]))]
    bs = [_t((S, 1, b), seed + 50 + i, -0.1, 0.1, grad=True) for i, b in enumerate(sizes[1:])]
    x = _t((S, B, sizes[0]), seed + 99)
    for i, (w, b) in enumerate(zip(ws, bs)):
        x = blas.baddbmm(b, x, w)
        if i < len(ws) - 1:
            x = torch.relu(x) if act == "relu" else torch.tanh(x)
    g = torch.autograd.grad((x * _t(x.shape, seed + 98)).sum(), ws + bs)
    return (x, *g)


def op_baddbmm_sac_critics():
    """DIAYN's SAC: twin critics stacked, one baddbmm per layer (32 units, batch 128), backward."""
    return _stacked(2, SAC_BATCH, (SAC_IN + 2, SAC_HIDDEN, SAC_HIDDEN, 1), 100)


def op_baddbmm_td3_critics():
    """TD3 / HIRO / FeUdal: twin critics (64 units, batch 100), backward."""
    return _stacked(2, TD3_BATCH, (TD3_IN, TD3_HIDDEN, TD3_HIDDEN, 1), 200)


def op_bmm_batched_seeds_nav2d():
    """Batched seeds: S policies of MAML's width in one bmm per layer (forward + backward)."""
    import torch

    S = SEEDS
    ws = [_t((S, a, b), 300 + i, -a**-0.5, a**-0.5, grad=True)
          for i, (a, b) in enumerate(zip((NAV_OBS, NAV_HIDDEN, NAV_HIDDEN), (NAV_HIDDEN, NAV_HIDDEN, NAV_ACT)))]
    x = _t((S, NAV_ROWS, NAV_OBS), 310)
    for i, w in enumerate(ws):
        x = torch.bmm(x, w)
        if i < len(ws) - 1:
            x = torch.relu(x)
    g = torch.autograd.grad((x * _t(x.shape, 311)).sum(), ws)
    return (x, *g)


def op_bmm_batched_seeds_gru():
    """Batched seeds: S GRU-sized products (512 trials x 64 units) in one bmm, and baddbmm."""
    import torch

    a, b = _t((SEEDS, RL2_BANDIT_BATCH, RL2_HIDDEN), 320), _t((SEEDS, RL2_HIDDEN, 3 * RL2_HIDDEN), 321)
    return torch.bmm(a, b), torch.baddbmm(_t((SEEDS, 1, 3 * RL2_HIDDEN), 322), a, b)


def op_hdqn_onehot_qnet():
    """h-DQN's Q-network on one-hot inputs (row sums of W1, relu, @ W2) and its hand-written gradient
    (stacked over seeds, products through :mod:`hrlmeta.blas`)."""
    import torch

    from . import blas

    W1, b1 = _t((HDQN_IN, HDQN_HIDDEN), 400), _t((HDQN_HIDDEN,), 401)
    W2, b2 = _t((HDQN_HIDDEN, 6), 402), _t((6,), 403)
    idx = torch.from_numpy((_u((HDQN_BATCH, 2), 404, 0, HDQN_IN) // 1).astype(np.int64))
    pre = b1 + W1[idx].sum(1)
    h = pre.clamp(min=0.0)[None]
    q = blas.mm(h, W2[None]).add_(b2)
    dq = _t(q.shape, 405)
    dh = blas.mm(dq, W2[None].transpose(1, 2)).mul_(pre > 0)
    return q, dh, blas.mm(h.transpose(1, 2), dq)


def op_mlp_small_tanh():
    """CartPole-meta categorical policy (4-32-32-2) and the chapter listing's tanh policy (2-64-64-2)."""
    import torch

    cp = _mlp_params((4, CP_HIDDEN, CP_HIDDEN, 2), 500)
    y1 = torch.log_softmax(_mlp(cp, _t((2000, 4), 501)), -1)
    sb = _mlp_params((2, 64, 64, 2), 510)
    y2 = torch.tanh(_mlp(sb, _t((100, 2), 511)))
    g = torch.autograd.grad(y1.sum() + y2.sum(), cp + sb)
    return (y1, y2, *g)


def _adam(kind: str):
    import torch

    ps = [torch.nn.Parameter(_t(s, 600 + i)) for i, s in enumerate(((NAV_OBS, NAV_HIDDEN), (NAV_HIDDEN,),
                                                                      (NAV_HIDDEN, NAV_HIDDEN), (NAV_HIDDEN,)))]
    kw = {"loop": {"foreach": False}, "foreach": {"foreach": True}, "fused": {"fused": True}}[kind]
    opt = torch.optim.Adam(ps, lr=3e-3, eps=1e-5, **kw)
    for step in range(3):
        for i, p in enumerate(ps):
            p.grad = _t(p.shape, 700 + 10 * step + i)
        opt.step()
    return tuple(p.detach() for p in ps)


def op_adam_for_loop():
    """torch.optim.Adam, single-tensor (for-loop) implementation, 3 steps."""
    return _adam("loop")


def op_adam_foreach():
    """torch.optim.Adam(foreach=True), 3 steps (RL², DIAYN, TD3)."""
    return _adam("foreach")


def op_adam_fused():
    """torch.optim.Adam(fused=True), 3 steps (batched-seed code)."""
    return _adam("fused")


def op_hdqn_adam():
    """h-DQN's hand-written Adam on one flat tensor (mul_, addcmul_, sqrt, div, 3 steps)."""
    import torch

    theta = _t((HDQN_IN * HDQN_HIDDEN + 2 * HDQN_HIDDEN,), 800)
    m, v = torch.zeros_like(theta), torch.zeros_like(theta)
    for t in range(1, 4):
        g = _t(theta.shape, 800 + t)
        m.mul_(0.9).add_(g, alpha=0.1)
        v.mul_(0.999).addcmul_(g, g, value=0.001)
        theta -= 2.5e-4 * (m / (1 - 0.9**t)) / ((v / (1 - 0.999**t)).sqrt() + 1e-8)
    return (theta,)


def op_numpy_ufuncs():
    """numpy exp, log, tanh, sqrt, hypot / norm, sum on 64k doubles (environments, tabular baselines)."""
    x, pos = _u((65536,), 900, -8, 8, "float64"), _u((65536,), 901, 1e-3, 10, "float64")
    xy = _u((32768, 2), 902, -10, 10, "float64")
    return (np.exp(x), np.log(pos), np.tanh(x), np.sqrt(pos), np.linalg.norm(xy, axis=-1), x.sum(),
            np.exp(x.astype(np.float32)), np.log(pos.astype(np.float32)))


def op_numpy_blas_lapack():
    """numpy matmul (OpenBLAS dgemm) and linalg.solve (LAPACK gesv) in float64."""
    A, B = _u((200, 60), 910, dtype="float64"), _u((60, 60), 911, dtype="float64")
    M = B @ B.T + 60 * np.eye(60)
    return (A @ B, np.linalg.solve(M, _u((60, 7), 912, dtype="float64")), A.T @ A)


#: every probed operation, name -> function returning a tuple of outputs
OPS: dict[str, Callable[[], tuple]] = {
    name.removeprefix("op_"): fn for name, fn in sorted(globals().items())
    if name.startswith("op_") and callable(fn)
}


def compute(names=None) -> dict[str, str]:
    """Hash of every operation's outputs, computed in this process on one intra-op thread."""
    import torch

    from .numerics import configure_torch

    configure_torch(1)
    torch.manual_seed(0)
    out = {}
    for name in (OPS if names is None else names):
        out[name] = tensor_hash(*OPS[name]())
    return out


def describe(name: str) -> str:
    return (OPS[name].__doc__ or "").strip().splitlines()[0]


def compare(got: dict[str, str], want: dict[str, str]) -> list[str]:
    """One line per operation whose hash differs (or is missing on either side), naming the operation."""
    lines = []
    for name in sorted(set(got) | set(want)):
        g, w = got.get(name), want.get(name)
        if g != w:
            what = describe(name) if name in OPS else "(not probed here)"
            lines.append(f"  op {name}: got {(g or '(not run)')[:16]}, committed {(w or '(none)')[:16]} -- {what}")
    return lines
