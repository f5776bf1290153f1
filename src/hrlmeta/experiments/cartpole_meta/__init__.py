"""Experiment ``cartpole_meta``: Directed-MAML vs MAML (and their first-order versions) vs the transfer
baseline on a CartPole task family (pole length, pole mass and cart mass drawn per task).

Audits the chapter's Q11 ("Directed-MAML (2024) ... CartPole-v1: 40% faster convergence") and Q9 (meta-RL vs
transfer learning) with the task-family harness :mod:`hrlmeta.shared.meta_task_family` (agents, run table,
analysis, figures and report values, shared with ``cartpole_flip_meta`` and ``lunarlander_meta``); this
folder is the CartPole glue.
"""
