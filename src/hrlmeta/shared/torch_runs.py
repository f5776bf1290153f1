"""What the torch experiments share: the device check, seeded torch generators (one independent stream per
key), and the adaptation-evaluation rows of a meta-RL run table. torch is imported where a generator or a device
is made, so the analysis (adapt_rows) loads without it."""

from __future__ import annotations

import numpy as np
import pandas as pd


def device(params: dict) -> str:
    import torch

    dev = params.get("device", "cpu")
    if dev == "cuda" and not torch.cuda.is_available():
        raise ValueError("params.device: 'cuda' requested but torch.cuda.is_available() is False")
    if dev not in ("cpu", "cuda"):
        raise ValueError(f"params.device: expected 'cpu' or 'cuda', got {dev!r}")
    return dev


def generator(device: str, *key: int) -> torch.Generator:  # noqa: F821 (torch imported below)
    import torch

    state = np.random.SeedSequence(list(key)).generate_state(2)
    return torch.Generator(device=device).manual_seed(int(state[0]) << 32 | int(state[1]))


def adapt_rows(table: pd.DataFrame) -> pd.DataFrame:
    """The adaptation-evaluation rows (phase ``adapt_k``) with the step count ``k`` as a column."""
    a = table[table["phase"].str.startswith("adapt_")].copy()
    a["step"] = a["phase"].str[len("adapt_"):].astype(int)
    return a
