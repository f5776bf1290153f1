"""Experiment ``fourrooms_seedblog``: the chapter's own "Options in Four Rooms" listing, run as written
(:mod:`hrlmeta.algos.listing_fourrooms`) and audited.

The chapter claims "Q-learning with Options 3-5x faster than vanilla Q-learning" and expects from its
listing: "Options converges faster in first 100 episodes" and "Final performance similar, but Options
has fewer steps". Its ``run_comparison`` measures this by averaging, over trials, each agent's
per-episode step counts (the "Steps to Goal" curve) and rewards, and prints the mean reward of the
last 50 episodes.

What is measured here
---------------------
* ``options_speedup_seedblog``: per seed, the mean of the flat agent's per-episode ``steps`` over the
  episode window (default: all episodes -- the area under the chapter's "Steps to Goal" curve)
  divided by the same mean for the options agent; seeds are paired by index.
* the audit (further claims, the report and the ``audit`` figure): how episodes end
  (goal / step cap / no option available), success rates, steps of successful episodes only, and
  the *exact* score of a uniformly random policy under each agent's episode structure
  (:func:`random_policy_reference`, absorbing Markov chains solved in closed form), which says what
  the numbers would be if neither agent learned anything.

Tidy rows: one per episode, the episodic schema plus the instrumentation of the port (``ended_by``,
start/goal cells and rooms, ``start_is_door``, ``option_exits``, final cell, ...).
"""
