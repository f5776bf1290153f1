"""Experiment ``pointmass_diayn``: unsupervised skill discovery with DIAYN (Eysenbach, Gupta, Ibarz & Levine,
"Diversity is All You Need", ICLR 2019) on a continuous 2D point mass, against skills trained without reward.

Algorithms (:mod:`hrlmeta.algos.diayn`, :mod:`hrlmeta.algos.sac`, environment :mod:`hrlmeta.envs.pointmass`):

- ``diayn``: SAC (twin critics, fixed entropy coefficient alpha) on the pseudo-reward
  ``log q_phi(z|s') - log p(z)``, ``z`` uniform over ``K`` skills, the discriminator on the state.
- ``random_skills``: the same skill-conditioned SAC agent with the same budget, networks and discriminator
  training, but reward 0: maximum-entropy RL alone. Nothing ties its behaviour to ``z``; its discriminator is
  trained on its states like DIAYN's, so its accuracy measures how distinguishable reward-free skills are.

Each run trains one agent per layout in ``layouts`` (``open``: empty box; ``passage``: two rooms joined by a
narrow opening) and skill count (``agent.num_skills``, the primary count the claims and figures read, then
each of ``agent.other_num_skills``, for the robustness grids), with networks initialised identically for both
algorithms of a seed (common random numbers).

Run table (KIND "episodic"): one row per *evaluation episode*, ``num_skills`` naming the agent's K. For each
(layout, K), at ``env_steps`` = 0, ``eval.every``, ...,
``total_steps`` every skill is rolled out ``eval.episodes_per_skill`` times from the start state, once with
the stochastic policy (``eval_mode = stochastic``) and once with its mean action (``deterministic``), on an
evaluation random stream separate from training. Columns: ``layout``, ``eval_mode``, ``eval_point``,
``env_steps`` (training transitions so far), ``skill``, ``steps`` (the horizon), ``return`` (undiscounted sum
of the pseudo-rewards ``log q(z|s_t) - log p(z)``, t = 1..T, under the discriminator of that moment -- for
``random_skills`` too, although it trained on reward 0), ``success`` (the discriminator names the episode's
skill from its final state), ``decisions`` = 1 (one skill choice per episode), ``acc`` (fraction of the
episode's states s_1..s_T whose argmax q(.|s) is its skill), ``coverage`` (fraction of the
``eval.coverage_grid``^2 cells visited by all evaluation episodes of that point and mode), and at the final
point only ``fresh_acc`` (held-out accuracy of a classifier trained from scratch on half of the episodes,
per skill, tested on the other half; NaN elsewhere) and the trajectories ``traj_x``, ``traj_y`` (empty
elsewhere).
"""

from __future__ import annotations

import functools
import math

import numpy as np
import pandas as pd
import torch

from ...algos import diayn as D
from ...envs.pointmass import PointMass, coverage
from ...progress import progress
from ...tidy import present
from .. import declared

KIND, ALGOS, FIGURES = declared(__name__)  # from experiment.yaml
EXPERIMENT = "pointmass_diayn"
#: the evaluation mode of the claims and figures: the policy's mean action, as the authors' released code
#: evaluates and visualises skills (haarnoja/sac: RLAlgorithm(eval_deterministic=True), visualize_skills.py)
EVAL_MODE = "deterministic"
LABELS = {"diayn": "DIAYN", "random_skills": "random skills (SAC, reward 0)"}
_REWARD = {"diayn": "diayn", "random_skills": "zero"}
LAYOUT_IDS = {"open": 0, "passage": 1}


def _device(params: dict) -> str:
    dev = params.get("device", "cpu")
    if dev not in ("cpu", "cuda"):
        raise ValueError(f"params.device: expected 'cpu' or 'cuda', got {dev!r}")
    if dev == "cuda" and not torch.cuda.is_available():
        raise ValueError("params.device: 'cuda' requested but torch.cuda.is_available() is False")
    return dev


def make_env(params: dict, layout: str) -> PointMass:
    e = dict(params.get("env", {}))
    starts = e.pop("start", {})
    kw = {k: v for k, v in e.items() if k != "layouts"}
    if layout in starts:
        kw["start"] = tuple(starts[layout])
    return PointMass(layout=layout, **kw)


