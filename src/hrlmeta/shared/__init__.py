"""Code several experiments share, imported publicly (an experiment folder never imports another
experiment): the rooms gridworld and its episodes-to-criterion analysis (:mod:`.fourrooms`,
:mod:`.criterion`), the torch experiments' device and seeded generators (:mod:`.torch_runs`), RL²'s
training budget (:mod:`.rl2_budget`) and the Directed-MAML task-family harness (:mod:`.meta_task_family`)."""
