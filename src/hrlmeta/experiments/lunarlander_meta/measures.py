"""The named measures of ``lunarlander_meta``'s claims: those of the Directed-MAML task-family harness it
shares with ``cartpole_meta``."""

from __future__ import annotations

from ..cartpole_meta.measures import MEASURES  # noqa: F401