def layouts(params: dict) -> list[str]:
    return list(params.get("env", {}).get("layouts", ["open", "passage"]))


def skill_counts(params: dict) -> list[int]:
    """The skill counts every run trains, per layout: the primary ``agent.num_skills`` first, then each of
    ``agent.other_num_skills`` (for the claims' robustness grids)."""
    a = params.get("agent", {})
    first = int(a.get("num_skills", D.DiaynConfig.num_skills))
    out = [first]
    for k in a.get("other_num_skills", []) or []:
        if int(k) in out:
            raise ValueError(f"params.agent.other_num_skills: {k} is trained already (num_skills {first}, "
                             f"other_num_skills {a.get('other_num_skills')})")
        out.append(int(k))
    return out


def make_config(params: dict, algo: str, num_skills: int | None = None) -> D.DiaynConfig:
    a = dict(params.get("agent", {}))
    a.pop("total_steps", None)
    a.pop("other_num_skills", None)
    if num_skills is not None:
        a["num_skills"] = int(num_skills)
    a["hidden"] = tuple(a.get("hidden", (300, 300)))
    return D.DiaynConfig(reward=_REWARD[algo], **a)


def _generator(*key: int) -> torch.Generator:
    state = np.random.SeedSequence(list(key)).generate_state(2)
    return torch.Generator().manual_seed(int(state[0]) << 32 | int(state[1]))


def _evaluate(agent, env: PointMass, ev: dict, gen: torch.Generator, final: bool, fresh: dict):
    """Rows (without run columns) of one evaluation point, both evaluation modes; ``agent`` is one seed's
    view of the batch (:class:`hrlmeta.algos.diayn.SeedView`), its acting noise from ``gen``."""
    K = agent.cfg.num_skills
    per = int(ev.get("episodes_per_skill", 10))
    grid = int(ev.get("coverage_grid", 10))
    z = D.eval_skills(K, per)
    out = []
    for mode in ("stochastic", "deterministic"):
        P = agent.rollout(z, deterministic=(mode == "deterministic"), generator=gen)  # (T+1, n, 2)
        with torch.no_grad():
            lq = D.log_q(agent.disc, P[1:])  # (T, n, K)
            r = lq.gather(-1, z.view(1, -1, 1).expand(P.shape[0] - 1, -1, 1)).squeeze(-1) + math.log(K)
        correct = lq.argmax(-1) == z.unsqueeze(0)
        cov = coverage(P, env.bound, grid)
        fa = float("nan")
        if final and int(fresh.get("steps", 300)) > 0:
            fa = D.fresh_classifier_accuracy(P[1:], z, K, agent.cfg.hidden, int(fresh.get("steps", 300)),
                                             float(fresh.get("lr", 1e-2)), gen)
        tx = D.as_float32_lists(P[:, :, 0].T) if final else [np.zeros(0, np.float32)] * z.numel()
        ty = D.as_float32_lists(P[:, :, 1].T) if final else [np.zeros(0, np.float32)] * z.numel()
        for i in range(z.numel()):
            out.append({"eval_mode": mode, "skill": int(z[i]), "return": float(r[:, i].sum()),
                        "success": bool(correct[-1, i]), "acc": float(correct[:, i].float().mean()),
                        "coverage": cov, "fresh_acc": fa, "traj_x": tx[i], "traj_y": ty[i]})
    return out


def train(algo: str, seed: int, params: dict) -> pd.DataFrame:
    """One seed: a batch of one (:func:`train_batch`)."""
    return train_batch(algo, [seed], params)[0]


