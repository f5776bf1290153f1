"""The episodes-to-criterion rule: the first episode from which a learner's trailing mean of a per-episode
cost stays within ``(1 + tolerance)`` of a reference to the end (censored where it never does). Shared by
every experiment that measures a speed-up as a ratio of episodes (or steps) to criterion."""

from __future__ import annotations

import numpy as np


def criterion_matrix(values, episodes, reference, tolerance: float, window: int = 1,
                     full_window: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """:func:`episodes_to_criterion` for many blocks at once: ``values`` (blocks, entries), ``episodes``
    (entries,), ``reference`` (blocks,). Returns (episode, censored) arrays, one per block."""
    v = np.asarray(values, dtype=float)
    episodes = np.asarray(episodes)
    n = v.shape[1]
    window = int(window)
    if window > 1:
        c = np.concatenate([np.zeros((v.shape[0], 1)), np.cumsum(v, axis=1)], axis=1)
        k = np.arange(1, n + 1)
        lo = np.maximum(k - window, 0)
        v = (c[:, k] - c[:, lo]) / (k - lo)
    ok = v <= (1.0 + tolerance) * np.asarray(reference, dtype=float)[:, None]
    if full_window and window > 1:
        ok[:, : window - 1] = False  # the trailing mean is undefined before a full window
    censored = ~ok[:, -1]
    bad = ~ok
    any_bad = bad.any(axis=1)
    last_bad = n - 1 - np.argmax(bad[:, ::-1], axis=1)
    first_ok = np.where(any_bad, last_bad + 1, 0)
    etc = np.where(censored, episodes[-1], episodes[np.minimum(first_ok, n - 1)])
    return etc.astype(np.int64), censored


def episodes_to_criterion(episodes, values, reference: float, tolerance: float,
                          window: int = 1, full_window: bool = False) -> tuple[int, bool]:
    """First episode from which the trailing mean of ``values`` over ``window`` entries stays
    ``<= (1 + tolerance) * reference`` to the end. Returns (episode, censored); a censored result (criterion
    not met at the last entry) is the last episode, a lower bound. With ``full_window`` the trailing mean
    is defined only from the ``window``-th entry on (the criterion cannot be met earlier); otherwise the
    first ``window - 1`` entries average the entries so far (partial windows)."""
    e, c = criterion_matrix(np.asarray(values, dtype=float)[None], episodes, [reference], tolerance,
                            window, full_window)
    return int(e[0]), bool(c[0])


def censored_iqm_text(rows, column: str) -> str:
    """A report cell for runs' time to criterion (``column`` of ``rows``, one row per run, with ``censored``): its
    IQM over the runs and how many were censored, e.g. ``"412 (2 cens.)"``; ``"–"`` where there are no runs."""
    if rows.empty:
        return "–"
    from ..stats import iqm

    return f"{float(iqm(rows[column].to_numpy()[:, None])):.0f} ({int(rows['censored'].sum())} cens.)"
