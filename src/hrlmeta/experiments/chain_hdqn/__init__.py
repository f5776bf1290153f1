"""Experiment ``chain_hdqn``: h-DQN vs flat Q-learning on the discrete stochastic decision process of
Kulkarni, Narasimhan, Saeedi & Tenenbaum (2016), "Hierarchical Deep Reinforcement Learning: Integrating
Temporal Abstraction and Intrinsic Motivation", NeurIPS, Section 4.1, Figs. 2-4.

Algorithms (one file each in :mod:`hrlmeta.algos`):

- ``q_learning``: flat tabular Q-learning over {left, right}, the paper's baseline (numba).
- ``hdqn``: Algorithm 1 with neural Q-functions (controller Q1(s, a; g), meta-controller Q2(s, g)),
  replay memories D1/D2 and one minibatch step on each per environment step (torch, one thread).
- ``hdqn_tabular``: the same two-level algorithm with Q-tables (numba): the paper's own learner for this
  task ("our approach (without the deep neural networks)"), and the control that separates the hierarchy's
  effect from the function approximator's.

Every agent observes the current state s only (one-hot for the networks), never the visited-s6 flag the
reward depends on; goals are all six states; the controller's intrinsic reward is 1 on arriving at its goal.

Rows: one per episode: ``return`` = the extrinsic reward (1 or 0.01), ``success`` = s6 was visited before
s1 (the reward-1 outcome), ``decisions`` = goals chosen (primitive steps for the flat agent), ``visits_s1``
... ``visits_s6`` = entries into each state during the episode (Fig. 4 counts s3..s6), ``epsilon`` = the
meta-controller's (flat agent's) epsilon at the episode's start, ``first_goal`` (1..6; 0 for the flat agent),
``greedy_return``: at evaluation episodes (every ``eval_every``), the exact expected return from s2 of the
current greedy policy (greedy ties shared uniformly), NaN elsewhere; ``optimal_return`` = the oracle's.

Step-size and budget sweep (``sweep`` in the config; the claims' robustness grids read it): a run of a
tabular agent (``q_learning``, ``hdqn_tabular``) also trains, with the same seed, one run per step size in
``sweep.alphas`` (``alpha`` = ``alpha_meta`` = that value) for ``max(sweep.budget_factors) x n_episodes``
episodes, and keeps of each only the last ``final_episodes`` episodes before every budget
``round(factor x n_episodes)`` (greedy_return evaluated at each budget). The tabular agents' tables carry
``phase`` (``train``: the run itself, ``sweep``: these rows) and ``alpha`` (the run's step size). A tabular
run is a prefix of any longer run of the same seed and step size (the exploration schedule counts steps,
not episodes), so a sweep run's first ``n`` episodes are exactly the run of ``n`` episodes. The neural
h-DQN's table has neither column (its runs are not swept: ``phase`` is missing in its rows of the
experiment's table).
"""
