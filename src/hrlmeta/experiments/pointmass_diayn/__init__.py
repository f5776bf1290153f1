"""Experiment ``pointmass_diayn``: unsupervised skill discovery with DIAYN (Eysenbach, Gupta, Ibarz & Levine,
"Diversity is All You Need", ICLR 2019) on a continuous 2D point mass, against skills trained without reward.

Algorithms (:mod:`hrlmeta.algos.diayn`, :mod:`hrlmeta.algos.sac`, environment :mod:`hrlmeta.envs.pointmass`):

- ``diayn``: SAC (twin critics, fixed entropy coefficient alpha) on the pseudo-reward
  ``log q_phi(z|s') - log p(z)``, ``z`` uniform over ``K`` skills, the discriminator on the state.
- ``random_skills``: the same skill-conditioned SAC agent with the same budget, networks and discriminator
  training, but reward 0: maximum-entropy RL alone. Nothing ties its behaviour to ``z``; its discriminator is
  trained on its states like DIAYN's, so its accuracy measures how distinguishable reward-free skills are.

Each run trains one agent per layout in ``layouts`` (``open``: empty box; ``passage``: two rooms joined by a
narrow opening) and skill count (``agent.num_skills``, the primary count the claims and figures read, then
each of ``agent.other_num_skills``, for the robustness grids), with networks initialised identically for both
algorithms of a seed (common random numbers).

Run table (KIND "episodic"): one row per *evaluation episode*, ``num_skills`` naming the agent's K. For each
(layout, K), at ``env_steps`` = 0, ``eval.every``, ...,
``total_steps`` every skill is rolled out ``eval.episodes_per_skill`` times from the start state, once with
the stochastic policy (``eval_mode = stochastic``) and once with its mean action (``deterministic``), on an
evaluation random stream separate from training. Columns: ``layout``, ``eval_mode``, ``eval_point``,
``env_steps`` (training transitions so far), ``skill``, ``steps`` (the horizon), ``return`` (undiscounted sum
of the pseudo-rewards ``log q(z|s_t) - log p(z)``, t = 1..T, under the discriminator of that moment -- for
``random_skills`` too, although it trained on reward 0), ``success`` (the discriminator names the episode's
skill from its final state), ``decisions`` = 1 (one skill choice per episode), ``acc`` (fraction of the
episode's states s_1..s_T whose argmax q(.|s) is its skill), ``coverage`` (fraction of the
``eval.coverage_grid``^2 cells visited by all evaluation episodes of that point and mode), and at the final
point only ``fresh_acc`` (held-out accuracy of a classifier trained from scratch on half of the episodes,
per skill, tested on the other half; NaN elsewhere) and the trajectories ``traj_x``, ``traj_y`` (empty
elsewhere).
"""
