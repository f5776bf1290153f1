"""Experiment ``bandits_duan``: RL^2 against classic bandit algorithms on Bernoulli bandits
(Duan et al., 2016, "RL^2: Fast Reinforcement Learning via Slow Reinforcement Learning", Table 1).

Tasks: k-armed Bernoulli bandits, arm means i.i.d. U[0, 1], n pulls per task, over (n, k) cells.
Score of a policy in a cell: total reward per task, averaged over ``eval_tasks`` fresh tasks. One run
(algo, seed) covers every configured cell; a seed fixes the evaluation tasks (shared by all algorithms of
that seed, so comparisons within a seed are paired), the tuning tasks and the policy's own randomness.

Algorithms: see :mod:`hrlmeta.algos.bandit_baselines` (``random``, ``greedy``, ``eps_greedy``,
``ucb1``, ``thompson``, ``ots``, ``gittins``, ``gittins_approx``) and :mod:`hrlmeta.algos.rl2` (``rl2``,
trained separately in every cell of ``params.rl2.cells``).

Rows (KIND "meta"):
- ``phase = "eval"``: one per cell; ``return`` = mean total reward per task, plus ``std`` (across tasks),
  ``n_tasks``, ``hparam`` (the tuned hyperparameter), ``method``; ``iteration`` = RL^2 training
  iterations (0 for baselines);
- ``phase = "per_pull"``: ``iteration`` = pull index t, ``return`` = mean cumulative reward up to t,
  ``regret`` = mean cumulative pseudo-regret (best arm mean - pulled arm mean) up to t;
- ``phase = "meta_train"`` (RL^2 only): ``iteration``, ``return`` = mean total reward of the iteration's
  training trials, ``wall_s`` = seconds per iteration, ``entropy`` = policy entropy.
"""
