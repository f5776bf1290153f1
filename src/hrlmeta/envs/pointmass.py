"""Continuous 2D point mass for unsupervised skill discovery (DIAYN's 2D navigation setting).

The state is the point's position in the box ``[-bound, bound]^2``; an action ``a`` in ``[-1, 1]^2`` (the
tanh-squashed policy output) moves the point by ``max_speed * a`` per step; positions are clipped to the box
(the point slides along the outer walls). Episodes have a fixed horizon and no termination.

Two layouts:

- ``open``: the empty box; the point starts at ``start`` (default the centre).
- ``passage``: the box split by a vertical wall at ``x = wall_x`` with one narrow opening
  ``|y - gap_center| <= gap / 2``; the point starts in the left room. A move whose segment crosses the wall
  line outside the opening keeps its ``y`` component and loses its ``x`` component (the point stops at its
  side of the wall, sliding along it); a move through the opening passes.

Everything is batched over a leading batch dimension: ``step`` advances every point at once, on torch
tensors (training) or numpy arrays (the analysis, which never imports torch: the same operations in the same
order and precision, so the same numbers). The environment holds no random state.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

LAYOUTS = ("open", "passage")


@dataclass(frozen=True)
class PointMass:
    layout: str = "open"
    bound: float = 1.0           # positions in [-bound, bound]^2
    max_speed: float = 0.1       # displacement per step = max_speed * a, a in [-1, 1]^2
    horizon: int = 100
    start: tuple = (0.0, 0.0)
    wall_x: float = 0.0          # passage layout: the wall's x coordinate
    gap: float = 0.2             # passage layout: width of the opening
    gap_center: float = 0.0      # passage layout: y of the opening's centre

    obs_dim: int = 2
    act_dim: int = 2

    def __post_init__(self):
        if self.layout not in LAYOUTS:
            raise ValueError(f"env.layout: expected one of {LAYOUTS}, got {self.layout!r}")
        if self.bound <= 0:
            raise ValueError(f"env.bound must be > 0, got {self.bound}")
        if self.max_speed <= 0:
            raise ValueError(f"env.max_speed must be > 0, got {self.max_speed}")
        if self.horizon < 1:
            raise ValueError(f"env.horizon must be >= 1, got {self.horizon}")
        if len(self.start) != 2 or any(abs(float(c)) > self.bound for c in self.start):
            raise ValueError(f"env.start must be 2 coordinates inside the box, got {self.start}")
        if self.layout == "passage":
            if not -self.bound < self.wall_x < self.bound:
                raise ValueError(f"env.wall_x must lie strictly inside the box, got {self.wall_x}")
            if self.gap <= 0:
                raise ValueError(f"env.gap must be > 0, got {self.gap}")
            if float(self.start[0]) == self.wall_x:
                raise ValueError("env.start must not lie on the wall")

    def reset(self, n: int, dtype=None, device="cpu"):
        """Start positions, shaped (n, 2): a float32 torch tensor (``dtype``: another torch dtype), or a numpy
        array where ``dtype`` is a numpy dtype."""
        if dtype is not None and not _is_torch_dtype(dtype):
            return np.broadcast_to(np.asarray(self.start, dtype=dtype), (n, 2)).copy()
        import torch

        return torch.tensor(self.start, dtype=dtype or torch.float32, device=device).expand(n, 2).clone()

    def step(self, pos, action):
        """New positions for positions ``pos`` (n, 2) and actions ``action`` (n, 2) in [-1, 1]: torch tensors,
        or numpy arrays (the same operations)."""
        xp = np if isinstance(pos, np.ndarray) else _torch()
        a = xp.clip(action, -1.0, 1.0)
        new = xp.clip(pos + self.max_speed * a, -self.bound, self.bound)
        if self.layout == "passage":
            x0, x1 = pos[:, 0], new[:, 0]
            crosses = (x0 < self.wall_x) != (x1 < self.wall_x)
            dx = x1 - x0
            t = (self.wall_x - x0) / xp.where(crosses, dx, xp.ones_like(dx))
            y_cross = pos[:, 1] + t * (new[:, 1] - pos[:, 1])
            blocked = crosses & (abs(y_cross - self.gap_center) > self.gap / 2)
            new = xp.stack([xp.where(blocked, x0, x1), new[:, 1]], 1)
        return new

    def rollout(self, policy, n: int, generator=None, dtype=None):
        """Positions of ``n`` episodes, shaped (horizon + 1, n, 2); ``policy(pos, t) -> action``. Torch tensors,
        or numpy arrays where ``dtype`` is a numpy dtype."""
        pos = self.reset(n, dtype=dtype)
        out = [pos]
        for t in range(self.horizon):
            pos = self.step(pos, policy(pos, t))
            out.append(pos)
        return (np if isinstance(pos, np.ndarray) else _torch()).stack(out)


def _torch():
    import torch

    return torch


def _is_torch_dtype(dtype) -> bool:
    return type(dtype).__module__ == "torch"


def coverage(positions, bound: float, cells: int) -> float:
    """Fraction of the ``cells x cells`` grid over ``[-bound, bound]^2`` holding at least one of the
    ``positions`` (any shape ending in 2; a numpy array or a CPU torch tensor, same numbers)."""
    p = (positions.detach().cpu().numpy() if hasattr(positions, "detach") else np.asarray(positions)).reshape(-1, 2)
    idx = np.clip(np.floor((p + bound) / (2 * bound) * cells).astype(np.int64), 0, cells - 1)
    flat = np.unique(idx[:, 0] * cells + idx[:, 1])
    return float(flat.size) / float(cells * cells)
