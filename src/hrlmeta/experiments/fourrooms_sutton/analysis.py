"""Torch-free analysis of ``fourrooms_sutton``'s tables, shared by its training, measures, figures and report
(the episodes-to-criterion rule and the speed-up ratios live in :mod:`hrlmeta.shared.fourrooms`)."""

from __future__ import annotations

from .. import declared
from ...shared.fourrooms import (  # noqa: F401  (shared with fourrooms_discovery; re-exported)
    criterion_matrix,
    criterion_table,
    criterion_words as _criterion_words,
    episodes_to_criterion,
    speedup_samples,
)

KIND, ALGOS, FIGURES = declared(__package__)  # from experiment.yaml
EXPERIMENT = "fourrooms_sutton"
LABELS = {
    "flat_q": "Q-learning, primitives A",
    "smdp_q_options": "SMDP Q-learning, options H",
    "smdp_q_mixed": "SMDP Q-learning, A ∪ H",
    "intra_option_q": "intra-option Q-learning",
}


def goal_sequence(params: dict, algo: str) -> list[tuple[str, str]]:
    """[(goal name, phase)] a run of ``algo`` plays."""
    goals = list(params["main_goals"])
    if algo in params["reuse_algos"]:
        goals += [g for g in params["reuse_goals"] if g not in goals]
    for g in goals:
        if g not in params["goals"]:
            raise KeyError(f"goal {g!r} is not defined under params.goals ({sorted(params['goals'])})")
    return [(g, "first" if i == 0 else "switch") for i, g in enumerate(goals)]
