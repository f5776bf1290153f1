"""Bottleneck discovery (Şimşek & Barto 2009) in the rooms gridworld: betweenness against hand-computed
values and an independent path-counting formula, the known graph's local maxima, the options built from
subgoals, and the experiment plugin."""

import copy
import json
from itertools import combinations

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from hrlmeta import config as C
from hrlmeta.algos import bottleneck as B
from hrlmeta.envs.fourrooms import HALLWAYS, make_fourrooms, primitive_options
from hrlmeta.experiments.fourrooms_discovery import analysis as E
from hrlmeta.experiments.fourrooms_discovery import training as T
from hrlmeta.experiments.fourrooms_sutton import analysis as S
from hrlmeta.experiments import REGISTRY


@pytest.fixture(scope="module")
def env():
    return make_fourrooms()


@pytest.fixture(scope="module")
def known(env):
    G = B.graph_from_dynamics(env.P)
    return G, B.betweenness(G)


@pytest.fixture(scope="module")
def params():
    return C.experiment_params(C.load_config(REGISTRY, "config/smoke.yaml"), E.EXPERIMENT)


def test_betweenness_by_hand():
    # two triangles {0,1,2} and {4,5,6} joined by the bridge 2 - 3 - 4
    G = nx.Graph([(0, 1), (1, 2), (0, 2), (2, 3), (3, 4), (4, 5), (5, 6), (4, 6)])
    bc = B.betweenness(G)
    # node 3 is on all 3 x 3 shortest paths between the triangles; node 2 on those from {0, 1} to {3..6};
    # normalised by the (7 - 1)(7 - 2) / 2 = 15 pairs of other nodes
    assert bc[3] == pytest.approx(9 / 15)
    assert bc[2] == pytest.approx(8 / 15) and bc[4] == pytest.approx(8 / 15)
    assert bc[0] == 0 and bc[6] == 0
    assert B.local_maxima(G, bc, 1) == [3]
    # a path a - b - c - d: b is on (a, c), (a, d); normalised by 3 pairs
    P4 = nx.path_graph(4)
    assert B.betweenness(P4)[1] == pytest.approx(2 / 3)
    assert B.local_maxima(P4, B.betweenness(P4), 1) == []  # 1 and 2 tie: no strict maximum


def test_betweenness_equals_path_counting_on_the_rooms(env, known):
    """Independent formula: bc(v) = sum_{s<t, s,t != v} sigma_sv sigma_vt / sigma_st over pairs with
    d(s, v) + d(v, t) = d(s, t) (BFS distances and shortest-path counts)."""
    G, bc = known
    n = env.n_states
    d = np.full((n, n), np.inf)
    sig = np.zeros((n, n))
    for s in range(n):
        d[s, s], sig[s, s] = 0, 1
        order = [s]
        for u in order:
            for w in G.neighbors(u):
                if d[s, w] == np.inf:
                    d[s, w] = d[s, u] + 1
                    order.append(w)
                if d[s, w] == d[s, u] + 1:
                    sig[s, w] += sig[s, u]
    want = np.zeros(n)
    iu = np.triu_indices(n, 1)
    for v in range(n):
        on = (d[:, v][:, None] + d[v, :][None, :]) == d
        frac = np.where(on, np.outer(sig[:, v], sig[v, :]) / np.maximum(sig, 1), 0.0)
        frac[v, :] = 0
        frac[:, v] = 0
        want[v] = frac[iu].sum() / ((n - 1) * (n - 2) / 2)
    np.testing.assert_allclose([bc[v] for v in range(n)], want, atol=1e-12)


def test_known_graph_local_maxima_flank_the_hallways(env, known):
    G, bc = known
    assert G.number_of_nodes() == 104 and G.number_of_edges() == 168
    lm = B.local_maxima(G, bc, 1)
    hall = {env.state(h) for h in HALLWAYS}
    # what is true for Sutton's layout: the maxima are the 8 cells next to the hallways (both sides of each
    # hallway), not the hallway cells themselves
    flank = {int(x) for h in hall for x in env.move_to[h] if int(x) != h}
    assert set(lm) == flank and len(lm) == 8
    assert not hall & set(lm)
    for h in hall:
        assert bc[h] < max(bc[int(x)] for x in env.move_to[h])
    # the hallways are the 4 states of highest betweenness once each hallway's flanking cells are excluded
    assert set(sorted(set(G) - flank, key=bc.get)[-4:]) == hall


def test_empirical_graph_is_a_subgraph_and_converges(env, known):
    G, _ = known
    short = B.graph_from_transitions(B.random_walk_transitions(env.next_k, env.start, 300, 0), env.n_states)
    assert set(map(frozenset, short.edges)) <= set(map(frozenset, G.edges))
    assert short.number_of_edges() < G.number_of_edges()
    long = B.graph_from_transitions(B.random_walk_transitions(env.next_k, env.start, 30000, 0), env.n_states)
    assert set(map(frozenset, long.edges)) == set(map(frozenset, G.edges))


