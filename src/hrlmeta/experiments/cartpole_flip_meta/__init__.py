"""Experiment ``cartpole_flip_meta``: the agents of :mod:`hrlmeta.experiments.cartpole_meta` on a CartPole
task family where one policy cannot serve every task: besides the physical parameters, each task swaps the
meaning of its two actions with probability ``env.flip_prob`` (:class:`hrlmeta.envs.cartpole.CartPoleFamily`).

Why this family: on ``cartpole_meta``'s family (masses and pole length only) a single unadapted policy
balances almost every task to the horizon, so "faster convergence" there measures how fast an optimiser
solves CartPole, not meta-learning. With mirrored actions, what balances the pole in a task tips it over in
its mirror; a policy blind to the task earns little on average, and only adaptation to the task's own
trajectories can recover the return -- the analogue of the opposite-direction tasks of Finn et al. (2017).
Mirrored actions are chosen over a moving target position because they keep CartPole's reward (1 per step)
and termination unchanged, so returns stay comparable with the paper-faithful family.

Same run table as ``cartpole_meta`` (the task-family harness :mod:`hrlmeta.shared.meta_task_family`;
adaptation rows carry ``task_returns``: the return of every held-out task after that many adaptation steps,
as JSON); its figures plus ``adaptation_per_task``: pre- vs post-adaptation return of every held-out task.
"""
