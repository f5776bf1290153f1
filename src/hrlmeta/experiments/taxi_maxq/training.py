"""Training of ``taxi_maxq``: one run per (algorithm, seed) plays every variant in ``params.variants`` (see the
package's docstring for the rows it writes)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .analysis import ALGOS, EXPERIMENT, _env, _env_key, _oracle

MAXQ_NODES = ("root", "get", "put", "navigate")


def _agent_params(algo: str, params: dict) -> dict:
    from ...algos.boltzmann import check_rate, check_temperature

    p = params[algo]
    check_rate(f"{algo}.alpha", p["alpha"])
    floor = float(params["temperature_floor"])
    if algo == "flat_q":
        check_temperature(f"{algo}", p["temperature"], p["cooling"], floor)
    else:
        for node in MAXQ_NODES:
            check_temperature(f"{algo}.cooling.{node}", p["temperature"], p["cooling"][node], floor)
    return p


def final_values(algo: str, result: dict, env, model) -> dict:
    """Exact mean returns of the final greedy policies of one run (see module doc)."""
    from ...algos import maxq_q
    from .oracle import evaluate_flat, hierarchy_models, mean_over_starts

    if algo == "flat_q":
        Q = result["Q"]
        v = mean_over_starts(model, evaluate_flat(model, np.argmax(Q, axis=1)))
        return {"final_policy_return": v, "final_hierarchical_return": np.nan, "final_hg_return": np.nan}
    tables = result["tables"]
    G = tables.greedy_slots()
    hier = hierarchy_models(env, model, choose=lambda node, t, s: G[node, t, s]).mean_return(model)
    hg_policy = np.array([maxq_q.hg_action(s, *tables.args) for s in range(500)])
    hg = mean_over_starts(model, evaluate_flat(model, hg_policy))
    return {"final_policy_return": hg if algo == "maxq_q_abs_greedy" else hier,
            "final_hierarchical_return": hier, "final_hg_return": hg}


def _run_one(algo: str, env, params: dict, seed: int) -> dict:
    from ...algos import maxq_q, taxi_flat_q
    from ...envs.taxi import step_args

    p = _agent_params(algo, params)
    n_steps = int(params["n_steps"])
    cap = int(params["max_episode_steps"])
    floor = float(params["temperature_floor"])
    gamma = float(params["gamma"])
    if algo == "flat_q":
        steps, rets, succ, Q = taxi_flat_q.run(*step_args(env), env.start_states, n_steps, n_steps + 1, cap,
                                               float(p["alpha"]), gamma, float(p["init"]),
                                               float(p["temperature"]), float(p["cooling"]), floor, seed)
        return {"steps": steps, "return": rets, "success": succ, "decisions": steps.copy(), "Q": Q}
    rates = [float(p["cooling"][n]) for n in MAXQ_NODES]
    return maxq_q.train(env, n_steps, abstract=algo != "maxq_q", alpha=float(p["alpha"]), init=float(p["init"]),
                        t0=float(p["temperature"]), cooling=rates, t_floor=floor, gamma=gamma,
                        greedy_l0=int(p["greedy_l0"]), greedy_dl=int(p["greedy_dl"]),
                        max_episode_steps=cap, seed=seed)


def _train(algo: str, seed: int, params: dict) -> pd.DataFrame:
    if algo not in ALGOS:
        raise KeyError(f"{EXPERIMENT} has no algorithm {algo!r}; its algorithms: {', '.join(ALGOS)}")
    frames = []
    for block, variant in enumerate(params["variants"]):
        key = _env_key(variant, params)
        env, model = _env(key)
        orc = _oracle(key)
        run_seed = int(np.random.SeedSequence([int(seed), block]).generate_state(1)[0])
        res = _run_one(algo, env, params, run_seed)
        fin = final_values(algo, res, env, model)
        n = len(res["steps"])
        frames.append(pd.DataFrame({
            "env": env.name,
            "variant": variant,
            "episode": np.arange(1, n + 1, dtype=np.int64),
            "steps": res["steps"].astype(np.int64),
            "cum_steps": np.cumsum(res["steps"]).astype(np.int64),
            "return": res["return"].astype(np.float64),
            "success": res["success"].astype(bool),
            "decisions": res["decisions"].astype(np.int64),
            "optimal_return": orc["optimal"],
            "recursive_optimal_return": orc["recursive_optimal"],
            "random_return": orc["random"],
            **fin,
        }))
    return pd.concat(frames, ignore_index=True)


def train(algo: str, seeds: list[int], params: dict) -> list[pd.DataFrame]:
    """One table per seed, trained in turn (not batched)."""
    return [_train(algo, int(s), params) for s in seeds]


if __name__ == "__main__":  # pragma: no cover
    import json

    from ...config import experiment_params, load_config
    from .. import REGISTRY
    from .oracle import oracle

    print(json.dumps(oracle(experiment_params(load_config(REGISTRY), EXPERIMENT))))
