"""Bottleneck options: subgoals at local maxima of betweenness centrality of the interaction graph
(Şimşek & Barto 2009, "Skill characterization based on betweenness", NeurIPS 21), one option per subgoal.

Pipeline (each step a function below):

1. **Interaction graph** (undirected: the rooms' moves are reversible): (a) from the known dynamics, an
   edge s - s' wherever some action moves s to s' != s with positive probability
   (:func:`graph_from_dynamics`); (b) from experience, the transitions s -> s' a uniformly random
   policy produced (:func:`random_walk_transitions`, :func:`graph_from_transitions`).
2. **Betweenness** of every state, networkx's exact Brandes algorithm (normalised, endpoints excluded):
   the fraction of shortest paths between other pairs of states that pass through it.
3. **Subgoals**: strict local maxima of betweenness -- states whose betweenness is larger than that of
   every other state within ``radius`` hops in the graph (:func:`local_maxima`) -- ranked by betweenness,
   at most ``max_subgoals`` of them.
4. **Options** (:func:`subgoal_options`): removing every subgoal cuts the graph into regions; option
   ``g``'s region is the union of the regions adjacent to g. Initiation set: the region plus the other
   subgoals on its border (as Sutton et al.'s hallway options start in the non-target hallway);
   termination: beta = 0 inside the region, 1 everywhere else (at g, at the border subgoals, outside);
   policy: a shortest path to g (deterministic moves of the known grid, inside the region), ties broken
   in the fixed order up, down, left, right. Nothing about rooms or hallways is used.

Random-subgoal control (:func:`random_subgoals`): the same construction for subgoals drawn uniformly
from the states.
"""

from __future__ import annotations

import networkx as nx
import numpy as np

from ..envs.fourrooms import OptionSet


def graph_from_dynamics(P: np.ndarray) -> nx.Graph:
    """Interaction graph of the known dynamics ``P[a, s, s']``: edge s - s' (s != s') if any action can
    move s to s'."""
    n = P.shape[1]
    G = nx.Graph()
    G.add_nodes_from(range(n))
    reach = P.sum(axis=0) > 0
    np.fill_diagonal(reach, False)
    G.add_edges_from((int(s), int(t)) for s, t in zip(*np.nonzero(reach)))
    return G


def random_walk_transitions(next_k: np.ndarray, start: int, n_steps: int, seed: int) -> np.ndarray:
    """``n_steps`` transitions (s, s') of a uniformly random policy from ``start`` (no goal, no reset)."""
    rng = np.random.default_rng(seed)
    n_actions, k = next_k.shape[1], next_k.shape[2]
    acts = rng.integers(0, n_actions, size=n_steps)
    slots = rng.integers(0, k, size=n_steps)
    out = np.empty((n_steps, 2), dtype=np.int64)
    s = int(start)
    for t in range(n_steps):
        s2 = int(next_k[s, acts[t], slots[t]])
        out[t] = (s, s2)
        s = s2
    return out


def graph_from_transitions(transitions: np.ndarray, n_states: int | None = None) -> nx.Graph:
    """Interaction graph of observed transitions (self-transitions dropped); ``n_states`` adds unvisited
    states as isolated nodes."""
    G = nx.Graph()
    if n_states is not None:
        G.add_nodes_from(range(n_states))
    G.add_edges_from((int(s), int(t)) for s, t in transitions if s != t)
    return G


def betweenness(G: nx.Graph) -> dict:
    """Normalised shortest-path betweenness of every node (Brandes' exact algorithm)."""
    return nx.betweenness_centrality(G, normalized=True)


def local_maxima(G: nx.Graph, bc: dict, radius: int = 1) -> list:
    """Nodes whose betweenness is strictly larger than every other node's within ``radius`` hops, ranked
    by betweenness (largest first; ties by node id). Isolated nodes are never maxima."""
    out = []
    for s in G.nodes:
        if G.degree(s) == 0 or bc[s] <= 0:
            continue
        ball = nx.single_source_shortest_path_length(G, s, cutoff=radius)
        if all(bc[s] > bc[t] for t in ball if t != s):
            out.append(s)
    return sorted(out, key=lambda s: (-bc[s], s))


def subgoal_options(G: nx.Graph, move_to: np.ndarray, subgoals, base: OptionSet, names=None) -> OptionSet:
    """``base`` (e.g. the primitive actions) plus one option per subgoal, built from the graph ``G`` the
    subgoals were found on (module doc). Options with an empty initiation set are dropped."""
    n = move_to.shape[0]
    subgoals = [int(g) for g in subgoals]
    sg = set(subgoals)
    rest = G.subgraph([s for s in G.nodes if s not in sg])
    comp_of = {}
    for i, comp in enumerate(nx.connected_components(rest)):
        for s in comp:
            comp_of[s] = i
    acts, betas, targets, labels = [], [], [], []
    for j, g in enumerate(subgoals):
        comps = {comp_of[t] for t in G.neighbors(g) if t in comp_of}
        region = {s for s, c in comp_of.items() if c in comps}
        border = {h for h in sg - {g} if any(t in region for t in G.neighbors(h))}
        if not region:
            continue
        # shortest paths to g over deterministic moves inside region u {g}; border subgoals step into it
        inside = region | {g}
        dist = {g: 0}
        frontier = [g]
        while frontier:
            nxt = []
            for s in frontier:
                for s2 in _predecessors(move_to, s):
                    if s2 in inside and s2 not in dist:
                        dist[s2] = dist[s] + 1
                        nxt.append(s2)
            frontier = nxt
        act = -np.ones(n, dtype=np.int64)
        for s in sorted(region | border):
            best = None
            for a in range(move_to.shape[1]):
                t = int(move_to[s, a])
                if t in dist and (best is None or dist[t] < best[0]):
                    best = (dist[t], a)
            if best is not None and (s in border or best[0] < dist.get(s, np.inf)):
                act[s] = best[1]
        beta = np.ones(n, dtype=np.uint8)
        beta[[s for s in region if act[s] >= 0]] = 0
        if (act >= 0).sum() == 0:
            continue
        acts.append(act)
        betas.append(beta)
        targets.append(g)
        labels.append(names[j] if names is not None else f"subgoal-{g}")
    if not acts:
        return base
    return OptionSet(names=base.names + tuple(labels), act=np.vstack([base.act] + acts),
                     beta=np.vstack([base.beta] + betas), target=tuple(base.target) + tuple(targets))


def _predecessors(move_to: np.ndarray, s: int):
    """States with a deterministic move into ``s``."""
    return [int(x) for x in np.nonzero((move_to == s).any(axis=1))[0] if int(x) != s]


def random_subgoals(n_states: int, k: int, seed: int, exclude=()) -> list[int]:
    """``k`` distinct states drawn uniformly (without those in ``exclude``)."""
    rng = np.random.default_rng(seed)
    pool = np.array([s for s in range(n_states) if s not in set(exclude)])
    return [int(s) for s in rng.choice(pool, size=min(k, pool.size), replace=False)]
