"""Experiment ``nav2d_finn``: MAML vs first-order MAML vs pretrained vs random initialisation on the 2D
point navigation of Finn, Abbeel & Levine (2017), Section 5.3 / Figure 4 (left).

Algorithms (:mod:`hrlmeta.algos.maml`, environment :mod:`hrlmeta.envs.nav2d`):

- ``maml``: TRPO on the post-adaptation objective, second-order meta-gradient (through the inner step).
- ``fomaml``: the same with the inner gradient detached (first order).
- ``pretrained``: the same TRPO on the return of the unadapted policy averaged over tasks
  (the paper's "pretrained" baseline, multi-task pretraining), fine-tuned at test time.
- ``random_init``: no meta-training; fine-tuned at test time from the initial parameters.

Run table (KIND "meta"): ``meta_train`` rows (one per meta-iteration: ``return`` = average undiscounted
return of the post-adaptation trajectories, or of the unadapted ones for ``pretrained``; ``wall_s`` = the
whole meta-iteration), then ``adapt_0`` ... ``adapt_K`` rows on held-out tasks (``return`` = average return
per trajectory after k test-time policy-gradient steps; ``wall_s`` = that step's gradient step plus its
sampling), and for ``maml`` runs whose seed is in ``cost.seeds`` ``cost_w{width}_maml`` /
``cost_w{width}_fomaml`` rows: an in-process, interleaved MAML-vs-FOMAML timing sweep over hidden widths
(``wall_s`` = median seconds per meta-iteration of that variant at that width; ``return`` = the
post-adaptation return of its last timed iteration).
Every column except the measured ``wall_s`` is a deterministic function of
(algo, seed, params). Held-out tasks and their sampling noise come from a stream seeded with
(``eval.task_seed``, seed), independent of training and identical for every algorithm of a seed
(common random numbers: comparisons are paired by seed).
"""
