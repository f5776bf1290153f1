"""Experiment ``fourrooms_sutton``: options vs flat Q-learning in the rooms gridworld, faithful to Sutton,
Precup & Singh (1999), "Between MDPs and semi-MDPs", Artificial Intelligence 112, Section 3.2 / Fig. 5
(SMDP Q-learning with the option sets A, H and A u H, goals G1 and G2) and Section 6 (intra-option
Q-learning).

One training run (one seed of ``training.train``) plays a *goal sequence*: the first goal of
``main_goals`` (G1, phase ``first``), then every further goal (G2, then ``reuse_goals``; phase
``switch``). At each goal the agent's value table is re-initialised to 0 while the options themselves
(policies, initiation sets, terminations) are reused unchanged -- option values are goal-specific, the
options are not. The flat agent learns every goal from scratch as well. ``reuse_goals`` are played only
by the algorithms in ``reuse_algos``.

Rows: one per episode, with ``goal``, ``phase``, ``option_set``, ``alpha``, ``ended_by`` (``goal`` or
``step_cap``) and ``greedy_steps``: at snapshot episodes (``greedy_eval``), the exact expected number of
primitive steps from the start of the greedy policy of the current value table (ties uniform), from the
oracle's absorbing-chain solve; NaN at other episodes.

Episodes-to-criterion (``criterion``; see :func:`episodes_to_criterion`): with ``measure: behaviour``,
the first episode from which the trailing moving average (``window`` episodes) of steps per episode stays
at or below ``(1 + tolerance) * optimal`` until the end of the goal's block, where ``optimal`` is the
oracle's optimal expected steps over primitive actions; with ``measure: greedy`` the same rule on the
snapshots' ``greedy_steps``. A block that does not meet the criterion at its last episode is *censored*:
its value is the block length (a lower bound on the true value), and every claim note reports how many
were censored.
"""
