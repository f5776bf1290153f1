"""Experiment ``fourrooms_discovery``: bottleneck options found by betweenness centrality (Şimşek & Barto
2009, "Skill characterization based on betweenness", NeurIPS 21), the chapter's "Bottleneck States Based"
option discovery ("analyze state transition graph, find must-pass places (e.g., doors between rooms) ...
Betweenness Centrality"), on the rooms gridworld and goals of Sutton, Precup & Singh (1999).

Per seed: a uniformly random walk of ``walk_steps`` steps from the start gives the empirical interaction
graph; its betweenness local maxima (at most ``max_subgoals``, ranked by betweenness) are the subgoals; one
option per subgoal is built from the graph (:mod:`hrlmeta.algos.bottleneck`). Then SMDP Q-learning
(:mod:`hrlmeta.algos.smdp_q`, the learner of ``fourrooms_sutton``) learns each goal of ``main_goals`` from
scratch, over the primitives plus the algorithm's options:

* ``primitives``: A only (flat Q-learning as one-step options);
* ``handmade_options``: A u H, Sutton et al.'s eight hallway options;
* ``bottleneck_options``: A u the discovered options (``graph: empirical``, or ``known`` for the graph of
  the known dynamics -- then every seed gets the same subgoals);
* ``random_subgoal_options``: A u options built the same way to as many subgoals drawn uniformly from the
  states (the control).

Goal sample (``goal_sample``): besides the main goals, the algorithms of ``goal_sample.algos`` learn in-room
goal cells drawn once, with a fixed seed, ``per_room`` from each room (hallways and the start cell excluded;
:func:`goal_sample`). Seed ``s`` learns ``per_seed`` of them, in rotation (goals ``s * per_seed + j`` modulo
their number, :func:`sample_goals_of`), so consecutive seeds spread evenly over the goals. With
``goal_sample.discovery: per_goal`` each (seed, goal) run of the discovered / random-subgoal options builds
its own option set (its own random walk, its own random subgoals), and its learner has its own random stream,
both keyed by (seed, goal index): the runs of different goals are independent, as the stratified bootstrap
that resamples each goal's runs on its own assumes. The main goals' blocks are unchanged by the sample.

Rows: one per episode, with the columns ``fourrooms_sutton``'s criterion code reads (``goal``, ``phase``,
``block``, ``optimal_steps``, ``option_set_optimal_steps``) plus ``goal_set`` (``main`` for the main goals,
``sample`` for the goal sample; ``phase`` is ``first`` / ``switch`` for the main goals, ``sample`` for the
sample), ``goal_row``, ``goal_col``, ``n_options`` and ``subgoals`` (JSON list of the run's subgoal cells
[row, col], best first; ``"[]"`` for primitives / hand-made options).
Episodes-to-criterion, speed-ups and their censoring are computed by ``fourrooms_sutton``'s functions.
"""
