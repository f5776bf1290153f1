"""Training of ``chain_hdqn``: one run per (algorithm, seed), the neural h-DQN's seeds trained as one batch (see
the package's docstring for the rows it writes and the tabular agents' step-size / budget sweep)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .analysis import ALGOS, EXPERIMENT, budget_episodes, optimal_return


def check_params(params: dict) -> None:
    """Runtime range checks beyond the schema; ValueError naming the key."""
    from ...envs.chain import check_params as env_check

    env = params["env"]
    env_check(env["p_right"], env["reward_visited"], env["reward_unvisited"])
    for key in ("alpha", "alpha_meta"):
        v = params["tabular"][key]
        if not 0.0 < v <= 1.0:
            raise ValueError(f"tabular.{key}: {v} is outside (0, 1]")
    lr = params["neural"]["lr"]
    if not 0.0 < lr <= 1.0:
        raise ValueError(f"neural.lr: {lr} is outside (0, 1]")
    if not 0.0 <= params["gamma"] <= 1.0:
        raise ValueError(f"gamma: {params['gamma']} is outside [0, 1]")
    eps = params["epsilon"]
    for key in ("start", "end"):
        if not 0.0 <= eps[key] <= 1.0:
            raise ValueError(f"epsilon.{key}: {eps[key]} is not a probability in [0, 1]")
    if params["final_episodes"] > params["n_episodes"]:
        raise ValueError(f"final_episodes: {params['final_episodes']} exceeds n_episodes ({params['n_episodes']})")
    sweep = params.get("sweep") or {}
    for a in sweep.get("alphas") or []:
        if not 0.0 < a <= 1.0:
            raise ValueError(f"sweep.alphas: {a} is outside (0, 1]")
    for f in sweep.get("budget_factors") or []:
        if budget_episodes(params, f) < params["final_episodes"]:
            raise ValueError(f"sweep.budget_factors: {f} x n_episodes = {budget_episodes(params, f)} episodes is "
                             f"shorter than final_episodes ({params['final_episodes']})")


def _greedy_value(algo: str, res: dict, i: int, env: dict) -> float:
    from ...envs import chain

    kw = dict(p_right=env["p_right"], reward_visited=env["reward_visited"],
              reward_unvisited=env["reward_unvisited"])
    if algo == "q_learning":
        return chain.flat_policy_return(chain.greedy_probs(res["Q_snapshots"][i]), **kw)
    return chain.hier_policy_return(chain.greedy_probs(res["Q2_snapshots"][i]),
                                    chain.greedy_probs(res["Q1_snapshots"][i]), **kw)


def run_algo(algo: str, seed: int, params: dict, snapshots=(), log_meta: int = 0) -> dict:
    """One training run of ``algo`` (the arrays its module returns)."""
    if algo not in ALGOS:
        raise KeyError(f"{EXPERIMENT} has no algorithm {algo!r}; its algorithms: {', '.join(ALGOS)}")
    check_params(params)
    env, eps = params["env"], params["epsilon"]
    run_seed = _run_seed(algo, seed)
    common = dict(p_right=float(env["p_right"]), reward_visited=float(env["reward_visited"]),
                  reward_unvisited=float(env["reward_unvisited"]), max_steps=int(params["max_steps"]))
    sched = dict(eps_start=float(eps["start"]), eps_end=float(eps["end"]), anneal_steps=int(eps["anneal_steps"]))
    n_ep, gamma = int(params["n_episodes"]), float(params["gamma"])
    if algo == "q_learning":
        from ...algos import q_learning

        return q_learning.train(n_ep, float(params["tabular"]["alpha"]), gamma, seed=run_seed,
                                snapshots=snapshots, **sched, **common)
    if algo == "hdqn_tabular":
        from ...algos import hdqn_tabular

        tab = params["tabular"]
        return hdqn_tabular.train(n_ep, float(tab["alpha"]), float(tab["alpha_meta"]), gamma,
                                  ctrl_eps_mode=eps["controller"], success_window=int(eps["success_window"]),
                                  seed=run_seed, snapshots=snapshots, log_meta=log_meta, **sched, **common)
    from ...algos import hdqn

    return hdqn.train(_hdqn_config(params), run_seed, snapshots=snapshots, log_meta=log_meta)


def _run_seed(algo: str, seed: int) -> int:
    return int(np.random.SeedSequence([int(seed), ALGOS.index(algo)]).generate_state(1)[0])


def _hdqn_config(params: dict):
    from ...algos import hdqn

    env, eps = params["env"], params["epsilon"]
    nn = params["neural"]
    return hdqn.HDQNConfig(
        n_episodes=int(params["n_episodes"]), hidden=int(nn["hidden"]), lr=float(nn["lr"]),
        gamma=float(params["gamma"]), batch_size=int(nn["batch_size"]), replay_ctrl=int(nn["replay_ctrl"]),
        replay_meta=int(nn["replay_meta"]), target_update=int(nn["target_update"]),
        ctrl_eps_mode=eps["controller"], success_window=int(eps["success_window"]),
        eps_start=float(eps["start"]), eps_end=float(eps["end"]), anneal_steps=int(eps["anneal_steps"]),
        p_right=float(env["p_right"]), reward_visited=float(env["reward_visited"]),
        reward_unvisited=float(env["reward_unvisited"]), max_steps=int(params["max_steps"]))


def _snapshots(params: dict) -> np.ndarray:
    n_ep, every = int(params["n_episodes"]), int(params["eval_every"])
    return np.unique(np.r_[np.arange(every, n_ep + 1, every), n_ep]).astype(np.int64)


def train(algo: str, seeds: list[int], params: dict) -> list[pd.DataFrame]:
    """One table per seed: the neural h-DQN trains the seeds as one batch (:func:`hrlmeta.algos.hdqn.train_seeds`;
    a seed's table is the same as alone), the tabular agents (numba) one after another."""
    if algo != "hdqn":
        return [_train(algo, s, params) for s in seeds]
    from ...algos import hdqn

    check_params(params)
    res = hdqn.train_seeds(_hdqn_config(params), [_run_seed(algo, s) for s in seeds], snapshots=_snapshots(params))
    return [_table(algo, r, params) for r in res]


def _train(algo: str, seed: int, params: dict) -> pd.DataFrame:
    """One run's table; for a tabular agent its ``train`` rows followed by its step-size / budget ``sweep``
    rows (module doc)."""
    df = _table(algo, run_algo(algo, seed, params, snapshots=_snapshots(params)), params)
    if algo == "hdqn":
        return df
    df["phase"] = "train"
    df["alpha"] = float(params["tabular"]["alpha"])
    return pd.concat([df, *_sweep(algo, seed, params)], ignore_index=True)


def _sweep(algo: str, seed: int, params: dict) -> list[pd.DataFrame]:
    """The sweep rows of one tabular run: per step size in ``sweep.alphas`` one run of the longest budget
    (same seed), of which the last ``final_episodes`` episodes before each budget are kept."""
    sweep = params.get("sweep") or {}
    alphas, factors = list(sweep.get("alphas") or []), list(sweep.get("budget_factors") or [])
    if not alphas or not factors:
        return []
    budgets = sorted({budget_episodes(params, f) for f in factors})
    longest, window = budgets[-1], int(params["final_episodes"])
    keep = np.zeros(longest, dtype=bool)
    for b in budgets:
        keep[b - window:b] = True
    out = []
    for a in alphas:
        p = {**params, "n_episodes": longest, "tabular": {"alpha": float(a), "alpha_meta": float(a)}}
        df = _table(algo, run_algo(algo, seed, p, snapshots=np.asarray(budgets)), p)
        df = df.loc[keep].reset_index(drop=True)
        df["phase"] = "sweep"
        df["alpha"] = float(a)
        out.append(df)
    return out


def _table(algo: str, res: dict, params: dict) -> pd.DataFrame:
    """The run table of one training run's arrays."""
    from ...envs.chain import ENV_NAME

    n_ep = int(params["n_episodes"])
    greedy = np.full(n_ep, np.nan)
    for i, ep in enumerate(res["snapshots"]):
        greedy[ep - 1] = _greedy_value(algo, res, i, params["env"])
    ret = np.asarray(res["return"], dtype=np.float64)
    capped = np.asarray(res["capped"], dtype=bool)
    df = pd.DataFrame({
        "env": ENV_NAME,
        "episode": np.arange(1, n_ep + 1, dtype=np.int64),
        "steps": np.asarray(res["steps"], dtype=np.int64),
        "return": ret,
        "success": np.asarray(res["visited6"], dtype=bool) & ~capped,
        "decisions": np.asarray(res["decisions"], dtype=np.int64),
        "ended_by": np.where(capped, "step_cap", "terminal"),
        "epsilon": np.asarray(res["epsilon"], dtype=np.float64),
        "first_goal": (np.asarray(res["first_goal"], dtype=np.int64) + 1) if "first_goal" in res
        else np.zeros(n_ep, dtype=np.int64),
        "greedy_return": greedy,
        "optimal_return": optimal_return(params),
    })
    visits = np.asarray(res["visits"])
    for s in range(visits.shape[1]):
        df[f"visits_s{s + 1}"] = visits[:, s].astype(np.int64)
    return df


def tabular_sensitivity(params: dict, alphas=(0.00025, 0.001, 0.01, 0.1), budgets=(20000, 100000),
                        seeds=range(4)) -> list[dict]:
    """Final reward (last ``final_episodes`` episodes) and greedy policy's exact return of the two tabular
    agents over step sizes and episode budgets (the evidence behind the config's tabular.alpha CHOICE and
    the report's budget caveat). Cheap: numba runs only."""
    from ...envs import chain

    env = params["env"]
    kw = dict(p_right=env["p_right"], reward_visited=env["reward_visited"], reward_unvisited=env["reward_unvisited"])
    rows = []
    for alpha in alphas:
        for n in budgets:
            p = {**params, "n_episodes": int(n), "tabular": {"alpha": alpha, "alpha_meta": alpha}}
            for algo in ("q_learning", "hdqn_tabular"):
                fin, gr = [], []
                for seed in seeds:
                    res = run_algo(algo, seed, p)
                    fin.append(float(np.mean(res["return"][-int(params["final_episodes"]):])))
                    gr.append(chain.flat_policy_return(chain.greedy_probs(res["Q"]), **kw) if algo == "q_learning"
                              else chain.hier_policy_return(chain.greedy_probs(res["Q2"]),
                                                            chain.greedy_probs(res["Q1"]), **kw))
                rows.append({"algo": algo, "alpha": alpha, "n_episodes": int(n), "final_reward": fin,
                             "greedy_return": gr})
    return rows


if __name__ == "__main__":  # pragma: no cover
    import json
    import sys

    from ...config import experiment_params, load_config
    from .. import REGISTRY
    from .oracle import oracle

    _params = experiment_params(load_config(REGISTRY), EXPERIMENT)
    if "--sensitivity" in sys.argv:
        for row in tabular_sensitivity(_params):
            print(json.dumps(row))
    else:
        print(json.dumps(oracle(_params)))