def test_subgoal_options_reach_their_subgoal(env, known):
    G, bc = known
    lm = B.local_maxima(G, bc, 1)
    A = primitive_options(env)
    O = B.subgoal_options(G, env.move_to, lm, base=A)
    assert O.n_options == 4 + 8 and O.names[:4] == A.names
    for o in range(4, O.n_options):
        target = O.target[o]
        init = set(int(s) for s in O.initiation(o))
        assert target not in init
        assert set(lm) - {target} >= {s for s in init if O.beta[o, s] == 1}  # border subgoals start it
        for s in init:
            x, path = int(s), [int(s)]
            for _ in range(30):
                x = int(env.move_to[x, O.act[o, x]])
                path.append(x)
                if O.beta[o, x]:
                    break
            assert x == target, (O.names[o], path)
    # regions: the option to the east side of the north hallway lives in the upper-right room + that hallway
    o = O.names.index(f"subgoal-{env.state((3, 7))}")
    region = {int(s) for s in np.flatnonzero(O.beta[o] == 0)}
    assert env.state((3, 6)) in region and region - {env.state((3, 6))} <= set(env.rooms[1])
    assert len(B.random_subgoals(104, 8, 0)) == 8 and B.random_subgoals(104, 8, 0) == B.random_subgoals(104, 8, 0)


def test_train_rows_and_subgoals(params):
    a = T.train("bottleneck_options", [1], params)[0]
    pd.testing.assert_frame_equal(a, T.train("bottleneck_options", [1], params)[0])
    main = a[a["goal_set"] == "main"]  # the seed's own discovery (the goal sample's runs have their own)
    sg = json.loads(main["subgoals"].iloc[0])
    assert main["subgoals"].nunique() == 1 and 1 <= len(sg) <= params["discovery"]["max_subgoals"]
    assert main["n_options"].iloc[0] == len(sg)
    for txt, n in a.drop_duplicates("goal")[["subgoals", "n_options"]].itertuples(index=False):
        assert len(json.loads(txt)) == n
    r = T.train("random_subgoal_options", [1], params)[0]
    assert len(json.loads(r["subgoals"].iloc[0])) == len(sg)  # random_count: match
    h = T.train("handmade_options", [1], params)[0]
    assert h["subgoals"].iloc[0] == "[]" and h["n_options"].iloc[0] == 8
    assert set(main["goal"]) == set(params["main_goals"]) and (a["decisions"] <= a["steps"]).all()
    sample = {n for _, n, _ in T.sample_goals_of(1, params)}
    assert set(a["goal"]) - set(main["goal"]) == sample
    kn = dict(params, discovery=dict(params["discovery"], graph="known"))
    known = T.train("bottleneck_options", [5], kn)[0]
    assert [tuple(c) for c in json.loads(known["subgoals"].iloc[0])][:2] == [(3, 7), (3, 5)]


def test_claims_reuse_sutton_criterion(params):
    table = pd.concat([T.train(a, [s], params)[0].assign(algo=a, seed=s) for a in E.ALGOS for s in range(3)],
                      ignore_index=True)
    from hrlmeta.claims import measure_claim
    from hrlmeta.experiments.fourrooms_discovery.measures import MEASURES

    claim = {"id": "x", "measure": "speedup", "params": {"baseline": "handmade_options", "agent": "bottleneck_options"}}
    got = measure_claim(MEASURES, claim, table, params)
    want, _ = S.speedup_samples(table, params, "handmade_options", "bottleneck_options", params["main_goals"])
    np.testing.assert_array_equal(got.values, want)
    assert got.values.shape == (3, 2) and got.budget == params["n_episodes"]
    c2 = copy.deepcopy(claim)
    c2["params"]["criterion"] = {"window": 1, "tolerance": 5.0}
    p2 = {**params, "criterion": {**params["criterion"], "window": 1, "tolerance": 5.0}}
    want2, _ = S.speedup_samples(table, p2, "handmade_options", "bottleneck_options", params["main_goals"])
    np.testing.assert_array_equal(measure_claim(MEASURES, c2, table, params).values, want2)
    d = measure_claim(MEASURES, {"id": "d", "measure": "doorways", "params": {"top_k": 4, "radius": 1}}, table, params)
    assert d.values.shape == (3,) and ((d.values >= 0) & (d.values <= 1)).all()


def test_doorway_fraction_hand_case(params):
    rows = pd.DataFrame({"algo": "bottleneck_options", "seed": [0, 1],
                         "subgoals": [json.dumps([[3, 7], [3, 6], [1, 1], [6, 9]]), json.dumps([[1, 1]])]})
    f = E.doorway_fraction(rows, params, top_k=4, radius=1)
    assert f.loc[0] == 0.75 and f.loc[1] == 0.0
    assert E.doorway_fraction(rows, params, top_k=4, radius=0).loc[0] == 0.25


def test_bad_params_rejected():
    cfg = C.load_config(REGISTRY)
    bad = copy.deepcopy(cfg)
    bad["experiments"][E.EXPERIMENT]["params"]["discovery"]["graph"] = "oracle"
    with pytest.raises(C.ConfigError, match=r"fourrooms_discovery\.params\.discovery\.graph"):
        C.validate_config(bad, REGISTRY)
    p = dict(C.experiment_params(cfg, E.EXPERIMENT), alpha=2.0)
    with pytest.raises(ValueError, match="alpha"):
        T.train("primitives", [0], p)
