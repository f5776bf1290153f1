"""Experiment ``taxi_maxq``: MAXQ-Q vs flat Q-learning on the Taxi domain, faithful to Dietterich (2000),
"Hierarchical Reinforcement Learning with the MAXQ Value Function Decomposition", JAIR 13:227-303,
Section 7.1 ("The Fickle Taxi Task", Figures 7 and 8).

Algorithms (the paper's four configurations): ``flat_q`` (flat Q-learning), ``maxq_q`` (MAXQ-Q without
state abstraction), ``maxq_q_abs`` (with the Sec. 5.1.6 abstractions), ``maxq_q_abs_greedy`` (with the
abstractions and hierarchical greedy execution, the interruption length L falling from 500 by 10 per
trial). Hyper-parameters: the paper's (``config/config.yaml``).

One training run (one seed of ``training.train``) plays every variant in ``params.variants`` for
``n_steps`` primitive steps each (the last episode is played to its end). Rows: one per episode, with
``variant``, ``cum_steps`` (primitive steps up to the end of the episode), the oracle's ``optimal_return``,
``recursive_optimal_return`` and ``random_return`` (exact mean returns over the start distribution) and
``final_policy_return``: the exact mean return of the agent's final greedy policy (flat: argmax Q; MAXQ:
the ordered greedy hierarchical policy executed call-and-return; greedy-execution agent: the hierarchically
greedy policy it executes at the end), plus ``final_hierarchical_return`` / ``final_hg_return`` (MAXQ
agents: both readings of the learned tables).

Steps-to-criterion (``criterion``), two readings. The paper's (the speed claims', :mod:`.curves`): the
primitive steps at which the learning curve averaged over seeds (each seed's trailing ``window``-trial mean
return, read every ``curve_step`` steps) reaches reference - ``tolerance`` and holds it ``hold`` steps
(``rule: stays``: to the end of the run), with reference the recursively optimal mean return (the paper's Fig. 8
level "hierarchically optimal"); its CI resamples whole seeds. Per seed (the robustness grids' ``reading:
per_seed`` and the report's table): the cumulative primitive steps until one run's trailing mean first reaches
the level (``rule: first``; ``stays``: from when it stays there to the end of the run); a run that never meets
it is censored at its length (a lower bound).
"""
