"""Experiment ``fourrooms_optioncritic``: Bacon, Harb & Precup (2017), "The Option-Critic Architecture",
AAAI, Four Rooms (Fig. 2 and Fig. 3).

Task (paper, "Experiments"): the rooms gridworld of Sutton, Precup & Singh (1999) (same layout,
:mod:`hrlmeta.envs.fourrooms`) with the paper's own dynamics -- a primitive move fails with probability 1/3
and then goes to a random empty adjacent cell (``params.dynamics``); reward +1 on reaching the goal, 0
otherwise; gamma = 0.99; the start state is uniform over all non-goal cells. The goal is the east doorway
for the first ``switch_episode`` = 1000 episodes, then a random cell of the lower-right room, drawn once
per seed (the same draw for every algorithm of that seed, so runs are paired by seed).

Agents: ``sarsa0`` (:mod:`hrlmeta.algos.sarsa0`), ``ac_pg`` (:mod:`hrlmeta.algos.ac_pg`) and
``option_critic_4`` / ``option_critic_8`` (:mod:`hrlmeta.algos.option_critic`).

Rows: one per episode (``phase`` ``before_switch`` / ``after_switch``, ``goal_row``/``goal_col``,
``ended_by`` ``goal`` / ``step_cap``). The option-critic runs also carry their final termination
probabilities: column ``final_beta`` is a JSON object ``{"n_options": O, "beta": [[...S floats...] x O]}``
on the run's last episode row and the empty string on every other row (see :func:`final_terminations`,
which parses and validates it into a long table option x cell). They also carry where their options
terminate after training: column ``eval_terminations`` (last row only, like ``final_beta``) is a JSON object
``{"n_options": O, "episodes": M, "goal": [row, col], "visits": [[...S ints] x O], "terminations": [[...S
ints] x O], "steps": int, "decisions": int, "reached": int}`` counted over ``eval_episodes`` evaluation
episodes run with the final, frozen options to the final goal (:mod:`.evaluation`; parsed and validated by
:func:`eval_terminations`): ``visits[w][s]`` = arrivals in s while option w ran, where its termination was
drawn, ``terminations[w][s]`` = how many of those draws ended w (termination events).
"""
