"""Experiment ``pointmaze_hiro``: goal-conditioned hierarchy on the HIRO point maze.

Nachum, Gu, Lee & Levine (2018), "Data-Efficient Hierarchical Reinforcement Learning" (NeurIPS), compare
HIRO with FuN-style variants inside their own framework (Table 1), with HIRO without the off-policy
correction and with flat TD3 (Fig. 4). This experiment runs that comparison on the released *point* maze
(:mod:`hrlmeta.envs.pointmaze`) at CPU scale:

- ``td3``: flat goal-conditioned TD3 (:mod:`hrlmeta.algos.flat_td3`);
- ``hiro``: HIRO with the off-policy correction (:mod:`hrlmeta.algos.hiro`);
- ``hiro_no_correction``: the same without relabelling (the paper's ablation);
- ``feudal``: FuN transition PG + cosine-similarity worker reward inside HIRO (:mod:`hrlmeta.algos.feudal`).

Training (``training.py``): ``S`` seeds as one batch (networks with a leading seed axis, a generator per
seed), ``train.n_envs`` environments per seed running synchronous 500-step episodes, each with a task goal
drawn uniformly from ``env.train_goal_low/high`` (the released ``meta_context_range``); the task reward per
step is minus the distance of (x, y) to the goal. Evaluation every ``eval.every_steps`` environment steps:
``eval.episodes`` deterministic episodes towards each of ``eval.goals`` (the released point-maze
configuration's eval1-eval3: (8, 0), (8, 8), (0, 8)); success = final distance < ``eval.success_radius``.

Run table (KIND "episodic", extra column ``phase``): ``train`` rows (one per training episode, success
against its own goal), ``eval`` rows (one per evaluation episode; ``episode`` = evaluation round, ``goal_x``, ``goal_y``,
``env_steps`` = training environment steps before it) and ``trace`` rows (the last evaluation's first
episode every ``c`` steps: position and, for hierarchical agents, the manager's absolute subgoal).
"""
