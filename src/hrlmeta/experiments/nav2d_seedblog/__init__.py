"""Experiment ``nav2d_seedblog``: the chapter's own "MAML for RL" listing, run as written and audited.

The listing (:mod:`hrlmeta.algos.listing_maml`) is driven through its own classes: ``MAML.outer_loop``
for meta-training (10 tasks per batch, inner lr 0.1, Adam 1e-3, one trajectory per task and phase, goals
in [-10, 10]^2, horizon 50) and the listing's ``evaluate_maml`` for the before/after-5-steps evaluation.

Algorithms
- ``maml_as_written``: the listing exactly as written.
- ``maml_lossfix``: the listing with ONE change, in ``compute_loss``: ``log_probs`` is stacked to shape
  (T, 1) while ``returns`` is (T,), so the listing's ``log_probs * returns`` broadcasts to a (T, T) outer
  product and ``.mean()`` gives ``mean(log_probs) * mean(normalised returns)``; the normalised returns
  have mean 0 (up to float32 rounding), so the loss and its gradient vanish. The fix flattens
  ``log_probs`` to (T,) (the evident intent: per-step REINFORCE). Everything else, including the
  ``param.data`` swap in ``outer_loop``, is untouched, so the audit can isolate that second question.
- ``random_init``: no meta-training; the listing's ``evaluate_maml`` from the initial policy.

Audit (every ``audit_every`` meta-iterations of the two trained variants). The trajectories the
listing samples inside ``outer_loop`` are recorded (by wrapping the instance's ``collect_trajectory``,
the listing itself is unchanged); on exactly those trajectories, with the variant's own loss, we compute
  - ``g_listing``: what ``outer_loop`` leaves in ``param.grad`` (the update Adam then applies);
  - ``g_maml``: the true MAML meta-gradient, d/d theta of mean_i L(theta - a grad L(theta; pre_i); post_i),
    second order (``create_graph=True``);
  - ``g_fomaml``: the first-order one, mean_i grad L(phi_i; post_i) at the adapted phi_i;
  - ``g_pg_theta``: the plain policy gradient at theta of the post-adaptation trajectories;
and log cosine similarities and norms (``cos_*``, ``norm_*``, ``relerr_fomaml``). Meta-training rows log
the listing's meta-loss as ``loss``, its ``wall_s`` excludes the audit.

One-step trajectories. When a goal lies within reach of the first step (``dist < 0.5`` after one step),
the trajectory has one reward and the listing's ``returns.std()`` (unbiased, n - 1 = 0) is NaN; the NaN
gradient reaches the parameters (Adam) and the next ``torch.distributions.Normal`` raises: as written,
the run crashes. We snapshot the policy and Adam state before every ``outer_loop`` and, when that happens,
restore them and mark the row ``nan_skipped`` (the first such iteration is where the listing as written
dies); at evaluation such test tasks are counted (``eval_tasks_failed``) and left out.

Run table rows: ``meta_train`` (``return`` = mean undiscounted return of the post-adaptation
trajectories of the batch), then ``adapt_0`` ... ``adapt_5`` from the listing's ``evaluate_maml`` on held-out
goals (adapt_0 = its "before" trajectory, adapt_5 = its "after" trajectory, adapt_k for 1 <= k <= 4 = the
trajectory ``adapt_to_task`` collects after k SGD steps), averaged over test tasks.
"""