def train_batch(algo: str, seeds: list[int], params: dict) -> list[pd.DataFrame]:
    """Train ``seeds`` as one batch (:class:`hrlmeta.algos.diayn.DiaynSeeds`); one table per seed, each the
    same as the seed's run alone (every random draw of a seed comes from its own generators)."""
    if algo not in ALGOS:
        raise KeyError(f"pointmass_diayn has no algorithm {algo!r}; its algorithms: {', '.join(ALGOS)}")
    dev = _device(params)
    if dev != "cpu":  # pragma: no cover - the agent is small; GPU offers nothing here
        raise ValueError("params.device: the point-mass agent runs on 'cpu' only (networks of 32 units)")
    torch.set_num_threads(int(params.get("torch_threads", 1)))
    seeds = [int(s) for s in seeds]
    a = params.get("agent", {})
    total = int(a.get("total_steps", 50000))
    ev = params.get("eval", {})
    every = int(ev.get("every", max(total // 5, 1)))
    fresh = ev.get("fresh_classifier", {})
    rows: list[list[dict]] = [[] for _ in seeds]
    episode = [0] * len(seeds)
    counts = skill_counts(params)
    for layout, K in ((lay, k) for lay in layouts(params) for k in counts):
        env = make_env(params, layout)
        cfg = make_config(params, algo, K)
        cfg.buffer_size = min(cfg.buffer_size, total)
        lid = LAYOUT_IDS[layout]
        # the primary count keeps the streams it always had; a further count K draws from streams keyed by K
        extra = () if K == counts[0] else (K,)
        batch = D.DiaynSeeds(cfg, env, [_generator(s, lid, 0, *extra) for s in seeds])
        eval_gens = [_generator(s, lid, 1, *extra) for s in seeds]
        points = []

        def on_eval(steps: int) -> None:
            final = steps >= total
            for k in range(len(seeds)):
                for r in _evaluate(batch.agent(k), env, ev, eval_gens[k], final, fresh):
                    rows[k].append({"env": f"pointmass_{layout}", "layout": layout, "eval_point": len(points),
                                    "env_steps": int(steps), "episode": episode[k], "steps": env.horizon,
                                    "decisions": 1, "num_skills": cfg.num_skills, **r})
                    episode[k] += 1
            points.append(steps)

        desc = (f"{algo} seed{'s' if len(seeds) > 1 else ''} {','.join(map(str, seeds))} {layout}"
                + (f" K={K}" if len(counts) > 1 else ""))
        bar = progress(total=total, desc=desc, unit="step", leave=False)
        batch.train(total, on_eval=on_eval, eval_every=every, progress=bar.update)
        bar.close()
        if points[-1] < total:  # total not a multiple of eval.every
            on_eval(total)
    out = []
    for seed, r in zip(seeds, rows):
        df = pd.DataFrame(r)
        df.insert(2, "algo", algo)
        df.insert(3, "seed", int(seed))
        out.append(df)
    return out


# --------------------------------------------------------------------------- analysis


def _run_keys(table: pd.DataFrame) -> list[str]:
    """Columns that name one trained agent: (algo, seed, layout) and its skill count where the table has it."""
    return ["algo", "seed", "layout"] + (["num_skills"] if "num_skills" in table.columns else [])


def final_rows(table: pd.DataFrame) -> pd.DataFrame:
    """Rows of each (algo, seed, layout, skill count)'s last evaluation point."""
    last = table.groupby(_run_keys(table))["eval_point"].transform("max")
    return table[table["eval_point"] == last]


def select_skill_count(table: pd.DataFrame, params: dict, which: str = "primary") -> int | None:
    """The skill count ``which`` names: ``primary`` = ``agent.num_skills`` (where ``params`` lacks it, the
    count of the table's first row: runs write the primary count first), ``other`` = the first of
    ``agent.other_num_skills`` (where ``params`` lacks it, the table's first other count); None where absent."""
    if which not in ("primary", "other"):
        raise ValueError(f"skill_count: expected 'primary' or 'other', got {which!r}")
    a = params.get("agent", {})
    present = list(dict.fromkeys(int(k) for k in table["num_skills"])) if "num_skills" in table.columns else []
    primary = int(a["num_skills"]) if "num_skills" in a else (present[0] if present else None)
    if which == "primary":
        return primary
    others = ([int(k) for k in (a["other_num_skills"] or [])] if "other_num_skills" in a
              else [k for k in present if k != primary])
    return others[0] if others else None


def for_skill_count(table: pd.DataFrame, K: int | None) -> pd.DataFrame:
    """The rows of the agents trained with ``K`` skills (all rows where the table has no ``num_skills``)."""
    if "num_skills" not in table.columns:
        return table
    return table[table["num_skills"] == K]


def _episodes_subset(f: pd.DataFrame, episodes_per_skill) -> pd.DataFrame:
    if episodes_per_skill is None:
        return f
    rank = f.groupby(_run_keys(f) + ["eval_mode", "skill"]).cumcount()
    return f[rank < int(episodes_per_skill)]


def final_coverage(table: pd.DataFrame, grid: int, eval_mode: str, episodes_per_skill=None,
                   bound: float = 1.0) -> pd.Series:
    """Coverage of the final evaluation's trajectories, per (algo, seed, layout), on a ``grid``^2 grid,
    using the first ``episodes_per_skill`` episodes of each skill (all when None)."""
    f = _episodes_subset(final_rows(table), episodes_per_skill)
    f = f[f["eval_mode"] == eval_mode]
    out = {}
    for key, g in f.groupby(["algo", "seed", "layout"]):
        xy = np.stack([np.concatenate(g["traj_x"].to_list()), np.concatenate(g["traj_y"].to_list())], axis=1)
        out[key] = coverage(torch.as_tensor(xy), bound, int(grid))
    return _keyed(out)


def _keyed(out: dict) -> pd.Series:
    """A Series indexed by (algo, seed, layout) from ``{(algo, seed, layout): value}`` (empty ones too)."""
    names = ["algo", "seed", "layout"]
    if not out:
        return pd.Series([], dtype=float, index=pd.MultiIndex.from_tuples([], names=names))
    return pd.Series(out, dtype=float).rename_axis(names)


def crossed_passage(table: pd.DataFrame, params: dict) -> pd.Series:
    """Passage layout, final evaluation: per (algo, seed, eval_mode), the fraction of episodes that ever
    reach the far side of the wall."""
    f = final_rows(table)
    f = f[f["layout"] == "passage"]
    if f.empty:
        return pd.Series(dtype=float)
    far = _reached_far_side(f, params)
    return far.groupby([f["algo"], f["seed"], f["eval_mode"]]).mean()


def _reached_far_side(f: pd.DataFrame, params: dict) -> pd.Series:
    """Per episode (rows of a passage-layout evaluation): whether its trajectory ever reaches the far side of
    the wall, seen from the start (the crossing rule counts x >= wall_x as the right side)."""
    env = make_env(params, "passage")
    left = env.start[0] < env.wall_x
    return f["traj_x"].map(lambda x: bool(np.any((np.asarray(x) >= env.wall_x) if left
                                                 else (np.asarray(x) < env.wall_x))))


def end_positions(f: pd.DataFrame) -> np.ndarray:
    """Final positions (n, 2) of the episodes ``f`` (rows of a final evaluation, with trajectories)."""
    if f.empty:
        return np.zeros((0, 2))
    return np.array([[float(x[-1]), float(y[-1])] for x, y in zip(f["traj_x"], f["traj_y"])], dtype=float)


def pairwise_spread(ends: np.ndarray, skills, points: str = "episodes") -> float:
    """Spread of the skills' end states: ``episodes`` = the mean Euclidean distance between the final
    positions ``ends`` (n, 2) of every pair of episodes of *different* skills; ``skill_means`` = the mean
    distance between every pair of the skills' mean final positions. NaN with fewer than two skills."""
    ends = np.asarray(ends, dtype=float).reshape(-1, 2)
    skills = np.asarray(skills)
    if points == "skill_means":
        ids = np.unique(skills)
        ends = np.stack([ends[skills == k].mean(axis=0) for k in ids]) if len(ids) else ends[:0]
        skills = ids
    elif points != "episodes":
        raise ValueError(f"points: expected 'episodes' or 'skill_means', got {points!r}")
    d = np.sqrt(((ends[:, None, :] - ends[None, :, :]) ** 2).sum(-1))
    other = skills[:, None] != skills[None, :]
    return float(d[other].mean()) if other.any() else float("nan")


def final_spread(table: pd.DataFrame, eval_mode: str, points: str = "episodes") -> pd.Series:
    """:func:`pairwise_spread` of each (algo, seed, layout)'s final ``eval_mode`` evaluation (one skill count)."""
    f = final_rows(table)
    f = f[f["eval_mode"] == eval_mode]
    out = {key: pairwise_spread(end_positions(g), g["skill"].to_numpy(), points)
           for key, g in f.groupby(["algo", "seed", "layout"])}
    return _keyed(out)


@functools.lru_cache(maxsize=16)
def _random_policy_spread(env: PointMass, n: int, seed: int) -> float:
    gen = torch.Generator().manual_seed(seed)
    P = env.rollout(lambda pos, t: torch.rand(pos.shape[0], 2, generator=gen, dtype=pos.dtype) * 2 - 1, n)
    e = P[-1].double()
    return float(torch.cdist(e, e).sum() / (n * (n - 1)))


def random_policy_spread(params: dict, layout: str, n: int = 4096, seed: int = 0) -> float:
    """Expected distance between the final positions of two independent episodes of a uniform random policy
    (each action coordinate uniform on [-1, 1], the action box of the skills' tanh policy and the limit of the
    reward-0 agent's maximum-entropy policy) in ``layout``, from its start over its horizon: the mean over every
    pair of ``n`` seeded episodes. A property of the environment, not of any run."""
    return _random_policy_spread(make_env(params, layout), int(n), int(seed))


def passage_skills(table: pd.DataFrame, params: dict, eval_mode: str, min_episode_share: float = 0.5,
                   ) -> pd.Series:
    """Passage layout, final ``eval_mode`` evaluation (one skill count): per (algo, seed), the number of skills
    at least ``min_episode_share`` of whose episodes ever reach the far side of the wall."""
    f = final_rows(table)
    f = f[(f["layout"] == "passage") & (f["eval_mode"] == eval_mode)]
    if f.empty:
        return pd.Series(dtype=float)
    share = _reached_far_side(f, params).groupby([f["algo"], f["seed"], f["skill"]]).mean()
    return (share >= float(min_episode_share) - 1e-12).groupby(level=["algo", "seed"]).sum().astype(float)


def _per_seed_layout(s: pd.Series, algo: str, lays: list[str]) -> pd.DataFrame:
    """(seed x layout) values of ``algo`` from a Series keyed by (algo, seed, layout); empty where absent."""
    if algo not in set(s.index.get_level_values("algo")):
        return pd.DataFrame(columns=lays, dtype=float, index=pd.Index([], name="seed"))
    return s.xs(algo, level="algo").unstack("layout").reindex(columns=lays)


# --------------------------------------------------------------------------- figures


def _draw_walls(ax, params: dict, layout: str) -> None:
    env = make_env(params, layout)
    b = env.bound
    ax.plot([-b, b, b, -b, -b], [-b, -b, b, b, -b], color="black", lw=1.2)
    if layout == "passage":
        lo, hi = env.gap_center - env.gap / 2, env.gap_center + env.gap / 2
        ax.plot([env.wall_x, env.wall_x], [-b, lo], color="black", lw=2.5)
        ax.plot([env.wall_x, env.wall_x], [hi, b], color="black", lw=2.5)
    ax.scatter([env.start[0]], [env.start[1]], marker="*", s=80, color="black", zorder=4)


def figures(table: pd.DataFrame, params: dict, outdir) -> None:
    from pathlib import Path

    from ...plotting import curve_iqm_ci, savefig, setup

    plt = setup()
    outdir = Path(outdir)
    table = for_skill_count(table, select_skill_count(table, params))  # the primary skill count
    algos = present(table, ALGOS)
    lays = present(table, list(LAYOUT_IDS), column="layout")
    seed = int(table["seed"].min())
    f = final_rows(table)
    f = f[(f["seed"] == seed) & (f["eval_mode"] == EVAL_MODE)]
    per = int(params.get("figure_episodes_per_skill", 2))
    f = _episodes_subset(f, per)
    fig, axes = plt.subplots(len(lays), len(algos), figsize=(4.2 * len(algos), 4.2 * len(lays)),
                             squeeze=False, constrained_layout=True)
    K = int(table["num_skills"].max())
    cmap = plt.get_cmap("tab10" if K <= 10 else "hsv")
    for i, lay in enumerate(lays):
        for j, algo in enumerate(algos):
            ax = axes[i, j]
            g = f[(f["algo"] == algo) & (f["layout"] == lay)]
            for _, r in g.iterrows():
                col = cmap(r["skill"] % 10) if K <= 10 else cmap(r["skill"] / K)
                ax.plot(r["traj_x"], r["traj_y"], color=col, lw=1.0, alpha=0.85)
                ax.scatter(r["traj_x"][-1:], r["traj_y"][-1:], color=col, s=10)
            _draw_walls(ax, params, lay)
            ax.set_aspect("equal")
            ax.set_title(f"{LABELS.get(algo, algo)}, {lay}", fontsize=10)
            ax.set_xticks([])
            ax.set_yticks([])
    fig.suptitle(f"Skills after training (seed {seed}, {per} {EVAL_MODE} rollouts per skill, colour = skill)")
    savefig(fig, outdir / f"{EXPERIMENT}_trajectories.png")

    # learning curves: per-seed means at every evaluation point
    st = table[table["eval_mode"] == EVAL_MODE]
    per_seed = st.groupby(["algo", "seed", "layout", "env_steps"]).agg(
        acc=("acc", "mean"), ret=("return", "mean"), coverage=("coverage", "first"),
        steps=("steps", "first")).reset_index()
    per_seed["reward_per_step"] = per_seed["ret"] / per_seed["steps"]
    metrics = [("acc", "discriminator accuracy\n(fresh rollouts)"),
               ("reward_per_step", "pseudo-reward per step\nlog q(z|s) - log p(z)"),
               ("coverage", "coverage (fraction of cells)")]
    fig, axes = plt.subplots(len(metrics), len(lays), figsize=(5.2 * len(lays), 3.2 * len(metrics)),
                             squeeze=False, constrained_layout=True)
    for j, lay in enumerate(lays):
        sub = per_seed[per_seed["layout"] == lay]
        for i, (col, label) in enumerate(metrics):
            ax = axes[i, j]
            curve_iqm_ci(ax, sub, "env_steps", col, order=algos, labels=LABELS)
            if col == "acc":
                ax.axhline(1.0 / K, ls="--", color="grey", lw=1, label=f"chance 1/K = {1 / K:.2f}")
            ax.set_ylabel(label)
            ax.set_xlabel("environment steps")
            if i == 0:
                ax.set_title(f"layout: {lay}")
                ax.legend(fontsize=8)
    fig.suptitle(f"Point mass: DIAYN vs reward-free skills, {EVAL_MODE} evaluation rollouts "
                 f"(IQM over {table['seed'].nunique()} seeds, 95% CI)")
    savefig(fig, outdir / f"{EXPERIMENT}_learning_curves.png")


# --------------------------------------------------------------------------- report


def report_section(table: pd.DataFrame, params: dict) -> str:
    full = table
    table = for_skill_count(table, select_skill_count(table, params))  # the primary skill count
    f = final_rows(table)
    K = int(table["num_skills"].max())
    grid = int(params.get("eval", {}).get("coverage_grid", 10))
    lines = [f"Final evaluation ({table['seed'].nunique()} seeds, K = {K} skills, chance 1/K = {1 / K:.3f}; "
             "means over seeds):", "",
             "| layout | algo | eval mode | discriminator acc. | fresh classifier acc. | "
             f"coverage ({grid}x{grid}) | pseudo-return / episode |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for lay in present(f, list(LAYOUT_IDS), column="layout"):
        for algo in present(f, ALGOS):
            for mode in ("stochastic", "deterministic"):
                g = f[(f["layout"] == lay) & (f["algo"] == algo) & (f["eval_mode"] == mode)]
                s = g.groupby("seed").agg(acc=("acc", "mean"), fresh=("fresh_acc", "first"),
                                          cover=("coverage", "first"), ret=("return", "mean")).mean()
                lines.append(f"| {lay} | {algo} | {mode} | {s['acc']:.3f} | {s['fresh']:.3f} | "
                             f"{s['cover']:.3f} | {s['ret']:.1f} |")
    if set(ALGOS) <= set(f["algo"]):
        bound = float(params.get("env", {}).get("bound", 1.0))
        lines += ["", "Coverage of DIAYN minus random skills at the end of training (mean over seeds and layouts; "
                  f"the claim `diayn_coverage` takes the {EVAL_MODE} rollouts, all episodes, 10x10):", "",
                  "| eval mode | episodes per skill | 5x5 | 10x10 | 20x20 |", "| --- | --- | --- | --- | --- |"]
        for mode in ("stochastic", "deterministic"):
            for eps in (1, None):
                cells = []
                for g in (5, 10, 20):
                    c = final_coverage(table, g, mode, eps, bound)
                    d = (c.xs("diayn", level="algo") - c.xs("random_skills", level="algo")).dropna()
                    cells.append(f"{d.mean():+.3f}")
                lines.append(f"| {mode} | {'all' if eps is None else eps} | " + " | ".join(cells) + " |")
    cr = crossed_passage(table, params)
    if not cr.empty:
        g = cr.groupby(["algo", "eval_mode"]).mean()
        lines += ["", "Passage layout: share of final evaluation episodes that reach the other room (means over "
                  "seeds): " + "; ".join(f"{a} {m} {v:.2f}" for (a, m), v in g.items()) + "."]
    lines += [""] + _spread_passage_lines(full, params)
    lines += ["", "Accuracies are measured on fresh evaluation episodes (never in the replay). `random_skills` is "
              "the same SAC agent trained on reward 0 (maximum entropy only): its learned discriminator stays at "
              "chance. Its stochastic rollouts are random walks, which visit many cells, while DIAYN's skills head "
              "for distinct regions and stay there; its deterministic rollouts (mean action) barely move. Coverage "
              "therefore depends on the evaluation mode, which the coverage claim's robustness table varies. "
              "Deterministic rollouts of *any* skill-conditioned policy repeat exactly, so a classifier trained "
              "from scratch on them separates even the reward-free skills (fresh classifier column); this is why "
              "`diayn_discriminable` is decided against the reward-0 agent (the same artefact on both sides "
              "cancels) and not against chance. Skills are evaluated deterministically in the claims and figures "
              "because the authors' released code does so (haarnoja/sac: `eval_deterministic=True` by default, "
              "`scripts/visualize_skills.py` rolls skills out deterministically by default)."]
    return "\n".join(lines) + "\n"


def _spread_passage_lines(table: pd.DataFrame, params: dict) -> list[str]:
    """The quantities of ``diayn_end_spread`` and ``diayn_passage`` per skill count, algorithm and evaluation
    mode, with the random-policy reference (means over seeds)."""
    lays = present(table, list(LAYOUT_IDS), column="layout")
    counts = [k for k in (select_skill_count(table, params), select_skill_count(table, params, "other"))
              if k is not None and k in set(table["num_skills"])]
    lines = ["End-state spread (mean distance between the final positions of episodes of different skills, "
             "claim `diayn_end_spread`) and, in the passage layout, skills whose episodes reach the other room "
             "in at least half of their episodes (claim `diayn_passage`); means over seeds:", "",
             "| K | algo | eval mode | " + " | ".join(f"spread, {lay}" for lay in lays)
             + (" | skills through the passage |" if "passage" in lays else " |"),
             "| --- | --- | --- | " + " | ".join("---" for _ in lays) + (" | --- |" if "passage" in lays else " |")]
    for K in counts:
        t = for_skill_count(table, K)
        for algo in present(t, ALGOS):
            for mode in ("deterministic", "stochastic"):
                sp = final_spread(t, mode)
                cells = []
                for lay in lays:
                    try:
                        cells.append(f"{sp.xs((algo, lay), level=('algo', 'layout')).mean():.3f}")
                    except KeyError:
                        cells.append("")
                row = f"| {K} | {algo} | {mode} | " + " | ".join(cells)
                if "passage" in lays:
                    ps = passage_skills(t, params, mode)
                    has = len(ps) and algo in set(ps.index.get_level_values("algo"))
                    row += f" | {ps.xs(algo, level='algo').mean():.2f} of {K}" if has else " | "
                lines.append(row + " |")
    ref = "; ".join(f"{lay} {random_policy_spread(params, lay):.3f}" for lay in lays)
    lines += ["", f"Reference: two independent episodes of a uniform random policy of the same action scale end "
              f"{ref} apart (expected distance; `diayn_end_spread` requires DIAYN's skills to end farther apart "
              "than both this and the reward-0 agent's skills, evaluated the same way)."]
    return lines

