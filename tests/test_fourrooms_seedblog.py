"""The chapter's Four Rooms listing as ported in hrlmeta.algos.listing_fourrooms, and its experiment."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pandas as pd
import pytest

from hrlmeta import tidy
from hrlmeta.algos import listing_fourrooms as sb
from hrlmeta.config import load_schema, schema_defaults
from hrlmeta.experiments import REGISTRY
from hrlmeta.experiments.fourrooms_seedblog import analysis as E
from hrlmeta.experiments.fourrooms_seedblog import training

DOORS = {(6, 3), (6, 9), (3, 6), (9, 6)}

# The chapter's listing, classes only (plotting and run_comparison left out), re-indented and otherwise
# verbatim: it draws from the module-global ``np.random``.
LISTING = '''
class FourRoomsEnv:
    def __init__(self, size=13):
        self.size = size
        self.grid = np.zeros((size, size), dtype=int)
        self.grid[:, size//2] = 1
        self.grid[size//2, :] = 1
        self.grid[size//2, size//4] = 0 # Left door
        self.grid[size//2, 3*size//4] = 0 # Right door
        self.grid[size//4, size//2] = 0 # Top door
        self.grid[3*size//4, size//2] = 0 # Bottom door
        self.actions = [(-1, 0), (0, 1), (1, 0), (0, -1)]
        self.rooms = {
            0: [(i, j) for i in range(size//2) for j in range(size//2) if self.grid[i, j] == 0],
            1: [(i, j) for i in range(size//2) for j in range(size//2+1, size) if self.grid[i, j] == 0],
            2: [(i, j) for i in range(size//2+1, size) for j in range(size//2) if self.grid[i, j] == 0],
            3: [(i, j) for i in range(size//2+1, size) for j in range(size//2+1, size) if self.grid[i, j] == 0],
        }
        self.hallways = [
            (size//2, size//4), # Room 0 exit
            (size//4, size//2), # Room 1 exit
            (3*size//4, size//2), # Room 2 exit
            (size//2, 3*size//4), # Room 3 exit
        ]

    def reset(self, goal=None):
        while True:
            self.agent_pos = (np.random.randint(0, self.size), np.random.randint(0, self.size))
            if self.grid[self.agent_pos] == 0:
                break
        if goal is None:
            while True:
                self.goal_pos = (np.random.randint(0, self.size), np.random.randint(0, self.size))
                if self.grid[self.goal_pos] == 0 and self.goal_pos != self.agent_pos:
                    break
        else:
            self.goal_pos = goal
        return self.agent_pos

    def step(self, action):
        dy, dx = self.actions[action]
        new_pos = (self.agent_pos[0] + dy, self.agent_pos[1] + dx)
        if 0 <= new_pos[0] < self.size and 0 <= new_pos[1] < self.size and self.grid[new_pos] == 0:
            self.agent_pos = new_pos
        done = (self.agent_pos == self.goal_pos)
        reward = 1.0 if done else -0.01
        return self.agent_pos, reward, done

class Option:
    def __init__(self, name, initiation_set, goal_states):
        self.name = name
        self.initiation_set = initiation_set
        self.goal_states = goal_states
        self.policy = {}

    def can_initiate(self, state):
        return state in self.initiation_set

    def should_terminate(self, state):
        return state in self.goal_states

    def act(self, state, epsilon=0.1):
        if state not in self.policy:
            return np.random.randint(4)
        if np.random.rand() < epsilon:
            return np.random.randint(4)
        return self.policy[state]

def create_options(env):
    options = []
    for room_id in range(4):
        option = Option(
            name=f"GoToHallway{room_id}",
            initiation_set=env.rooms[room_id],
            goal_states=[env.hallways[room_id]]
        )
        options.append(option)
    return options

class IntraOptionQLearning:
    def __init__(self, env, options, alpha=0.5, gamma=0.99, epsilon=0.1):
        self.env = env
        self.options = options
        self.alpha = alpha
        self.gamma = gamma
        self.epsilon = epsilon
        self.Q = defaultdict(lambda: np.zeros(len(options)))
        self.Q_primitive = defaultdict(lambda: np.zeros(4))

    def select_option(self, state):
        available_options = [i for i, o in enumerate(self.options) if o.can_initiate(state)]
        if not available_options:
            return None
        if np.random.rand() < self.epsilon:
            return np.random.choice(available_options)
        q_values = self.Q[state][available_options]
        return available_options[np.argmax(q_values)]

    def train_episode(self):
        state = self.env.reset()
        total_reward = 0
        steps = 0
        while steps < 1000:
            option_id = self.select_option(state)
            if option_id is None:
                break
            option = self.options[option_id]
            while not option.should_terminate(state) and steps < 1000:
                action = option.act(state, self.epsilon)
                next_state, reward, done = self.env.step(action)
                total_reward += reward
                steps += 1
                if option.should_terminate(next_state):
                    U = np.max(self.Q[next_state])
                else:
                    U = self.Q[next_state][option_id]
                self.Q[state][option_id] += self.alpha * (reward + self.gamma * U - self.Q[state][option_id])
                self.Q_primitive[state][action] += self.alpha * (reward + self.gamma * np.max(self.Q_primitive[next_state]) - self.Q_primitive[state][action])
                option.policy[state] = np.argmax(self.Q_primitive[state])
                state = next_state
                if done:
                    return total_reward, steps
        return total_reward, steps

class FlatQLearning:
    def __init__(self, env, alpha=0.5, gamma=0.99, epsilon=0.1):
        self.env = env
        self.alpha = alpha
        self.gamma = gamma
        self.epsilon = epsilon
        self.Q = defaultdict(lambda: np.zeros(4))

    def train_episode(self):
        state = self.env.reset()
        total_reward = 0
        steps = 0
        while steps < 1000:
            if np.random.rand() < self.epsilon:
                action = np.random.randint(4)
            else:
                action = np.argmax(self.Q[state])
            next_state, reward, done = self.env.step(action)
            self.Q[state][action] += self.alpha * (reward + self.gamma * np.max(self.Q[next_state]) - self.Q[state][action])
            total_reward += reward
            steps += 1
            state = next_state
            if done:
                break
        return total_reward, steps
'''


class _SeededNumpy:
    """``np`` for the listing: numpy, except that ``np.random`` is a private RandomState(seed), which is
    what ``np.random.seed(seed)`` makes of the global generator -- without touching global state."""

    def __init__(self, seed: int):
        self.random = np.random.RandomState(seed)

    def __getattr__(self, name):
        return getattr(np, name)


def _listing_run(algo: str, seed: int, episodes: int):
    ns = {"np": _SeededNumpy(seed), "defaultdict": defaultdict}
    exec(LISTING, ns)
    env = ns["FourRoomsEnv"]()
    if algo == "intra_option_q":
        agent = ns["IntraOptionQLearning"](env, ns["create_options"](env))
    else:
        agent = ns["FlatQLearning"](env)
    out = [agent.train_episode() for _ in range(episodes)]
    return out, agent


@pytest.fixture(scope="module")
def env():
    return sb.FourRoomsEnv(np.random.RandomState(0))


# The plugin tests run the listing's layout on a 9x9 grid (size is the listing's own constructor
# argument): same rooms/doors/exits construction, and the exact reference is 10x cheaper to solve.
def _params(**given) -> dict:
    """The experiment's params: ``given`` plus its schema's defaults (as the config loader fills them in)."""
    return schema_defaults(dict(given), load_schema("fourrooms_seedblog", REGISTRY))


SMALL = _params(num_episodes=120, size=9)


@pytest.fixture(scope="module")
def table():
    """A small two-agent table through the plugin (6 seeds x 120 episodes, 9x9 grid)."""
    frames = []
    for algo in E.ALGOS:
        for seed in range(6):
            df = training.train(algo, [seed], SMALL)[0]
            df.insert(0, "experiment", "fourrooms_seedblog")
            frames.append(df)
    return tidy.normalise(pd.concat(frames, ignore_index=True), E.KIND)


# ---------------------------------------------------------------- the grid and the options, as written
def test_grid_matches_the_listing(env):
    g = env.grid
    assert g.shape == (13, 13)
    walls = {(i, j) for i in range(13) for j in range(13) if g[i, j] == 1}
    middle = {(6, j) for j in range(13)} | {(i, 6) for i in range(13)}
    assert walls == middle - DOORS  # the whole middle row and column, minus the four doors
    assert g[6, 6] == 1
    assert int((g == 0).sum()) == 148
    quadrants = {0: (range(6), range(6)), 1: (range(6), range(7, 13)),
                 2: (range(7, 13), range(6)), 3: (range(7, 13), range(7, 13))}
    for k, (rows, cols) in quadrants.items():
        assert env.rooms[k] == [(i, j) for i in rows for j in cols]
    # "Room X exit" exactly as the listing assigns them (each room gets one of its two doors)
    assert env.hallways == [(6, 3), (3, 6), (9, 6), (6, 9)]
    for k, h in enumerate(env.hallways):
        assert any((h[0] + dy, h[1] + dx) in env.rooms[k] for dy, dx in env.actions)
    for d in DOORS:
        assert env.get_room(d) == -1  # door cells belong to no room
    assert env.get_room((0, 0)) == 0 and env.get_room((12, 12)) == 3


def test_options_initiation_and_termination(env):
    options = sb.create_options(env)
    assert [o.name for o in options] == [f"GoToHallway{k}" for k in range(4)]
    for k, o in enumerate(options):
        assert o.initiation_set == env.rooms[k]
        assert o.goal_states == [env.hallways[k]]
        assert o.should_terminate(env.hallways[k])
        assert not any(o.should_terminate(d) for d in DOORS - {env.hallways[k]})
    free = [(i, j) for i in range(13) for j in range(13) if env.grid[i, j] == 0]
    for c in free:
        n_avail = sum(o.can_initiate(c) for o in options)
        assert n_avail == (0 if c in DOORS else 1)  # the option choice is always forced


def test_step_walls_and_reward(env):
    e = sb.FourRoomsEnv(np.random.RandomState(1))
    e.reset(goal=(5, 3))
    e.agent_pos = (5, 5)
    assert e.step(1) == ((5, 5), -0.01, False)  # bumping into the vertical wall: stay
    e.agent_pos = (5, 4)
    assert e.step(3) == ((5, 3), 1.0, True)
    e.agent_pos = (5, 3)
    assert e.step(2)[0] == (6, 3)  # through the left door


# ---------------------------------------------------------------- the port is the listing
@pytest.mark.parametrize("algo", ["flat_q", "intra_option_q"])
@pytest.mark.parametrize("seed", [0, 7])
def test_port_equals_the_listing_draw_for_draw(algo, seed):
    episodes = 40
    ref, ref_agent = _listing_run(algo, seed, episodes)
    recs = sb.run(algo, seed, num_episodes=episodes)
    assert [(r["ret"], r["steps"]) for r in recs] == [(float(a), b) for a, b in ref]
    # and the learned tables are bitwise the same
    rng = np.random.RandomState(seed)
    env = sb.FourRoomsEnv(rng)
    agent = (sb.IntraOptionQLearning(env, sb.create_options(env)) if algo == "intra_option_q"
             else sb.FlatQLearning(env))
    for _ in range(episodes):
        agent.train_episode()
    tables = ["Q", "Q_primitive"] if algo == "intra_option_q" else ["Q"]
    for name in tables:
        mine, theirs = getattr(agent, name), getattr(ref_agent, name)
        assert set(mine) == set(theirs)
        for s in theirs:
            np.testing.assert_array_equal(mine[s], theirs[s])


def test_determinism():
    a, c = training.train("intra_option_q", [3, 4], _params(num_episodes=30))
    b = training.train("intra_option_q", [3], _params(num_episodes=30))[0]
    pd.testing.assert_frame_equal(a, b)
    assert not a["steps"].equals(c["steps"])


# ---------------------------------------------------------------- instrumentation accounting
def test_instrumentation_accounting(table):
    assert set(table["ended_by"]) <= set(sb.END_REASONS)
    for algo, sub in table.groupby("algo"):
        counts = sub["ended_by"].value_counts()
        assert counts.sum() == len(sub) == 6 * 120
        assert (sub["success"] == (sub["ended_by"] == sb.GOAL)).all()
        won = sub[sub["success"]]
        assert ((won["final_row"] == won["goal_row"]) & (won["final_col"] == won["goal_col"])).all()
        assert (sub.loc[sub["ended_by"] == sb.STEP_CAP, "steps"] == 1000).all()
        # return = +1 at the goal, -0.01 for every other step
        expect = np.where(sub["success"], 1.0 - 0.01 * (sub["steps"] - 1), -0.01 * sub["steps"])
        np.testing.assert_allclose(sub["return"], expect, atol=1e-9)
        assert not ((sub["start_row"] == sub["goal_row"]) & (sub["start_col"] == sub["goal_col"])).any()
    flat = table[table["algo"] == "flat_q"]
    assert (flat["decisions"] == flat["steps"]).all()
    assert (flat["ended_by"] != sb.NO_OPTION).all()


def test_options_episode_mechanism(table):
    """Door cells are in no room: an options episode ends where its (single) option terminates."""
    opt = table[table["algo"] == "intra_option_q"]
    assert set(opt["decisions"]) <= {0, 1}
    door = opt[opt["start_is_door"]]
    assert len(door) > 0
    assert (door["steps"] == 0).all() and (door["ended_by"] == sb.NO_OPTION).all()
    assert (door["return"] == 0.0).all() and (door["decisions"] == 0).all()
    no_opt = opt[(opt["ended_by"] == sb.NO_OPTION) & ~opt["start_is_door"]]
    assert len(no_opt) > 0
    exits = [sb.FourRoomsEnv(np.random.RandomState(0), size=9).hallways[r] for r in no_opt["start_room"]]
    assert [tuple(x) for x in no_opt[["final_row", "final_col"]].to_numpy()] == exits
    assert (no_opt["option_exits"] == 1).all() and not no_opt["success"].any()


def test_start_on_a_door_is_a_zero_step_episode():
    env = sb.FourRoomsEnv(np.random.RandomState(0))
    agent = sb.IntraOptionQLearning(env, sb.create_options(env))

    def reset(goal=None):
        env.agent_pos, env.goal_pos = (3, 6), (0, 0)
        return env.agent_pos

    env.reset = reset
    before = env.rng.get_state()[2]
    assert agent.train_episode() == (0, 0)
    assert agent.last_episode["ended_by"] == sb.NO_OPTION and not agent.last_episode["success"]
    assert env.rng.get_state()[2] == before  # nothing drawn, nothing learned
    assert len(agent.Q_primitive) == 0


# ---------------------------------------------------------------- the exact random-policy reference
def test_random_policy_reference_matches_the_port_at_epsilon_one():
    """With epsilon = 1 both agents act uniformly at random; the exact Markov-chain values must match
    the port's Monte Carlo average (9x9 layout and a short step cap to keep it fast)."""
    cap, n = 30, 3000
    ref = E.random_policy_reference(9, cap)["random_policy"]
    for algo in E.ALGOS:
        recs = sb.run(algo, 11, num_episodes=n, size=9, epsilon=1.0, max_steps=cap)
        steps = np.array([r["steps"] for r in recs], float)
        succ = np.array([r["success"] for r in recs], float)
        assert abs(steps.mean() - ref[algo]["expected_steps"]) < 4.5 * steps.std() / np.sqrt(n)
        assert abs(succ.mean() - ref[algo]["success_prob"]) < 4.5 * succ.std() / np.sqrt(n)


