"""Experiment ``lunarlander_meta``: the agents of the task-family harness :mod:`hrlmeta.shared.meta_task_family`
(shared with ``cartpole_meta``: MAML, FOMAML, Directed-MAML, Directed-FOMAML, pretrained, random init) on a LunarLander-v3 task family with gravity and
wind power drawn per task (:mod:`hrlmeta.envs.lunarlander`), for the chapter's "LunarLander-v2: 30%
improved sample efficiency" (Q11; not in the abstract of arXiv 2510.00212).

Same run table, claims machinery and figures as ``cartpole_meta``. Box2D is stepped one live episode per
call, so this family costs far more CPU than the tensor CartPole: it is enabled in config/paper.yaml only.
"""

from __future__ import annotations

import pandas as pd

from ...shared import meta_task_family as base
from .. import declared

KIND, ALGOS, FIGURES = declared(__name__)  # from experiment.yaml
ENV_NAME = "lunarlander_v3_task_family"
SOLVED = 200.0  # LunarLander's conventional "solved" return


def make_env(params: dict) -> LunarLanderFamily:
    from ...envs.lunarlander import LunarLanderFamily  # torch and Box2D load only to train

    e = dict(params.get("env", {}))
    for k in ("gravity", "wind_power"):
        if k in e:
            e[k] = tuple(e[k])
    return LunarLanderFamily(**e)


def train(algo: str, seed: int, params: dict) -> pd.DataFrame:
    return base.run(algo, seed, params, "lunarlander_meta", ENV_NAME, make_env)


def figures(table: pd.DataFrame, params: dict, outdir) -> None:
    base.figures(table, params, outdir, experiment="lunarlander_meta", title="LunarLander-v3",
                 ref_line=(SOLVED, f"'solved' ({SOLVED:g})"))


def report_section(table: pd.DataFrame, params: dict) -> str:
    intro = base.PAPER_NOTE + (" LunarLander-v3 is used: gymnasium 1.x removed the paper's (and the chapter's) "
                               "LunarLander-v2.")
    return base.report_section(table, params, threshold=0.0, intro=intro)
