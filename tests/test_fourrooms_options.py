"""The eight hallway options: initiation sets, termination, policies reach their hallway."""

import numpy as np
import pytest

from hrlmeta.envs.fourrooms import OptionSet, hallway_options, make_fourrooms, option_set


@pytest.fixture(scope="module")
def env():
    return make_fourrooms()


@pytest.fixture(scope="module")
def H(env):
    return hallway_options(env)


def _room_and_halls(env, o, H):
    target = H.target[o]
    room = next(r for r in env.rooms if any(int(s2) in r for s2 in env.move_to[target])
                and set(H.initiation(o)) >= set(r))
    halls = [h for h in env.hallways if any(int(s2) in room for s2 in env.move_to[h])]
    other = halls[0] if halls[1] == target else halls[1]
    return room, target, other


def test_eight_options_two_per_room(env, H):
    assert H.n_options == 8
    assert len(set(H.target)) == 4
    for h in env.hallways:
        assert H.target.count(h) == 2


def test_initiation_and_termination_sets(env, H):
    for o in range(8):
        room, target, other = _room_and_halls(env, o, H)
        assert set(H.initiation(o)) == set(room) | {other}
        assert target not in set(H.initiation(o))
        # beta = 0 inside the room, 1 everywhere else (both hallways included), as in the paper
        assert set(np.flatnonzero(H.beta[o] == 0)) == set(room)


def test_policies_reach_target_under_deterministic_moves(env, H):
    for o in range(8):
        room, target, other = _room_and_halls(env, o, H)
        for s in H.initiation(o):
            path = [int(s)]
            s = int(s)
            for _ in range(20):
                s = int(env.move_to[s, H.act[o, s]])
                path.append(s)
                if H.beta[o, s]:
                    break
            assert s == target, (H.names[o], path)
            assert other not in path[1:]


def test_option_set_arrays(env):
    AH = option_set(env, "AH")
    assert AH.n_options == 12
    assert (AH.n_avail == 6).all()  # 4 primitives + 2 hallway options everywhere
    s = env.start
    a = int(AH.act[4, s]) if AH.act[4, s] >= 0 else int(AH.act[5, s])
    cons = set(AH.consistent[s, a, : AH.n_consistent[s, a]].tolist())
    assert a in cons and cons <= set(range(12))
    with pytest.raises(ValueError, match="unknown option set"):
        option_set(env, "X")
    with pytest.raises(ValueError, match="policy is undefined"):
        OptionSet(names=("bad",), act=-np.ones((1, 3), dtype=int), beta=np.zeros((1, 3)), target=(-1,))