def test_quarter_turn_reduction_is_exact():
    sym = E.random_policy_reference(7, 30)["random_policy"]
    full = E.random_policy_reference(7, 30, use_symmetry=False)["random_policy"]
    for algo in E.ALGOS:
        for key in ("expected_steps", "success_prob"):
            assert sym[algo][key] == pytest.approx(full[algo][key], rel=1e-10)


def test_goal_aware_optimum_is_a_shortest_path_mean():
    ref = E.random_policy_reference(9, 30)
    assert ref["n_free_cells"] == 68 and ref["n_door_cells"] == 4
    # brute force: Floyd-Warshall on the 9x9 layout
    env = sb.FourRoomsEnv(np.random.RandomState(0), size=9)
    cells = [(i, j) for i in range(9) for j in range(9) if env.grid[i, j] == 0]
    n = len(cells)
    d = np.full((n, n), np.inf)
    np.fill_diagonal(d, 0)
    for a, c in enumerate(cells):
        for b, e in enumerate(cells):
            if abs(c[0] - e[0]) + abs(c[1] - e[1]) == 1:
                d[a, b] = 1
    for k in range(n):
        d = np.minimum(d, d[:, [k]] + d[[k], :])
    assert ref["goal_aware_optimal_expected_steps"] == pytest.approx(d.sum() / (n * (n - 1)))


