"""Point Maze of Nachum, Gu, Lee & Levine (2018), "Data-Efficient Hierarchical Reinforcement Learning"
(HIRO), as released in ``tensorflow/models`` ``research/efficient-hrl`` (``environments/point.py``,
``maze_env.py``, ``maze_env_utils.py``, ``create_maze_env.py``; task in ``context/configs/point_maze.gin``),
in numpy and vectorised over a batch of environments.

Layout ("Maze", ``maze_env_utils.construct_maze``): a 5 x 5 block grid whose free cells form a '⊃'-shaped
corridor; every block is ``scaling`` units wide (4 for the point, 8 for the ant), the robot starts in the
cell marked ``r`` and that cell's centre is the origin. With scaling 4 the free cells are centred at
(0, 0), (4, 0), (8, 0), (8, 4), (8, 8), (4, 8), (0, 8); the corridor is 4 units wide.

Kinematics (``PointEnv.step``): state (x, y, orientation). An action (forward, rotation) in
[-1, 1] x [-0.25, 0.25] turns first (``ori += rotation``), then moves ``0.2 * forward`` along the new
orientation; positions are clipped to [-100, 100]. Collisions (``MazeEnv.step`` with
``manual_collision=True``, which ``create_maze_env`` sets for the point): if the new (x, y) lies in a wall
block (closed box test), the position reverts to the old one; the turn is kept.

Simplifications against the released MuJoCo body (stated as CHOICEs in config/config.yaml):
the MuJoCo physics step after ``set_state`` is dropped (the point has no actuated velocity: ``step`` writes
``qpos`` directly and the control stays 0), so the observation is (x, y, cos ori, sin ori) without the
(near-zero) ``qvel`` block and without the ``t * 0.001`` time feature; the initial state is the released
``reset_model`` one (uniform +-0.1 noise on x, y and orientation).

Everything here is deterministic given the random generator passed in; the environment holds no RNG.
"""

from __future__ import annotations

import numpy as np

#: the released "Maze" structure: 1 = wall block, 0 = free, "r" = free cell where the robot starts
MAZE = (
    (1, 1, 1, 1, 1),
    (1, "r", 0, 0, 1),
    (1, 1, 1, 0, 1),
    (1, 0, 0, 0, 1),
    (1, 1, 1, 1, 1),
)

OBS_DIM = 4  # x, y, cos(ori), sin(ori)
ACT_DIM = 2  # forward, rotation (normalised to [-1, 1] each; see PointMaze.scale_action)


class PointMaze:
    """A batch of ``n`` independent point robots in the same maze.

    ``scaling``: block size (released point maze: 4). ``forward_scale``: distance per unit forward
    action (0.2). ``max_turn``: rotation bound per step (0.25 rad, the released actuator ctrlrange).
    ``init_noise``: half-width of the uniform start noise on x, y, orientation (0.1).
    """

    def __init__(self, scaling: float = 4.0, forward_scale: float = 0.2, max_turn: float = 0.25,
                 init_noise: float = 0.1, structure=MAZE):
        if scaling <= 0:
            raise ValueError(f"env.scaling: must be > 0, got {scaling}")
        self.scaling = float(scaling)
        self.forward_scale = float(forward_scale)
        self.max_turn = float(max_turn)
        self.init_noise = float(init_noise)
        self.structure = structure
        robot = [(i, j) for i, row in enumerate(structure) for j, c in enumerate(row) if c == "r"]
        if len(robot) != 1:
            raise ValueError("maze structure needs exactly one robot cell 'r'")
        ri, rj = robot[0]
        walls = [(i, j) for i, row in enumerate(structure) for j, c in enumerate(row) if c == 1]
        # wall boxes in world coordinates (robot cell centred at the origin): [xmin, xmax, ymin, ymax]
        s = self.scaling
        self.walls = np.array([[(j - rj) * s - s / 2, (j - rj) * s + s / 2,
                                (i - ri) * s - s / 2, (i - ri) * s + s / 2] for i, j in walls])
        free = [(i, j) for i, row in enumerate(structure) for j, c in enumerate(row) if c != 1]
        self.free_centres = np.array([[(j - rj) * s, (i - ri) * s] for i, j in free], dtype=float)

    # ------------------------------------------------------------------ geometry
    def in_collision(self, xy: np.ndarray) -> np.ndarray:
        """Boolean per point: inside (or on the boundary of) any wall block, as ``_is_in_collision``."""
        x = xy[..., 0:1]
        y = xy[..., 1:2]
        w = self.walls
        hit = (w[:, 0] <= x) & (x <= w[:, 1]) & (w[:, 2] <= y) & (y <= w[:, 3])
        return hit.any(axis=-1)

    def scale_action(self, action: np.ndarray) -> np.ndarray:
        """Normalised action in [-1, 1]^2 -> (forward in [-1, 1], rotation in [-max_turn, max_turn])."""
        a = np.clip(np.asarray(action, dtype=float), -1.0, 1.0)
        return np.stack([a[..., 0], a[..., 1] * self.max_turn], axis=-1)

    # ------------------------------------------------------------------ dynamics
    def reset(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` start states (x, y, ori), uniform +-init_noise around the origin (``reset_model``)."""
        return rng.uniform(-self.init_noise, self.init_noise, size=(n, 3))

    def step(self, state: np.ndarray, action: np.ndarray) -> np.ndarray:
        """Next states for a batch: ``state`` (n, 3) = (x, y, ori); ``action`` (n, 2) normalised."""
        a = self.scale_action(action)
        ori = state[:, 2] + a[:, 1]
        fwd = self.forward_scale * a[:, 0]
        new_xy = np.clip(state[:, :2] + np.stack([np.cos(ori) * fwd, np.sin(ori) * fwd], axis=-1), -100.0, 100.0)
        blocked = self.in_collision(new_xy)
        new_xy = np.where(blocked[:, None], state[:, :2], new_xy)
        return np.concatenate([new_xy, ori[:, None]], axis=-1)

    @staticmethod
    def observe(state: np.ndarray) -> np.ndarray:
        """Observation (x, y, cos ori, sin ori) per environment."""
        return np.concatenate([state[:, :2], np.cos(state[:, 2:3]), np.sin(state[:, 2:3])], axis=-1)

    def plot_walls(self, ax, color="0.35") -> None:
        """Draw the wall blocks on a matplotlib axis."""
        from matplotlib.patches import Rectangle

        for x0, x1, y0, y1 in self.walls:
            ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, color=color, lw=0))
        ax.set_xlim(self.walls[:, 0].min(), self.walls[:, 1].max())
        ax.set_ylim(self.walls[:, 2].min(), self.walls[:, 3].max())
        ax.set_aspect("equal")


def task_reward(xy: np.ndarray, goal: np.ndarray) -> np.ndarray:
    """The task reward (``task/negative_distance`` on x, y): minus the Euclidean distance to the goal."""
    return -np.linalg.norm(xy - goal, axis=-1)
