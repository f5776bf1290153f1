"""FeUdal-style manager inside HIRO's off-policy framework, as the HIRO paper builds its FuN baselines
(Nachum et al. 2018, Sec. 5.1 and App. D.1; FuN: Vezhnevets et al. 2017).

FuN proposes (1) a transition policy gradient for the manager, (2) directional cosine-similarity rewards
for the worker, (3) goals in a learned representation, (4) a dilated LSTM. The HIRO paper drops (4) (fully
observed, low-dimensional tasks) and applies each of (1)-(3) as a modification of HIRO:

- (1) "FuN transition PG": instead of the likelihood-based relabelling, every sampled manager transition's
  goal is replaced by ``g~ ~ N(s_{t+c} - s_t, (0.1 * half range)^2)``: the manager is trained as if the worker
  had reached (approximately) where it went, FuN's assumption that transitions are distributed around the
  proposed goals;
- (2) "FuN cos similarity": the worker's reward ``-||s + g - s'||`` is replaced by the cosine similarity
  between the step's displacement ``s' - s`` and the goal ``g``.

``feudal`` here is (1) + (2) together: a FuN-style manager with directional goals trained by the
transition-PG analogue, i.e. the paper's "FuN" row without the learned representation (3). Table 1
reports (1) and (2) separately and all of (1)-(3) together; this combination sits between them.
Everything else (TD3 at both levels, c, ranges, noise, reward scales) is HIRO's.
"""

from __future__ import annotations

from dataclasses import replace

from .hiro import Hiro, HiroConfig


def feudal_config(base: HiroConfig) -> HiroConfig:
    """HIRO's configuration with FuN's transition-PG relabelling and cosine-similarity worker reward."""
    return replace(base, relabel="tpg", worker_reward="cosine")


class Feudal(Hiro):
    name = "feudal"

    def __init__(self, obs_dim, goal_dim, act_dim, cfg: HiroConfig, gens, device="cpu"):
        super().__init__(obs_dim, goal_dim, act_dim, feudal_config(cfg), gens, device)
