"""The rooms gridworld of Sutton, Precup & Singh (1999): layout, dynamics, sampling table."""

import numpy as np
import pytest

from hrlmeta.envs.fourrooms import HALLWAYS, START, make_fourrooms, make_grid


@pytest.fixture(scope="module")
def env():
    return make_fourrooms()


def test_layout_counts(env):
    assert env.n_states == 104
    assert [len(r) for r in env.rooms] == [25, 30, 25, 20]
    assert sorted(env.cells[h].tolist() for h in env.hallways) == sorted(list(h) for h in HALLWAYS)
    assert tuple(env.cells[env.start]) == START
    # each hallway connects exactly two rooms
    for h in env.hallways:
        touching = {i for i, room in enumerate(env.rooms) for s2 in env.move_to[h] if int(s2) in room}
        assert len(touching) == 2


def test_exact_transition_probabilities(env):
    assert env.next_k.shape[2] == 9
    np.testing.assert_allclose(env.P.sum(axis=2), 1.0)
    s = env.state((3, 3))  # open room cell: four distinct neighbours
    for a, (dr, dc) in enumerate([(-1, 0), (1, 0), (0, -1), (0, 1)]):
        assert env.P[a, s, env.state((3 + dr, 3 + dc))] == pytest.approx(2 / 3)
        others = [env.state((3 + r, 3 + c)) for r, c in [(-1, 0), (1, 0), (0, -1), (0, 1)] if (r, c) != (dr, dc)]
        for o in others:
            assert env.P[a, s, o] == pytest.approx(1 / 9)


def test_walls_keep_agent_in_place(env):
    s = env.state((1, 1))  # corner: up and left are walls
    assert env.P[0, s, s] == pytest.approx(2 / 3 + 1 / 9)  # up: intended wall + slip left
    assert env.P[3, s, s] == pytest.approx(2 / 9)  # right: slips up or left hit walls
    h = env.state((3, 6))  # north hallway: walls above and below
    assert env.P[0, h, h] == pytest.approx(2 / 3 + 1 / 9)
    assert env.P[3, h, env.state((3, 7))] == pytest.approx(2 / 3)
    assert env.P[3, h, env.state((3, 5))] == pytest.approx(1 / 9)


def test_sampled_frequencies_match_probabilities(env):
    """Count moves drawn through the sampling table with uniform draws: 2/3 and 1/9."""
    rng = np.random.default_rng(0)
    s = env.state((3, 3))
    n = 90_000
    k = (rng.random(n) * env.next_k.shape[2]).astype(int)
    nxt = env.next_k[s, 3, k]  # intended: right
    freq = {int(v): c / n for v, c in zip(*np.unique(nxt, return_counts=True))}
    assert freq[env.state((3, 4))] == pytest.approx(2 / 3, abs=0.01)
    for cell in [(2, 3), (4, 3), (3, 2)]:
        assert freq[env.state(cell)] == pytest.approx(1 / 9, abs=0.01)


def test_deterministic_variant_and_bad_input():
    det = make_grid("wwwww\nw   w\nwwwww", success_prob=1.0, start=(1, 1))
    assert det.next_k.shape[2] == 1
    assert det.n_states == 3
    assert int(det.next_k[0, 3, 0]) == 1
    with pytest.raises(ValueError, match="success_prob"):
        make_grid("www\nw w\nwww", success_prob=0.0)
    with pytest.raises(ValueError, match="not a free cell"):
        make_fourrooms().state((0, 0))
