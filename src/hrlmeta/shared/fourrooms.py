"""The rooms gridworld of Sutton, Precup & Singh (1999) as several experiments use it: the environment with
its option sets, the goal tasks with their exact oracle optima, and the episodes-to-criterion analysis
(how many episodes until a learner's steps per episode stay within a tolerance of the optimum) with the
per-seed speed-up ratios built on it. Used by ``fourrooms_sutton`` and ``fourrooms_discovery`` (and the
criterion rule by ``taxi_maxq`` and the Directed-MAML task families)."""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd

from .criterion import criterion_matrix, episodes_to_criterion  # noqa: F401  (re-exported)


@functools.lru_cache(maxsize=4)
def env_and_option_sets(success_prob: float):
    from ..envs.fourrooms import make_fourrooms, option_set

    env = make_fourrooms(success_prob)
    return env, {k: option_set(env, k) for k in ("A", "H", "AH")}


@functools.lru_cache(maxsize=64)
def task(success_prob: float, gamma: float, cell: tuple, start: tuple, set_name: str):
    """(goal state, start state, oracle optimum over primitives, models of the option set)."""
    from . import solvers as orc

    env, sets = env_and_option_sets(success_prob)
    goal, s0 = env.state(cell), env.state(start)
    if goal == s0:
        raise ValueError(f"goal cell {cell} is the start cell")
    O = sets[set_name]
    models = orc.option_models(env.P, O.act, O.beta, goal, gamma)
    if set_name == "A":
        prim = models
    else:
        A = sets["A"]
        prim = orc.option_models(env.P, A.act, A.beta, goal, gamma)
    V, Q = orc.smdp_values(prim)
    optimal = float(orc.expected_steps(prim, orc.greedy(Q))[s0])
    Vo, Qo = orc.smdp_values(models)
    own = float(orc.expected_steps(models, orc.greedy(Qo))[s0])
    return goal, s0, optimal, own, models


_BLOCKS: dict[int, tuple] = {}


def _blocks(table: pd.DataFrame) -> dict | None:
    """The table as one matrix row per (algo, seed, goal) block (cached per table object): steps and
    greedy_steps (blocks x episodes), the blocks' keys and references. None when blocks differ in length."""
    hit = _BLOCKS.get(id(table))
    if hit is not None and hit[0] is table:
        return hit[1]
    t = table.sort_values(["algo", "seed", "goal", "episode"], kind="stable")
    sizes = t.groupby(["algo", "seed", "goal"], sort=True).size()
    out = None
    if len(sizes) and sizes.nunique() == 1:
        n_ep = int(sizes.iloc[0])
        ep = t["episode"].to_numpy().reshape(len(sizes), n_ep)
        if (ep == ep[0]).all():
            head = t.iloc[::n_ep]
            out = {
                "keys": pd.DataFrame({"algo": head["algo"].to_numpy(), "seed": head["seed"].to_numpy().astype(int),
                                      "goal": head["goal"].to_numpy(), "phase": head["phase"].to_numpy()}),
                "episodes": ep[0],
                "steps": t["steps"].to_numpy(dtype=float).reshape(len(sizes), n_ep),
                # tables of other experiments measured with this criterion may lack the greedy snapshots
                # or the option-set optimum: None, and the criterion that needs them says so
                "greedy": (t["greedy_steps"].to_numpy(dtype=float).reshape(len(sizes), n_ep)
                           if "greedy_steps" in t.columns else None),
                "primitive": head["optimal_steps"].to_numpy(dtype=float),
                "own": (head["option_set_optimal_steps"].to_numpy(dtype=float)
                        if "option_set_optimal_steps" in t.columns else None),
            }
    if len(_BLOCKS) >= 4:
        _BLOCKS.clear()
    _BLOCKS[id(table)] = (table, out)
    return out


