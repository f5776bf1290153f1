"""Experiment ``learner_checks``: each deep learner the claims rely on, trained by **the same code the claims
run** (same module, same update, same seed-batched path) on a standard gymnasium task, and compared with a
published result. A check that fails is a bug report against the learner, never a range to widen.

One algorithm id per (learner, task); each has its own module ``check_<learner>.py`` in this folder with

    train_batch(algo: str, seeds: list[int], params: dict) -> list[pandas.DataFrame]

where ``params`` is the algorithm's own block of the experiment's params (``params[algo]``). Every table has
one row per evaluation point: ``iteration`` (0, 1, ...), ``phase`` = ``eval``, ``env_steps`` (training
environment steps before the evaluation), ``return`` (mean undiscounted return over the evaluation
episodes), ``wall_s`` (training wall seconds since the previous point) and ``env`` (the gymnasium id); a
learner may add columns (e.g. TRPO's per-update KL and surrogate gain). ``experiment``, ``algo`` and
``seed`` are added by the caller.

Each algorithm's block also carries ``reference``: the published result it is compared with (mean, spread,
number of runs behind it, the environment steps it was read at, and its source), drawn beside the learning
curve; the claims (claims.yaml) state the same numbers and how each pass range was derived from them.
"""
