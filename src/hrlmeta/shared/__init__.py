"""Code several experiments share, imported publicly (an experiment folder never imports another
experiment): the rooms gridworld and its episodes-to-criterion analysis (:mod:`.fourrooms`,
:mod:`.criterion`), the torch experiments' device and seeded generators (:mod:`.torch_runs`), RL²'s
training budget (:mod:`.rl2_budget`) and the Directed-MAML task-family harness of the three ``*_meta``
experiments, split as their folders are: training (:mod:`.meta_task_family`), torch-free analysis
(:mod:`.meta_task_family_analysis`), measures, figures and the report's values (:mod:`.meta_task_family_measures`,
:mod:`.meta_task_family_figures`, :mod:`.meta_task_family_report`)."""
