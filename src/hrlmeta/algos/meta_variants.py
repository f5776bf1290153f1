"""The meta-learners of the MAML task-family experiments by name, without torch (the analysis reads it)."""

from __future__ import annotations

#: algo id -> (inner steps during meta-training, second-order meta-gradient, directed pre-step)
VARIANTS: dict[str, tuple[int, bool, bool]] = {
    "maml": (1, True, False),
    "fomaml": (1, False, False),
    "directed_maml": (1, True, True),
    "directed_fomaml": (1, False, True),
    "pretrained": (0, False, False),
}
