"""The claims engine: claims are declared next to the experiment that measures them
(``src/hrlmeta/experiments/<experiment>/claims.yaml``, plus the optional extra file named by the config key
``claims:``), measured by one of that experiment's named measures (its ``measures.py``: ``MEASURES``, see
:class:`Measures`), and decided here with a seeded stratified bootstrap. The engine knows no experiment and no
claim: it is handed the experiment registry, and a claim selects its measure by name.

Each declared claim has::

    id: options_speedup_fourrooms        # stable id
    experiment: fourrooms_sutton         # optional in the experiment's own claims.yaml (= its folder)
    measure: speedup                     # a named measure of that experiment (measures.py)
    kind: experimental                   # optional: experimental (default) | analytic (answer known before
                                         #   training, from an oracle or by construction)
    source: "chapter, 'Four Rooms Experiment' and Q1"
    statement: "Q-learning with Options 3-5x faster than vanilla Q-learning"
    metric: "episodes-to-criterion, flat / options, per seed"   # in words
    expected: "3-5x"                      # the claimed value, in words
    expected_range: [3, 5]                # machine-readable interval; null = unbounded side
    statistic: iqm                        # optional (default: what the measure returns)
    params: {...}                         # optional: the measure's parameters (validated against its schema)
    robustness:                           # optional: analyst choices to vary (a specification curve)
      vary:                               #   dotted paths into this claim -> values to try
        params.criterion.window: [1, 10, 20, 50]
        statistic: [iqm, median, mean]
    paper_budget:                         # optional: the paper's training budget for this claim
      value: 1.0e8                        #   in the unit the experiment reports as Samples.budget
      unit: "env steps per cell"
      source: "Duan et al. 2016, Sec. 5"

``robustness.vary`` may also be a list of such mappings: the specifications are then the union of
their grids (for choices that only make sense together, e.g. a window only for a moving-average
criterion); a choice a sub-grid does not vary keeps the claim's own value (empty in robustness.tsv).

Robustness: every combination of ``robustness.vary`` is set into a copy of the claim (``statistic``
replaces the claim's statistic, ``params.x.y`` sets ``claim["params"]["x"]["y"]``; every varied value is
validated against the measure's schema at load), measured by the same measure on the same tables (never a new run; specifications that differ only in ``statistic``
are measured once) and decided with the same bootstrap: one index draw shared by every specification of
a claim (:func:`hrlmeta.stats.bootstrap_many`). ``robust`` in claims.tsv is the share of specifications
whose verdict equals the primary (the claim as declared) one, where a ``fails`` on the other side of
the expected range (``side``: ``below`` / ``above``) counts as a different verdict;
``results/claims/robustness.tsv`` has a row per specification (its choices, estimate, CI, verdict,
side, and ``primary``: the specification measures exactly what the primary does).

Claims files: every experiment's ``claims.yaml`` is read in report order; the file named by the config
key ``claims:`` (optional, default none) adds claims, and a claim there whose id an experiment already
declares replaces that declaration (an override). Every claim is validated at load against
:data:`CLAIM_SCHEMA` (``additionalProperties: false``) and, where the registry is given, its measure's
parameters against the measure's schema: an unknown key, measure or parameter is a :class:`ClaimError`
naming the claim id and the key.

Validation of the measures imports the experiment's code (``measures.py``); :func:`declared_claims` with
``check_measures=False`` reads and checks everything else without importing it.

Budget: a measure may return ``Samples(budget=...)``, our training budget in the unit of
``paper_budget``; ``budget_fraction`` = ours / the paper's. It may also put ``cost_s`` (measured CPU or
wall seconds one seed spent on that budget) in ``Samples.extra``; the report projects the paper's budget
from it; and ``budget_binds: False`` where no run was cut short by the budget (e.g. every run met its
criterion before its last episode), so that more training would not have been the remedy. Where ``budget_fraction < 1`` and the estimate falls short of the claim (see
:func:`falls_short`), the report and README write the verdict ``fails (under budget)``; the tsv keeps
``fails``.

Scale (:func:`scale_of`): ``smoke``, ``default`` or ``paper`` when the experiment's block of the merged
config equals that of ``config/config.yaml`` (merged with ``config/smoke.yaml`` / ``config/paper.yaml``)
up to keys that do not change results (``enabled``, ``algos``, ``threads``, ``seeds_per_job``, ``device``,
``torch_threads``); ``custom`` otherwise.

Verdict (see :func:`hrlmeta.stats.verdict`): ``holds`` when the whole 95% CI lies in
``expected_range``, ``fails`` when the CI misses it entirely, ``inconclusive`` otherwise.

The engine is a package; :mod:`hrlmeta.claims` re-exports every name below, so callers import from here:

- :mod:`hrlmeta.claims.samples`: the table columns and constants (``COLUMNS``, ``ROBUSTNESS_TAIL``,
  ``UNDER_BUDGET``, ...), :class:`Samples`, :class:`ClaimError`, :class:`Measure`, :class:`Measures`;
- :mod:`hrlmeta.claims.declarations`: :data:`CLAIM_SCHEMA`, loading and validating declarations
  (:func:`check_claim`, :func:`load_claims`, :func:`check_measure`, :func:`measure_claim`,
  :func:`declared_claims`);
- :mod:`hrlmeta.claims.robustness`: the specifications (:func:`set_dotted`, :func:`robustness_grid`,
  :func:`apply_spec`);
- :mod:`hrlmeta.claims.scale`: scale detection and budget labels (:func:`reference_configs`,
  :func:`scale_of`, :func:`falls_short`, :func:`verdict_label`);
- :mod:`hrlmeta.claims.deciding`: deciding (:func:`decide`, :func:`evaluate_all`, :class:`Evaluation`,
  the learner-check column, :func:`write_tsv`);
- :mod:`hrlmeta.claims.prose`: what a verdict depends on (:func:`outcome`, :func:`dependence_sentence`).
"""

from __future__ import annotations

# re-exports: the package's API as it was when the engine was one module (private names included, for the
# tests and modules that use them); the module-level cache _REFERENCE_CACHE lives in .scale (this is that object)
from .deciding import (
    Evaluation,
    _as_2d,
    _cell_value,
    _row,
    _strings,
    decide,
    evaluate_all,
    failed_checks,
    learner_check_cell,
    learner_checks_of,
    write_tsv,
)
from .declarations import (
    _BOUND,
    _TEXT,
    CLAIM_SCHEMA,
    _check_budget,
    _check_robustness,
    _schema_errors,
    check_claim,
    check_measure,
    declared_claims,
    load_claims,
    measure_claim,
)
from .prose import _conditions, _fmt_value, _necessary, _short, dependence_sentence, outcome
from .robustness import _measure_key, apply_spec, robustness_grid, set_dotted
from .samples import (
    COLUMNS,
    EXECUTION_KEYS,
    EXECUTION_PARAM_KEYS,
    KINDS,
    REQUIRED_KEYS,
    ROBUSTNESS_TAIL,
    SCALES,
    UNDER_BUDGET,
    ClaimError,
    Measure,
    Measures,
    Samples,
)
from .scale import _REFERENCE_CACHE, _strip, falls_short, reference_configs, scale_of, verdict_label
