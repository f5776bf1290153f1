"""h-DQN (Kulkarni, Narasimhan, Saeedi & Tenenbaum 2016, Algorithm 1) with neural Q-functions, on the
stochastic chain of Sec. 4.1.

Two Q-networks: the controller Q1(s, a; g) (input one-hot(s) ++ one-hot(g), output one value per action)
and the meta-controller Q2(s, g) (input one-hot(s), output one value per goal; goals = every state).
Algorithm 1, as the paper writes it::

    for each episode:
        s = s2;  g = epsGreedy(s, G, eps2, Q2)
        while s is not terminal:
            F = 0;  s0 = s
            while not (s is terminal or g reached):
                a = epsGreedy({s, g}, A, eps1_g, Q1);  execute a -> s', f;  r = 1 if s' == g else 0
                store ({s, g}, a, r, {s', g}) in D1
                updateParams(L1, D1);  updateParams(L2, D2)       # one minibatch step each, every step
                F += f;  s = s'
            store (s0, g, F, s') in D2                            # from the goal-choice state s0
            if s is not terminal: g = epsGreedy(s, G, eps2, Q2)
        anneal eps2 and (adaptively) eps1_g

Losses (the paper's Eq. 3 and its meta analogue): y1 = r + gamma max_a' Q1(s', a'; theta1^-, g) with no
bootstrap when s' is terminal or s' == g (the controller's episode ends there); y2 = F + gamma max_g'
Q2(s_{t+N}, g'; theta2^-) with no bootstrap when s_{t+N} is terminal. theta^- are the parameters "from the
previous iteration ... held fixed" (``target_update`` = 1: the parameters before the current step, i.e. a
stop-gradient target; larger values keep a DQN-style frozen copy refreshed every ``target_update`` steps).

Speed: both networks are tiny (one hidden layer), both minibatch losses are summed and minimised with
*one* backward pass and *one* Adam step over both parameter sets (Adam is elementwise per parameter and
the sets are disjoint, so this equals two separate updates); action and goal choices read the networks'
weights through zero-copy numpy views (no autograd on the acting path). torch runs on one thread.

Choices (config/config.yaml): sizes, batch, optimiser, replay capacities and gamma where the paper's
Sec. 4.1 is silent; the epsilon schedules and "g reached" exactly as :mod:`.hdqn_tabular`.

The Q-network (:class:`OneHotMLP`, seed-batched :class:`OneHotMLPSeeds`) takes one-hot inputs (integer
indices: its first layer is a sum of rows of W1; what the chain runs) or dense inputs (a float tensor: its
first layer is a matrix product), and :func:`td_step` is the one minibatch Q-learning step of both levels;
the learner check ``learner_checks`` (``dqn_frozenlake``: one-hot states; ``dqn_cartpole``: dense
observations) trains a flat DQN with the same network, :func:`td_step` and :class:`Adam`. ``clip_delta``
clips the TD error of the gradient to [-clip_delta, clip_delta] as the authors' released code does
(``NeuralQLearner.lua``: ``clip_delta``, ``run_gpu``: ``clip_delta=10``), which is the gradient of a Huber
loss with threshold ``clip_delta``; None (the default) keeps the squared error.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .. import blas


@dataclass(frozen=True)
class HDQNConfig:
    n_episodes: int
    hidden: int = 32
    lr: float = 2.5e-4
    gamma: float = 0.99
    batch_size: int = 32
    replay_ctrl: int = 1_000_000
    replay_meta: int = 50_000
    target_update: int = 1
    clip_delta: float | None = None
    eps_start: float = 1.0
    eps_end: float = 0.1
    anneal_steps: int = 50_000
    ctrl_eps_mode: str = "linear"
    success_window: int = 100
    p_right: float = 0.5
    reward_visited: float = 1.0
    reward_unvisited: float = 0.01
    n_states: int = 6
    start: int = 1
    max_steps: int = 100_000
    torch_threads: int = 1

    def check(self) -> None:
        if not 0.0 < self.lr <= 1.0:
            raise ValueError(f"lr: {self.lr} is outside (0, 1]")
        if not 0.0 <= self.gamma <= 1.0:
            raise ValueError(f"gamma: {self.gamma} is outside [0, 1]")
        from ..envs.chain import check_params

        check_params(self.p_right, self.reward_visited, self.reward_unvisited)
        for key in ("eps_start", "eps_end"):
            if not 0.0 <= getattr(self, key) <= 1.0:
                raise ValueError(f"{key}: {getattr(self, key)} is not a probability in [0, 1]")
        if self.ctrl_eps_mode not in ("linear", "success_rate"):
            raise ValueError(f"controller_epsilon: {self.ctrl_eps_mode!r} is not one of ['linear', 'success_rate']")
        for key in ("hidden", "batch_size", "replay_ctrl", "replay_meta", "target_update", "n_episodes"):
            if getattr(self, key) < 1:
                raise ValueError(f"{key}: {getattr(self, key)} must be >= 1")
        if self.clip_delta is not None and not self.clip_delta > 0:
            raise ValueError(f"clip_delta: {self.clip_delta} must be > 0 (or None: no clipping)")


def _q_np(params, idx) -> np.ndarray:
    """Q-values of one input of a one-hidden-layer ReLU network with numpy parameters (W1, b1, W2, b2):
    ``idx`` a tuple of ints (the active one-hot inputs: the first layer is a sum of W1's rows) or a float
    numpy vector of length n_in (a dense input: the first layer is ``x @ W1``)."""
    W1, b1, W2, b2 = params
    if isinstance(idx, np.ndarray) and idx.dtype.kind == "f":
        return np.maximum(idx @ W1 + b1, 0.0) @ W2 + b2
    h = b1 + W1[idx[0]]
    for i in idx[1:]:
        h = h + W1[i]
    return np.maximum(h, 0.0) @ W2 + b2


def _td_error_grad(q, act, y, B: int, clip: float | None, dim: int):
    """d/dq of mean_b (q[b, act[b]] - y[b])^2 (the TD error clipped to [-clip, clip] where ``clip`` is set:
    the gradient of a Huber loss), along the action dimension ``dim`` of ``q``."""
    err = q.gather(dim, act.unsqueeze(dim)) - y.unsqueeze(dim)
    if clip is not None:
        err = err.clamp(-clip, clip)
    dq = torch.zeros_like(q)
    dq.scatter_(dim, act.unsqueeze(dim), (2.0 / B) * err)
    return dq


class OneHotMLP:
    """Q-network with one hidden ReLU layer on one-hot inputs: ``q = relu(b1 + sum_k W1[i_k]) @ W2 + b2``
    (the first layer of a one-hot input is a sum of rows of W1), or on dense inputs ``x`` (a float tensor):
    ``q = relu(x @ W1 + b1) @ W2 + b2``; one-hot is the special case of a dense input of zeros and ones.
    Parameters live in slices of one flat tensor so that one Adam step updates every network at once;
    gradients are written by hand into the matching slices of a flat gradient tensor (checked against
    autograd in the tests)."""

    def __init__(self, theta, grad, offset: int, n_in: int, hidden: int, n_out: int, gen=None) -> None:
        shapes = ((n_in, hidden), (hidden,), (hidden, n_out), (n_out,))
        self.p, self.g = [], []
        for shape in shapes:
            n = int(np.prod(shape))
            self.p.append(theta[offset:offset + n].view(shape))
            self.g.append(grad[offset:offset + n].view(shape))
            offset += n
        self.end = offset
        if gen is not None:  # torch.nn.Linear's default initialisation: U(-1/sqrt(fan_in), 1/sqrt(fan_in))
            for p, fan_in in zip(self.p, (n_in, n_in, hidden, hidden)):
                k = 1.0 / np.sqrt(fan_in)
                p.copy_(torch.rand(p.shape, generator=gen, dtype=p.dtype) * (2 * k) - k)
        self.np = [p.numpy() for p in self.p]  # zero-copy views for the acting path

    @staticmethod
    def size(n_in: int, hidden: int, n_out: int) -> int:
        return n_in * hidden + hidden + hidden * n_out + n_out

    def forward(self, idx):
        """Q-values (B, n_out) for one-hot inputs with ones at the index tensors in ``idx`` (a tuple) or for
        dense inputs ``idx`` (a float tensor (B, n_in)); also returns the hidden pre-activation for
        :meth:`td_backward`."""
        W1, b1, W2, b2 = self.p
        if torch.is_tensor(idx) and idx.is_floating_point():
            pre = idx @ W1 + b1
            return pre.clamp(min=0.0) @ W2 + b2, pre
        pre = b1 + W1[idx[0]]
        for i in idx[1:]:
            pre = pre + W1[i]
        return pre.clamp(min=0.0) @ W2 + b2, pre

    def q_np(self, idx) -> np.ndarray:
        """Q-values of one input (a tuple of ints, or a float numpy vector) in numpy, reading the live
        parameters."""
        return _q_np(self.np, idx)

    def td_backward(self, idx, q, pre, act, y, clip_delta: float | None = None) -> None:
        """Write d/dtheta of mean_b (q[b, act[b]] - y[b])^2 into the gradient slices (the TD error clipped
        to [-clip_delta, clip_delta] where set)."""
        W1, b1, W2, b2 = self.p
        gW1, gb1, gW2, gb2 = self.g
        B = q.shape[0]
        if clip_delta is None:
            dq = torch.zeros_like(q)
            dq.scatter_(1, act[:, None], (2.0 / B) * (q.gather(1, act[:, None]) - y[:, None]))
        else:
            dq = _td_error_grad(q, act, y, B, clip_delta, 1)
        h = pre.clamp(min=0.0)
        torch.mm(h.t(), dq, out=gW2)
        gb2.copy_(dq.sum(0))
        dh = (dq @ W2.t()) * (pre > 0)
        if torch.is_tensor(idx) and idx.is_floating_point():
            torch.mm(idx.t(), dh, out=gW1)
        else:
            gW1.zero_()
            for i in idx:
                gW1.index_add_(0, i, dh)
        gb1.copy_(dh.sum(0))


class Adam:
    """Adam (Kingma & Ba 2015; torch.optim.Adam's defaults betas (0.9, 0.999), eps 1e-8) on one flat tensor."""

    def __init__(self, theta, lr: float, betas=(0.9, 0.999), eps: float = 1e-8) -> None:
        self.theta, self.lr, self.b1, self.b2, self.eps = theta, lr, betas[0], betas[1], eps
        self.m, self.v = torch.zeros_like(theta), torch.zeros_like(theta)
        self.t = 0

    def step(self, grad) -> None:
        self.t += 1
        self.m.mul_(self.b1).add_(grad, alpha=1 - self.b1)
        self.v.mul_(self.b2).addcmul_(grad, grad, value=1 - self.b2)
        c1, c2 = 1 - self.b1 ** self.t, 1 - self.b2 ** self.t
        denom = (self.v / c2).sqrt_().add_(self.eps)
        self.theta.addcdiv_(self.m, denom, value=-self.lr / c1)


def _argmax_ties(q: np.ndarray, rng: np.random.Generator) -> int:
    best = np.flatnonzero(q == q.max())
    return int(best[0] if best.size == 1 else best[rng.integers(best.size)])


class OneHotMLPSeeds:
    """:class:`OneHotMLP` for ``S`` seeds at once: the parameters are views ``(S, *shape)`` of the rows of
    one ``(S, P)`` tensor (row ``k`` = seed ``k``), the forward and backward passes are batched matrix
    products over seeds, and the acting path reads seed ``k``'s row through zero-copy numpy views. Seed
    ``k``'s initial weights are drawn from ``gens[k]`` exactly as :class:`OneHotMLP` draws them. Inputs are
    one-hot (an integer index tensor) or dense (a float tensor), as for :class:`OneHotMLP`."""

    def __init__(self, theta, grad, offset: int, n_in: int, hidden: int, n_out: int, gens=None) -> None:
        S = theta.shape[0]
        shapes = ((n_in, hidden), (hidden,), (hidden, n_out), (n_out,))
        self.p, self.g = [], []
        for shape in shapes:
            n = int(np.prod(shape))
            self.p.append(theta[:, offset:offset + n].view(S, *shape))
            self.g.append(grad[:, offset:offset + n].view(S, *shape))
            offset += n
        self.end, self.n_in = offset, n_in
        if gens is not None:
            for k, gen in enumerate(gens):
                for p, fan_in in zip(self.p, (n_in, n_in, hidden, hidden)):
                    b = 1.0 / np.sqrt(fan_in)
                    p[k].copy_(torch.rand(p.shape[1:], generator=gen, dtype=p.dtype) * (2 * b) - b)
        self.np = [[p[k].numpy() for p in self.p] for k in range(S)]
        self.rows = torch.arange(S).unsqueeze(1)

    def forward(self, idx):
        """Q-values (S, B, n_out) for one-hot inputs with ones at the indices ``idx`` (S, B, m) (m ones per
        input; an integer tensor) or for dense inputs ``idx`` (S, B, n_in) (a float tensor); also returns
        the hidden pre-activation for :meth:`td_backward`."""
        W1, b1, W2, b2 = self.p
        if idx.is_floating_point():
            pre = blas.mm(idx, W1).add_(b1.unsqueeze(1))
            return blas.mm(pre.clamp(min=0.0), W2).add_(b2.unsqueeze(1)), pre
        rows = self.rows.unsqueeze(2)
        pre = W1[rows, idx].sum(2) + b1.unsqueeze(1)
        return blas.mm(pre.clamp(min=0.0), W2).add_(b2.unsqueeze(1)), pre

    def q_np(self, k: int, idx) -> np.ndarray:
        """Q-values of one input (a tuple of ints, or a float numpy vector) of seed ``k`` in numpy, reading
        the live parameters."""
        return _q_np(self.np[k], idx)

    def td_backward(self, idx, q, pre, act, y, clip_delta: float | None = None) -> None:
        """Per seed, write d/dtheta of mean_b (q[b, act[b]] - y[b])^2 into the gradient rows (the TD error
        clipped to [-clip_delta, clip_delta] where set)."""
        W1, b1, W2, b2 = self.p
        gW1, gb1, gW2, gb2 = self.g
        S, B = q.shape[0], q.shape[1]
        if clip_delta is None:
            dq = torch.zeros_like(q)
            dq.scatter_(2, act[:, :, None], (2.0 / B) * (q.gather(2, act[:, :, None]) - y[:, :, None]))
        else:
            dq = _td_error_grad(q, act, y, B, clip_delta, 2)
        h = pre.clamp(min=0.0)
        gW2.copy_(blas.mm(h.transpose(1, 2), dq))
        gb2.copy_(dq.sum(1))
        dh = blas.mm(dq, W2.transpose(1, 2)).mul_(pre > 0)
        if idx.is_floating_point():
            gW1.copy_(blas.mm(idx.transpose(1, 2), dh))
            gb1.copy_(dh.sum(1))
            return
        m = idx.shape[2]
        flat = torch.zeros(S * self.n_in, dh.shape[2], dtype=dh.dtype)
        flat.index_add_(0, (self.rows.unsqueeze(2) * self.n_in + idx).reshape(-1),
                        dh.unsqueeze(2).expand(S, B, m, -1).reshape(S * B * m, -1))
        gW1.copy_(flat.view(S, self.n_in, -1))
        gb1.copy_(dh.sum(1))


#: rows of the seeds' parameter tensor are padded to a multiple of this many floats so that every seed's
#: elementwise work (Adam) takes the same vectorised path whatever the number of seeds (see
#: :data:`hrlmeta.algos.sac.LANE`)
LANE = 64


def td_step(net: OneHotMLPSeeds, net_t: OneHotMLPSeeds | None, x, a, r, end, x2, gamma: float,
            clip_delta: float | None = None) -> None:
    """One minibatch Q-learning step of every seed's network ``net`` (the gradient written into its rows;
    the caller takes the Adam step): inputs ``x`` (S, B, ...) (one-hot indices or dense), actions ``a``
    (S, B), rewards ``r``, ``end`` (1.0 where ``x2`` is not bootstrapped) and next inputs ``x2``; the
    target ``y = r + gamma (1 - end) max_a' Q(x2, a'; theta^-)`` with theta^- the frozen copy ``net_t``, or
    with ``net_t`` None the current parameters ("the parameters from the previous iteration", a
    stop-gradient target: both halves of the minibatch in one forward pass). The step both levels of
    h-DQN take (:func:`train_seeds`) and the flat DQN of the learner check."""
    B = a.shape[1]
    if net_t is not None:
        with torch.no_grad():
            q_next = net_t.forward(x2)[0]
        q, pre = net.forward(x)
    else:  # theta^- = theta: both minibatch halves in one pass
        q_all, pre_all = net.forward(torch.cat([x, x2], dim=1))
        q, pre, q_next = q_all[:, :B], pre_all[:, :B], q_all[:, B:]
    y = r + gamma * (1.0 - end) * q_next.max(2).values
    net.td_backward(x, q, pre, a, y, clip_delta)


def train(cfg: HDQNConfig, seed: int, snapshots=(), log_meta: int = 0) -> dict:
    """One training run: a batch of one seed (:func:`train_seeds`)."""
    return train_seeds(cfg, [seed], snapshots=snapshots, log_meta=log_meta)[0]


def train_seeds(cfg: HDQNConfig, seeds, snapshots=(), log_meta: int = 0) -> list[dict]:
    """Training runs of ``seeds`` as one batch; per seed, the per-episode arrays of
    :func:`hrlmeta.algos.hdqn_tabular.train` plus ``Q1_snapshots``/``Q2_snapshots`` (the networks'
    Q-tables over every (s, g) after episode ``snapshots[i]``) and ``meta_log`` (the first ``log_meta``
    meta transitions (episode, s0, g, F, s_end) as stored in D2).

    Each seed runs Algorithm 1 in its own Python coroutine (:func:`_seed_loop`: its own environment, replay
    memories and numpy generator) up to its next gradient step, which it hands over as the minibatch indices
    it drew; then every waiting seed takes that step together (:class:`OneHotMLPSeeds`, one Adam over the
    seeds' parameter rows). A seed's draws and arithmetic do not depend on the other seeds, so its run is the
    same alone or in any batch. Seeds that have finished stay in the tensors (their rows are updated on
    repeated minibatches and never read again)."""
    cfg.check()
    torch.set_num_threads(cfg.torch_threads)
    if cfg.n_states > np.iinfo(np.int16).max:
        raise ValueError(f"n_states: {cfg.n_states} is too large for the replay's int16 states")
    seeds = [int(x) for x in seeds]
    S_, G, A, B, H = cfg.n_states, cfg.n_states, 2, cfg.batch_size, cfg.hidden
    K = len(seeds)
    rngs, gens = [], []
    for sd in seeds:
        ss = np.random.SeedSequence([sd, 0xC4A1])
        rngs.append(np.random.default_rng(ss.spawn(1)[0]))
        gens.append(torch.Generator().manual_seed(int(ss.generate_state(1)[0])))
    n_par = OneHotMLP.size(2 * S_, H, A) + OneHotMLP.size(S_, H, G)
    n_row = n_par + (-n_par) % LANE
    theta, grad = torch.zeros(K, n_row), torch.zeros(K, n_row)
    ctrl = OneHotMLPSeeds(theta, grad, 0, 2 * S_, H, A)  # input: one-hot(s) ++ one-hot(g)
    meta = OneHotMLPSeeds(theta, grad, ctrl.end, S_, H, G)
    for k, gen in enumerate(gens):  # seed k's draws in OneHotMLP's order: the controller, then the meta-controller
        ctrl_k = OneHotMLPSeeds(theta[k:k + 1], grad[k:k + 1], 0, 2 * S_, H, A, [gen])
        OneHotMLPSeeds(theta[k:k + 1], grad[k:k + 1], ctrl_k.end, S_, H, G, [gen])
    frozen = cfg.target_update > 1
    theta_t = theta.clone() if frozen else theta  # the target parameters theta^-
    ctrl_t = OneHotMLPSeeds(theta_t, grad, 0, 2 * S_, H, A) if frozen else ctrl
    meta_t = OneHotMLPSeeds(theta_t, grad, ctrl.end, S_, H, G) if frozen else meta
    opt = Adam(theta, cfg.lr)

    # replay memories D1 (controller) and D2 (meta-controller): ring buffers, one row per seed; the integer
    # fields of a transition side by side (D1: s, g + n_states, a, s2; D2: s, g, s2), then the float ones
    # (D1: r, end; D2: F, end)
    c_cap, m_cap = cfg.replay_ctrl, cfg.replay_meta
    D1i, D1f = np.zeros((K, c_cap, 4), dtype=np.int16), np.zeros((K, c_cap, 2), dtype=np.float32)
    D2i, D2f = np.zeros((K, m_cap, 3), dtype=np.int16), np.zeros((K, m_cap, 2), dtype=np.float32)
    rows = np.arange(K)[:, None]

    def update(I1: np.ndarray, I2: np.ndarray, has2: np.ndarray) -> None:
        """One minibatch step on L1 (from D1) and, for the seeds whose D2 holds a minibatch, on L2."""
        ints = torch.from_numpy(D1i[rows, I1]).long()         # (K, B, 4)
        r, end = torch.from_numpy(D1f[rows, I1]).unbind(2)
        x, a, x2 = ints[:, :, 0:2], ints[:, :, 2], ints[:, :, 1:4:2]  # inputs (s, g+S), a, (g+S, s2)
        td_step(ctrl, ctrl_t if frozen else None, x, a, r, end, x2, cfg.gamma, cfg.clip_delta)
        if has2.any():
            mi = torch.from_numpy(D2i[rows, I2]).long()           # (K, B, 3)
            F, mend = torch.from_numpy(D2f[rows, I2]).unbind(2)
            ms, mg, ms2 = mi[:, :, 0:1], mi[:, :, 1], mi[:, :, 2:3]
            td_step(meta, meta_t if frozen else None, ms, mg, F, mend, ms2, cfg.gamma, cfg.clip_delta)
            if not has2.all():
                grad[torch.from_numpy(~has2), ctrl.end:] = 0.0
        else:
            grad[:, ctrl.end:] = 0.0
        opt.step(grad)

    loops = [_seed_loop(cfg, k, rngs[k], ctrl, meta, D1i[k], D1f[k], D2i[k], D2f[k], snapshots, log_meta)
             for k in range(K)]
    results: list = [None] * K
    I1, I2 = np.zeros((K, B), dtype=np.int64), np.zeros((K, B), dtype=np.int64)
    has2 = np.zeros(K, dtype=bool)
    active = list(range(K))
    t = 0
    while active:
        waiting = []
        for k in active:
            try:
                i1, i2 = loops[k].send(None)
            except StopIteration as stop:
                results[k] = stop.value
                continue
            I1[k], has2[k] = i1, i2 is not None
            if i2 is not None:
                I2[k] = i2
            waiting.append(k)
        active = waiting
        if active:
            done = np.ones(K, dtype=bool)
            done[active] = False
            has2[done] = False
            update(I1, I2, has2)
            t += 1
            if frozen:  # every seed takes its t-th step together, so the target refresh is shared
                # (a seed's env step count equals B - 1 + its number of gradient steps)
                if (B - 1 + t) % cfg.target_update == 0:
                    theta_t.copy_(theta)
    return results


def _seed_loop(cfg: HDQNConfig, k: int, rng: np.random.Generator, ctrl: OneHotMLPSeeds, meta: OneHotMLPSeeds,
               d1i: np.ndarray, d1f: np.ndarray, d2i: np.ndarray, d2f: np.ndarray, snapshots, log_meta: int):
    """Algorithm 1 for seed ``k`` as a coroutine: yields the minibatch indices ``(i1, i2 or None)`` of each
    gradient step (drawn from ``rng`` where the step happens) and resumes once the step is taken; returns the
    per-episode arrays."""
    from ..envs.chain import transition
    from .hdqn_tabular import linear_epsilon

    S, G, A, B = cfg.n_states, cfg.n_states, 2, cfg.batch_size
    c_cap, m_cap = cfg.replay_ctrl, cfg.replay_meta
    n1 = n2 = 0
    n_ep = cfg.n_episodes
    snapshots = np.unique(np.asarray(snapshots, dtype=np.int64))
    out = {key: np.zeros(n_ep, dtype=np.int64) for key in ("steps", "decisions", "first_goal")}
    out["return"] = np.zeros(n_ep)
    out["visited6"] = np.zeros(n_ep, dtype=bool)
    out["capped"] = np.zeros(n_ep, dtype=bool)
    out["visits"] = np.zeros((n_ep, S), dtype=np.int64)
    out["epsilon"] = np.zeros(n_ep)
    out["epsilon_ctrl"] = np.zeros((n_ep, G))
    q1_snap, q2_snap, meta_log = [], [], []
    eps1 = np.ones(G)
    hist = np.zeros((G, max(cfg.success_window, 1)), dtype=np.int8)
    n_att = np.zeros(G, dtype=np.int64)
    adaptive = cfg.ctrl_eps_mode == "success_rate"
    t = 0
    snap_i = 0

    def eps_at(t):
        return linear_epsilon(t, cfg.eps_start, cfg.eps_end, cfg.anneal_steps)

    def choose_goal(s):
        if rng.random() < eps_at(t):
            return int(rng.integers(G))
        return _argmax_ties(meta.q_np(k, (s,)), rng)

    for ep in range(n_ep):
        s, visited, steps, d, total = cfg.start, False, 0, 0, 0.0
        out["epsilon"][ep] = eps_at(t)
        out["epsilon_ctrl"][ep] = eps1 if adaptive else eps_at(t)
        g = choose_goal(s)
        out["first_goal"][ep] = g
        done = cut = False
        while not (done or cut):
            F, s0, d, reached = 0.0, s, d + 1, False
            while True:
                e1 = eps1[g] if adaptive else eps_at(t)
                if rng.random() < e1:
                    a = int(rng.integers(A))
                else:
                    a = _argmax_ties(ctrl.q_np(k, (s, S + g)), rng)
                s2, visited, f, done = transition(s, a, rng.random(), cfg.p_right, S, visited, cfg.reward_visited,
                                                  cfg.reward_unvisited)
                t += 1
                steps += 1
                out["visits"][ep, s2] += 1
                reached = s2 == g
                j = n1 % c_cap
                d1i[j] = s, S + g, a, s2
                d1f[j] = float(reached), float(reached or done)
                n1 += 1
                if n1 >= B:  # one minibatch step on L1 and (once D2 holds a minibatch) on L2
                    i1 = rng.integers(0, min(n1, c_cap), B)
                    i2 = rng.integers(0, min(n2, m_cap), B) if n2 >= B else None
                    yield i1, i2
                F += f
                s = s2
                if reached or done:
                    break
                if steps >= cfg.max_steps:
                    cut = True
                    break
            if cut:
                out["capped"][ep] = True
                break
            j = n2 % m_cap
            d2i[j] = s0, g, s
            d2f[j] = F, float(done)
            n2 += 1
            if len(meta_log) < log_meta:
                meta_log.append((ep, s0, g, F, s))
            if cfg.success_window > 0:
                hist[g, n_att[g] % cfg.success_window] = reached
                n_att[g] += 1
            total += F
            if not done:
                g = choose_goal(s)
        out["steps"][ep], out["decisions"][ep], out["return"][ep] = steps, d, total
        out["visited6"][ep] = visited
        if adaptive:
            for h in range(G):
                n = min(n_att[h], cfg.success_window)
                if n:
                    eps1[h] = max(cfg.eps_end, 1.0 - hist[h, :n].sum() / n)
        if snap_i < snapshots.size and snapshots[snap_i] == ep + 1:
            q1_snap.append(np.array([[ctrl.q_np(k, (x, S + h)) for h in range(G)] for x in range(S)]))
            q2_snap.append(np.array([meta.q_np(k, (x,)) for x in range(S)]))
            snap_i += 1
    out["snapshots"] = snapshots
    out["Q1_snapshots"] = np.array(q1_snap).reshape(-1, S, G, A)
    out["Q2_snapshots"] = np.array(q2_snap).reshape(-1, S, G)
    out["meta_log"] = np.array(meta_log, dtype=float).reshape(-1, 5)
    return out