# ---------------------------------------------------------------- the plugin
def test_tables_pass_the_schema(table):
    tidy.validate(table, E.KIND)
    assert (table["env"] == "seedblog_fourrooms_9x9").all()
    assert table.groupby(["algo", "seed"])["episode"].apply(lambda s: list(s) == list(range(120))).all()


def test_config_blocks_validate_and_bad_keys_are_named():
    from hrlmeta.config import ConfigError, _check, load_config, load_schema

    for overlay in ((), ("config/smoke.yaml",), ("config/paper.yaml",)):
        cfg = load_config(REGISTRY, *overlay)
        block = cfg["experiments"]["fourrooms_seedblog"]
        assert block["algos"] == ["flat_q", "intra_option_q"]
    with pytest.raises(ConfigError, match="num_episode"):
        _check({"num_episode": 5}, load_schema("fourrooms_seedblog", REGISTRY), "experiments.fourrooms_seedblog.params")
    with pytest.raises(KeyError, match="no algorithm"):
        training.train("smdp_q_options", [0], _params(num_episodes=1))


def test_claims_report_and_figures(table, tmp_path):
    from hrlmeta.claims import load_claims, measure_claim
    from hrlmeta.experiments.fourrooms_seedblog.figures import figures
    from hrlmeta.experiments.fourrooms_seedblog.measures import MEASURES
    from hrlmeta.plotting import setup
    from hrlmeta.report import report_text

    claims = load_claims(REGISTRY.claims_path("fourrooms_seedblog"), experiment="fourrooms_seedblog")
    assert {c["id"] for c in claims} >= {"options_speedup_seedblog"}
    for c in claims:
        s = measure_claim(MEASURES, c, table, SMALL)
        assert np.asarray(s.values).shape == (6,) and np.isfinite(s.values).all()
    sp = measure_claim(MEASURES, next(c for c in claims if c["id"] == "options_speedup_seedblog"), table, SMALL)
    means = table.groupby(["algo", "seed"])["steps"].mean()
    np.testing.assert_allclose(sp.values, (means["flat_q"] / means["intra_option_q"]).to_numpy())
    text = "\n".join(report_text(REGISTRY, "fourrooms_seedblog", table, SMALL))
    opt = table[table["algo"] == "intra_option_q"]
    assert f"{100 * (opt['ended_by'] == sb.NO_OPTION).mean():.1f}% of options episodes" in text
    setup()
    figures(table, {**SMALL, "smooth": 5}, tmp_path)
    for name in E.FIGURES:
        assert (tmp_path / f"fourrooms_seedblog_{name}.png").stat().st_size > 10_000