def criterion_table(table: pd.DataFrame, params: dict) -> pd.DataFrame:
    """Episodes-to-criterion per (algo, seed, goal): columns algo, seed, goal, phase, etc, censored, reference.
    Vectorised over blocks (and cached per table), so varying the criterion costs milliseconds."""
    crit = params["criterion"]
    window, full = int(crit["window"]), bool(crit.get("full_window", False))
    b = _blocks(table)
    if b is None:  # blocks of unequal length: one at a time
        rows = []
        for (algo, seed, goal), g in table.groupby(["algo", "seed", "goal"], sort=True):
            g = g.sort_values("episode")
            ref = float(g["optimal_steps"].iloc[0] if crit["reference"] == "primitive"
                        else g["option_set_optimal_steps"].iloc[0])
            if crit["measure"] == "greedy":
                s = g.dropna(subset=["greedy_steps"])
                e, cens = episodes_to_criterion(s["episode"], s["greedy_steps"], ref, crit["tolerance"])
            else:
                e, cens = episodes_to_criterion(g["episode"], g["steps"], ref, crit["tolerance"], window, full)
            rows.append({"algo": algo, "seed": int(seed), "goal": goal, "phase": g["phase"].iloc[0],
                         "etc": e, "censored": cens, "reference": ref})
        return pd.DataFrame(rows, columns=["algo", "seed", "goal", "phase", "etc", "censored", "reference"])
    ref = b["primitive"] if crit["reference"] == "primitive" else b["own"]
    need = {"greedy_steps": crit["measure"] == "greedy" and b["greedy"] is None,
            "option_set_optimal_steps": ref is None}
    if any(need.values()):
        raise ValueError(f"criterion {crit}: the table has no {[k for k, v in need.items() if v]} column")
    if crit["measure"] == "greedy":
        cols = ~np.isnan(b["greedy"]).all(axis=0)
        vals, eps = b["greedy"][:, cols], b["episodes"][cols]
        if np.isnan(vals).any():  # snapshots differ between blocks: fall back
            _BLOCKS[id(table)] = (table, None)
            return criterion_table(table, params)
        etc, cens = criterion_matrix(vals, eps, ref, crit["tolerance"])
    else:
        etc, cens = criterion_matrix(b["steps"], b["episodes"], ref, crit["tolerance"], window, full)
    return b["keys"].assign(etc=etc, censored=cens, reference=ref)


def criterion_words(params: dict) -> str:
    c = params["criterion"]
    ref = "the optimal expected steps over primitive actions" if c["reference"] == "primitive" else \
        "the optimum of the agent's own option set"
    if c["measure"] == "greedy":
        what = "the exact expected steps of the greedy policy (at snapshot episodes)"
    else:
        part = "full windows only, from episode {}".format(c["window"]) if c.get("full_window") else \
            "partial windows before episode {}".format(c["window"])
        what = f"the trailing {c['window']}-episode mean of steps per episode ({part})" if c["window"] > 1 else \
            "the steps of each episode"
    return f"first episode from which {what} stays <= {1 + c['tolerance']:.2f} x {ref}"


def speedup_samples(table: pd.DataFrame, params: dict, baseline: str, agent: str, goals) -> tuple:
    """Per-seed ratio etc(baseline) / etc(agent), shaped (seeds, goals); plus the censoring counts."""
    ct = criterion_table(table, params)
    ct = ct[ct["algo"].isin([baseline, agent]) & ct["goal"].isin(goals)]
    if ct.empty:
        return np.empty((0, len(goals))), {}
    piv = ct.pivot_table(index="seed", columns=["algo", "goal"], values="etc")
    cens = ct.groupby(["algo", "goal"])["censored"].sum().to_dict()
    cols = [g for g in goals if (baseline, g) in piv.columns and (agent, g) in piv.columns]
    vals = np.column_stack([piv[(baseline, g)].to_numpy() / piv[(agent, g)].to_numpy() for g in cols]) \
        if cols else np.empty((len(piv), 0))
    vals = vals[~np.isnan(vals).any(axis=1)] if vals.size else vals
    return vals, {"censored": {f"{a}/{g}": int(n) for (a, g), n in cens.items()}, "goals": cols}
