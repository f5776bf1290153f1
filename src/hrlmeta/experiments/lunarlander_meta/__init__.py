"""Experiment ``lunarlander_meta``: the agents of the task-family harness :mod:`hrlmeta.shared.meta_task_family`
(shared with ``cartpole_meta``: MAML, FOMAML, Directed-MAML, Directed-FOMAML, pretrained, random init) on a LunarLander-v3 task family with gravity and
wind power drawn per task (:mod:`hrlmeta.envs.lunarlander`), for the chapter's "LunarLander-v2: 30%
improved sample efficiency" (Q11; not in the abstract of arXiv 2510.00212).

Same run table, claims machinery and figures as ``cartpole_meta``. Box2D is stepped one live episode per
call, so this family costs far more CPU than the tensor CartPole: it is enabled in config/paper.yaml only.
"""
