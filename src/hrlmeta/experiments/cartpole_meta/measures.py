"""The named measures of ``cartpole_meta``'s claims: those of the Directed-MAML task-family harness
(:mod:`hrlmeta.shared.meta_task_family_measures`), shared with ``lunarlander_meta``."""

from __future__ import annotations

from ...shared.meta_task_family_measures import MEASURES  # noqa: F401
