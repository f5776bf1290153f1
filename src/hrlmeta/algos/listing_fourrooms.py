"""The chapter's own "Options in Four Rooms" listing, ported as written.

Source: the survey chapter, section "Complete Code Implementation: Options in Four Rooms" (classes
``FourRoomsEnv``, ``Option``, ``create_options``, ``IntraOptionQLearning``, ``FlatQLearning`` and the
function ``run_comparison``). The chapter's listing is *not* a trusted reference: it is reproduced
here line for line so that what it really measures can be audited (see
:mod:`hrlmeta.experiments.fourrooms_seedblog`). Nothing in its logic is fixed.

What the listing does (kept exactly)
------------------------------------
* 13x13 grid; walls on the whole middle row 6 and middle column 6; four doors opened in them at
  (6, 3) "left", (6, 9) "right", (3, 6) "top", (9, 6) "bottom". The centre (6, 6) stays a wall.
  148 free cells: four 6x6 rooms plus the four door cells, which belong to *no* room.
* ``rooms[k]``: the free cells of quadrant k (0 top-left, 1 top-right, 2 bottom-left, 3 bottom-right).
* ``hallways[k]`` ("Room k exit"), as the listing assigns them: room 0 -> (6, 3), room 1 -> (3, 6),
  room 2 -> (9, 6), room 3 -> (6, 9). Each room gets exactly one of its two doors.
* Option k ("GoToHallwayk"): initiation set = ``rooms[k]``, termination = reaching ``hallways[k]``.
  Every option has its own ``policy`` dict, written only while that option runs, from the single
  ``Q_primitive`` table shared by all options (and learned from the *task* reward, not from the
  option's subgoal). ``act`` is epsilon-greedy on that dict; uniformly random where it is empty.
* Reward +1 when the agent's cell equals the goal (episode done), -0.01 for every other step.
* ``reset`` draws the start uniformly over free cells by rejection (two ``randint(0, 13)`` per try)
  and then, every episode, a new goal the same way (a free cell different from the start).
  Door cells are free cells, so starts and goals can be doors.
* Intra-option Q-learning as written: one option selected epsilon-greedily among those whose
  initiation set holds the current cell (``None`` -> the episode loop breaks); executed until its
  termination cell or the 1000-step cap; after every primitive step the intra-option update of
  Q(s, o) for the running option only (U = max_o' Q(s', o') if s' terminates the option, else
  Q(s', o)), then a one-step Q-learning update of ``Q_primitive`` and
  ``option.policy[s] = argmax Q_primitive[s]``; ``if done: return``.
* Flat Q-learning: epsilon-greedy on Q(s, a), one-step Q-learning, 1000-step cap, break on done.
* alpha 0.5, gamma 0.99, epsilon 0.1 (the listing's defaults). Q tables start at zero, ``argmax``
  breaks ties towards the lowest index (action 0 = up), as numpy does.

Indentation (lost in the chapter's text) -- the readings taken
--------------------------------------------------------------
Everything but one line has a single reading that runs. The one ambiguous line is ``if done: return
total_reward, steps`` in ``IntraOptionQLearning.train_episode``: it can sit at the end of the inner
(option-execution) loop or after it, in the outer loop. We take the inner loop: ``done`` is computed
by the step of that loop, the flat agent's twin line (``if done: break``) sits in its step loop, and
the other reading would let the agent walk past the goal (the environment does not stop) until the
option reaches its exit. ``reset``'s ``if goal is None`` block sits after the start-sampling loop.

Deviations from the text (none in the logic)
--------------------------------------------
1. Seeding: the listing draws from numpy's global ``np.random``. Here every random call goes to one
   ``numpy.random.RandomState(seed)`` passed through to the environment, the options and the agent,
   with the listing's calls (``randint``, ``rand``, ``choice``) in the listing's order. RandomState,
   not ``Generator``: it *is* the legacy global generator's class, so every draw has exactly the
   listing's sampling semantics, and a run here equals the listing run after ``np.random.seed(seed)``
   draw for draw (tests/test_fourrooms_seedblog.py checks this against the re-indented listing).
   The listing's ``run_comparison`` pushes both agents of all trials through one global stream
   (options then flat, trial after trial); here each (agent, seed) run owns its stream: the same
   distribution for every draw, not the same numbers.
2. Plotting and printing removed (``run_comparison``'s figure; the averages it plots are computed
   by the experiment from the per-episode rows).
3. Instrumentation, read-only: ``train_episode`` still returns ``(total_reward, steps)`` and makes
   exactly the same random calls and updates; in addition it leaves a record of the episode in
   ``agent.last_episode`` (start and goal cells, how the episode ended, options selected, final
   cell, ...). ``run`` collects those records, one per episode.
4. ``size``, the step cap (the listing's literal 1000) and alpha/gamma/epsilon are arguments with
   the listing's values as defaults.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

#: how an episode can end (``ended_by``)
GOAL = "goal"  # the agent's cell equals the goal: the listing's ``done``
STEP_CAP = "step_cap"  # the 1000-step cap was reached first
NO_OPTION = "no_option_available"  # select_option returned None: the listing's outer ``break``
END_REASONS = (GOAL, STEP_CAP, NO_OPTION)


# ============ Four Rooms Environment ============
class FourRoomsEnv:
    """Four Rooms Grid World (the listing's layout; see the module docstring)."""

    def __init__(self, rng: np.random.RandomState, size: int = 13):
        self.rng = rng
        self.size = size
        self.grid = np.zeros((size, size), dtype=int)

        # Set walls (1 = wall)
        # Vertical wall
        self.grid[:, size // 2] = 1
        self.grid[size // 2, :] = 1

        # Doors (0 = passable)
        self.grid[size // 2, size // 4] = 0  # Left door
        self.grid[size // 2, 3 * size // 4] = 0  # Right door
        self.grid[size // 4, size // 2] = 0  # Top door
        self.grid[3 * size // 4, size // 2] = 0  # Bottom door

        # Action space: 0=up, 1=right, 2=down, 3=left
        self.actions = [(-1, 0), (0, 1), (1, 0), (0, -1)]

        # Room partitioning (for defining Options)
        self.rooms = {
            0: [(i, j) for i in range(size // 2) for j in range(size // 2) if self.grid[i, j] == 0],  # Top-left
            1: [(i, j) for i in range(size // 2) for j in range(size // 2 + 1, size) if self.grid[i, j] == 0],  # Top-right
            2: [(i, j) for i in range(size // 2 + 1, size) for j in range(size // 2) if self.grid[i, j] == 0],  # Bottom-left
            3: [(i, j) for i in range(size // 2 + 1, size) for j in range(size // 2 + 1, size) if self.grid[i, j] == 0],  # Bottom-right
        }

        # Room exits (door positions)
        self.hallways = [
            (size // 2, size // 4),  # Room 0 exit
            (size // 4, size // 2),  # Room 1 exit
            (3 * size // 4, size // 2),  # Room 2 exit
            (size // 2, 3 * size // 4),  # Room 3 exit
        ]

    def reset(self, goal=None):
        """Randomly initialize position"""
        while True:
            self.agent_pos = (self.rng.randint(0, self.size), self.rng.randint(0, self.size))
            if self.grid[self.agent_pos] == 0:
                break

        if goal is None:
            while True:
                self.goal_pos = (self.rng.randint(0, self.size), self.rng.randint(0, self.size))
                if self.grid[self.goal_pos] == 0 and self.goal_pos != self.agent_pos:
                    break
        else:
            self.goal_pos = goal

        return self.agent_pos

    def step(self, action):
        """Execute action"""
        dy, dx = self.actions[action]
        new_pos = (self.agent_pos[0] + dy, self.agent_pos[1] + dx)

        # Check boundaries and walls
        if 0 <= new_pos[0] < self.size and 0 <= new_pos[1] < self.size and self.grid[new_pos] == 0:
            self.agent_pos = new_pos

        # Reward and termination
        done = self.agent_pos == self.goal_pos
        reward = 1.0 if done else -0.01

        return self.agent_pos, reward, done

    def get_room(self, pos):
        """Get room ID of position"""
        for room_id, positions in self.rooms.items():
            if pos in positions:
                return room_id
        return -1


# ============ Options Definition ============
class Option:
    """Option = (initiation_set, policy, termination)"""

    def __init__(self, name, initiation_set, goal_states, rng: np.random.RandomState):
        self.name = name
        self.initiation_set = initiation_set  # States where can be initiated
        self.goal_states = goal_states  # Subgoal states
        self.policy = {}  # Internal policy: state -> action (learned with Q-learning)
        self.rng = rng

    def can_initiate(self, state):
        """Whether can be initiated at state"""
        return state in self.initiation_set

    def should_terminate(self, state):
        """Whether should terminate at state"""
        return state in self.goal_states

    def act(self, state, epsilon=0.1):
        """Select action according to internal policy"""
        if state not in self.policy:
            return self.rng.randint(4)

        if self.rng.rand() < epsilon:
            return self.rng.randint(4)
        return self.policy[state]


def create_options(env):
    """Create 4 Options for Four Rooms, each corresponding to a room exit"""
    options = []
    for room_id in range(4):
        option = Option(
            name=f"GoToHallway{room_id}",
            initiation_set=env.rooms[room_id],
            goal_states=[env.hallways[room_id]],
            rng=env.rng,
        )
        options.append(option)
    return options


def _episode_record(env, start):
    """Instrumentation only: what the listing's episode started from."""
    return {
        "start_row": int(start[0]),
        "start_col": int(start[1]),
        "goal_row": int(env.goal_pos[0]),
        "goal_col": int(env.goal_pos[1]),
        "start_room": env.get_room(start),
        "goal_room": env.get_room(env.goal_pos),
        "start_is_door": bool(env.get_room(start) == -1),
        "goal_is_door": bool(env.get_room(env.goal_pos) == -1),
    }


# ============ Intra-Option Q-Learning ============
class IntraOptionQLearning:
    def __init__(self, env, options, alpha=0.5, gamma=0.99, epsilon=0.1, max_steps=1000):
        self.env = env
        self.options = options
        self.alpha = alpha
        self.gamma = gamma
        self.epsilon = epsilon
        self.max_steps = max_steps  # the listing's literal 1000
        self.rng = env.rng
        self.last_episode: dict = {}

        # Option-value function: Q(s, o)
        self.Q = defaultdict(lambda: np.zeros(len(options)))

        # Primitive Q-function (for learning Option internal policy)
        self.Q_primitive = defaultdict(lambda: np.zeros(4))

    def select_option(self, state):
        """ε-greedy Option selection"""
        available_options = [i for i, o in enumerate(self.options) if o.can_initiate(state)]
        if not available_options:
            return None

        if self.rng.rand() < self.epsilon:
            return self.rng.choice(available_options)

        q_values = self.Q[state][available_options]
        return available_options[np.argmax(q_values)]

    def train_episode(self):
        """Train one episode"""
        state = self.env.reset()
        total_reward = 0
        steps = 0
        # --- instrumentation (read-only) ---
        rec = _episode_record(self.env, state)
        rec.update(decisions=0, option_exits=0, ended_by=None, first_option=-1)
        self.last_episode = rec
        # -----------------------------------

        while steps < self.max_steps:
            # Select Option
            option_id = self.select_option(state)
            if option_id is None:
                rec["ended_by"] = NO_OPTION  # instrumentation
                break

            option = self.options[option_id]
            rec["decisions"] += 1  # instrumentation
            if rec["first_option"] < 0:  # instrumentation
                rec["first_option"] = int(option_id)

            # Execute Option until termination
            while not option.should_terminate(state) and steps < self.max_steps:
                # Select action
                action = option.act(state, self.epsilon)
                next_state, reward, done = self.env.step(action)

                total_reward += reward
                steps += 1

                # ===== Intra-Option Q Update =====
                # Compute continuation value
                if option.should_terminate(next_state):
                    U = np.max(self.Q[next_state])  # Terminate, select optimal next Option
                else:
                    U = self.Q[next_state][option_id]  # Continue current Option

                # Update Q(s, o)
                self.Q[state][option_id] += self.alpha * (reward + self.gamma * U - self.Q[state][option_id])

                # ===== Update Option Internal Policy =====
                self.Q_primitive[state][action] += self.alpha * (
                    reward + self.gamma * np.max(self.Q_primitive[next_state]) - self.Q_primitive[state][action]
                )
                option.policy[state] = np.argmax(self.Q_primitive[state])

                state = next_state

                if done:
                    rec["ended_by"] = GOAL  # instrumentation
                    self._finish(rec, total_reward, steps, state)
                    return total_reward, steps

            if option.should_terminate(state):  # instrumentation: the option reached its exit
                rec["option_exits"] += 1

        if rec["ended_by"] is None:  # instrumentation: the while condition failed
            rec["ended_by"] = STEP_CAP
        self._finish(rec, total_reward, steps, state)
        return total_reward, steps

    def _finish(self, rec, total_reward, steps, state):
        """Instrumentation only."""
        rec.update(
            steps=steps,
            ret=float(total_reward),
            success=rec["ended_by"] == GOAL,
            final_row=int(state[0]),
            final_col=int(state[1]),
        )


# ============ Vanilla Q-Learning (Baseline) ============
class FlatQLearning:
    def __init__(self, env, alpha=0.5, gamma=0.99, epsilon=0.1, max_steps=1000):
        self.env = env
        self.alpha = alpha
        self.gamma = gamma
        self.epsilon = epsilon
        self.max_steps = max_steps  # the listing's literal 1000
        self.rng = env.rng
        self.last_episode: dict = {}
        self.Q = defaultdict(lambda: np.zeros(4))

    def train_episode(self):
        state = self.env.reset()
        total_reward = 0
        steps = 0
        rec = _episode_record(self.env, state)  # instrumentation
        ended_by = STEP_CAP  # instrumentation

        while steps < self.max_steps:
            # ε-greedy
            if self.rng.rand() < self.epsilon:
                action = self.rng.randint(4)
            else:
                action = np.argmax(self.Q[state])

            next_state, reward, done = self.env.step(action)

            # Q-learning update
            self.Q[state][action] += self.alpha * (reward + self.gamma * np.max(self.Q[next_state]) - self.Q[state][action])

            total_reward += reward
            steps += 1
            state = next_state

            if done:
                ended_by = GOAL  # instrumentation
                break

        # --- instrumentation (read-only) ---
        rec.update(
            decisions=steps,
            option_exits=0,
            first_option=-1,
            ended_by=ended_by,
            steps=steps,
            ret=float(total_reward),
            success=ended_by == GOAL,
            final_row=int(state[0]),
            final_col=int(state[1]),
        )
        self.last_episode = rec
        # -----------------------------------
        return total_reward, steps


# ============ Experimental Comparison (one agent, one seed) ============
AGENTS = ("flat_q", "intra_option_q")


def run(
    algo: str,
    seed: int,
    num_episodes: int = 500,
    size: int = 13,
    alpha: float = 0.5,
    gamma: float = 0.99,
    epsilon: float = 0.1,
    max_steps: int = 1000,
) -> list[dict]:
    """One agent's half of one trial of the listing's ``run_comparison``: a fresh environment and
    agent, ``num_episodes`` calls of ``train_episode``. Returns one record per episode (keys of
    ``agent.last_episode`` plus ``episode``); ``steps`` and ``ret`` are what the listing appends to
    its ``steps_*`` / ``rewards_*`` lists."""
    if algo not in AGENTS:
        raise ValueError(f"unknown algo {algo!r}; the listing's agents are {', '.join(AGENTS)}")
    rng = np.random.RandomState(seed)
    env = FourRoomsEnv(rng, size=size)
    if algo == "intra_option_q":
        options = create_options(env)
        agent = IntraOptionQLearning(env, options, alpha=alpha, gamma=gamma, epsilon=epsilon, max_steps=max_steps)
    else:
        agent = FlatQLearning(env, alpha=alpha, gamma=gamma, epsilon=epsilon, max_steps=max_steps)

    records = []
    for ep in range(num_episodes):
        r, s = agent.train_episode()
        rec = dict(agent.last_episode, episode=ep)
        assert rec["steps"] == s and rec["ret"] == float(r)
        records.append(rec)
    return records
