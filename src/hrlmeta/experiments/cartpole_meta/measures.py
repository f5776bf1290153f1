"""The named measures of ``cartpole_meta``'s claims: those of the Directed-MAML task-family harness
(:mod:`hrlmeta.shared.meta_task_family`), shared with ``lunarlander_meta``."""

from __future__ import annotations

from ...shared.meta_task_family import MEASURES  # noqa: F401
