"""Experiment ``tabular_mdp_duan``: RL^2 against Bayesian RL baselines on random tabular MDPs
(Duan et al., 2016, "RL^2: Fast Reinforcement Learning via Slow Reinforcement Learning", Table 2).

Tasks: |S| = 10, |A| = 5, mean rewards ~ N(1, 1), rewards ~ N(mean, 1), flat-Dirichlet transitions,
episodes of T = 10 steps, n episodes per task (see :mod:`hrlmeta.envs.tabular_mdp`). Score: total reward
over the n episodes, averaged over ``eval_tasks`` fresh tasks. One run (algo, seed) covers every
configured n; a seed fixes the evaluation tasks (shared by all algorithms of that seed), the tuning
tasks and the policy's randomness.

Algorithms: :mod:`hrlmeta.algos.mdp_baselines` (``random``, ``optimal``, ``greedy``, ``psrl``,
``opsrl``, ``beb``) and :mod:`hrlmeta.algos.rl2` (``rl2``, trained separately for every n in
``params.rl2.cells``, hidden state kept across the n episodes of a task).

Rows (KIND "meta"): ``phase = "eval"`` (one per n: ``return`` = mean total reward, ``std``, ``n_tasks``,
``hparam``, ``expected_optimal`` = exact expected total of the optimal policy on the same tasks),
``phase = "per_episode"`` (``iteration`` = episode index, ``return`` = mean return of that episode) and,
for RL^2, ``phase = "meta_train"`` (``iteration``, ``return`` = mean total reward of the training trials,
``wall_s``, ``entropy``).
"""
