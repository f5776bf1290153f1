"""The chapter's "Complete Code Implementation: MAML for RL" listing, ported AS WRITTEN.

Source: /work/shared/seeds/000_52df8f48ecfe5303.txt, section "Complete Code Implementation: MAML for RL"
(the extracted listing lost its indentation; the only sensible reading is reproduced here). This file is
NOT a reference implementation of MAML -- it is the object of an audit (see
:mod:`hrlmeta.experiments.nav2d_seedblog`). Every line of the algorithm is kept, including the per-step
Python loop, the ``torch.FloatTensor`` float32 tensors, the normalised REINFORCE loss, the tanh-squashed
mean, the clamped std and, in particular, ``outer_loop``'s ``param.data = adapted_param.data`` /
re-collection with ``self.policy`` / ``param.data = original_param.data`` sequence.

Deviations, all about randomness or plumbing, none about the algorithm:
- Seeding made explicit: ``Navigation2DEnv.sample_task(rng)`` draws the goal from an explicit
  ``numpy.random.Generator`` instead of the global ``np.random``; ``PolicyNetwork`` carries an explicit
  ``torch.Generator`` and ``sample`` draws ``torch.normal(mean, std, generator=...)``, which is exactly what
  ``torch.distributions.Normal(mean, std).sample()`` computes from the global stream; the log-probability
  is still ``Normal(mean, std).log_prob(action)``. Initial weights are drawn inside
  ``torch.random.fork_rng`` from the run's seed (:func:`make_policy`), so the global RNG is untouched.
  ``adapt_to_task`` hands the generator to the fresh ``PolicyNetwork`` it builds (it then loads the
  meta-policy's state dict, as written).
- ``train_maml`` / ``evaluate_maml`` take the generators and return their numbers instead of printing and
  plotting (the listing's matplotlib figure and prints are dropped).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim


# ============ 2D Navigation Environment ============
class Navigation2DEnv:
    """2D Plane Navigation Task

    Agent starts from origin, navigates to goal point
    Different tasks = different goal positions
    """

    def __init__(self, goal=(5.0, 5.0), max_steps=50):
        self.goal = np.array(goal, dtype=np.float32)
        self.max_steps = max_steps
        self.reset()

    def reset(self):
        self.pos = np.zeros(2, dtype=np.float32)
        self.steps = 0
        return self.pos.copy()

    def step(self, action):
        """action: (dx, dy) in [-1, 1]^2"""
        self.pos += action * 0.5  # Velocity coefficient
        self.steps += 1

        # Reward: negative distance
        dist = np.linalg.norm(self.pos - self.goal)
        reward = -dist

        # Termination condition
        done = (dist < 0.5) or (self.steps >= self.max_steps)

        return self.pos.copy(), reward, done

    @staticmethod
    def sample_task(rng: np.random.Generator):
        """Sample random task (goal position)"""
        goal = rng.uniform(-10, 10, size=2)
        return Navigation2DEnv(goal=goal)


# ============ Policy Network ============
class PolicyNetwork(nn.Module):
    """Gaussian Policy Network"""

    def __init__(self, state_dim=2, action_dim=2, hidden_dim=64, generator: torch.Generator | None = None):
        super().__init__()
        self.fc = nn.Sequential(
            nn.Linear(state_dim, hidden_dim),
            nn.ReLU(),
            nn.Linear(hidden_dim, hidden_dim),
            nn.ReLU(),
        )
        self.mean = nn.Linear(hidden_dim, action_dim)
        self.log_std = nn.Parameter(torch.zeros(action_dim))
        self.generator = generator

    def forward(self, state):
        x = self.fc(state)
        mean = torch.tanh(self.mean(x))  # Limit to [-1, 1]
        std = torch.exp(self.log_std).clamp(min=1e-3, max=1.0)
        return mean, std

    def sample(self, state):
        mean, std = self.forward(state)
        dist = torch.distributions.Normal(mean, std)
        with torch.no_grad():  # = dist.sample(), from the explicit generator
            action = torch.normal(mean.expand_as(mean), std.expand_as(mean), generator=self.generator)
        log_prob = dist.log_prob(action).sum(dim=-1)
        return action, log_prob


# ============ MAML Algorithm ============
class MAML:
    def __init__(self, policy, inner_lr=0.1, outer_lr=0.001, num_inner_steps=1):
        self.policy = policy
        self.inner_lr = inner_lr
        self.outer_lr = outer_lr
        self.num_inner_steps = num_inner_steps
        self.optimizer = optim.Adam(policy.parameters(), lr=outer_lr)

    def collect_trajectory(self, env, policy, max_steps=50):
        """Collect one trajectory"""
        states, actions, rewards, log_probs = [], [], [], []

        state = env.reset()
        for _ in range(max_steps):
            state_tensor = torch.FloatTensor(state).unsqueeze(0)
            action, log_prob = policy.sample(state_tensor)
            action_np = action.detach().numpy()[0]

            next_state, reward, done = env.step(action_np)

            states.append(state)
            actions.append(action_np)
            rewards.append(reward)
            log_probs.append(log_prob)

            state = next_state

            if done:
                break

        return states, actions, rewards, log_probs

    def compute_loss(self, states, actions, rewards, log_probs):
        """Compute policy gradient loss (REINFORCE)"""
        # Compute returns
        returns = []
        G = 0
        for r in reversed(rewards):
            G = r + 0.99 * G
            returns.insert(0, G)
        returns = torch.FloatTensor(returns)
        returns = (returns - returns.mean()) / (returns.std() + 1e-8)

        # Policy gradient loss
        log_probs = torch.stack(log_probs)
        loss = -(log_probs * returns).mean()

        return loss

    def inner_loop(self, task_env, policy_params):
        """Inner loop: gradient update on single task"""
        # Collect trajectory
        states, actions, rewards, log_probs = self.collect_trajectory(task_env, self.policy)

        # Compute loss
        loss = self.compute_loss(states, actions, rewards, log_probs)

        # Gradient update (manual implementation, supports higher-order gradients)
        grads = torch.autograd.grad(loss, self.policy.parameters(), create_graph=True)

        # Update parameters
        adapted_params = []
        for param, grad in zip(self.policy.parameters(), grads):
            adapted_params.append(param - self.inner_lr * grad)

        return adapted_params, loss.item()

    def outer_loop(self, task_batch):
        """Outer loop: meta-optimization"""
        meta_loss = 0

        for task_env in task_batch:
            # Inner update
            adapted_params, train_loss = self.inner_loop(task_env, self.policy.parameters())

            # Temporarily apply adapted_params
            original_params = [p.clone() for p in self.policy.parameters()]
            for param, adapted_param in zip(self.policy.parameters(), adapted_params):
                param.data = adapted_param.data

            # Collect adapted trajectory
            states, actions, rewards, log_probs = self.collect_trajectory(task_env, self.policy)
            loss = self.compute_loss(states, actions, rewards, log_probs)

            meta_loss += loss

            # Restore original parameters
            for param, original_param in zip(self.policy.parameters(), original_params):
                param.data = original_param.data

        meta_loss /= len(task_batch)

        # Meta-optimize
        self.optimizer.zero_grad()
        meta_loss.backward()
        self.optimizer.step()

        return meta_loss.item()

    def adapt_to_task(self, task_env, num_steps=5):
        """Adapt to new task"""
        adapted_policy = PolicyNetwork(generator=self.policy.generator)
        adapted_policy.load_state_dict(self.policy.state_dict())
        optimizer = optim.SGD(adapted_policy.parameters(), lr=self.inner_lr)

        for step in range(num_steps):
            states, actions, rewards, log_probs = self.collect_trajectory(task_env, adapted_policy)
            loss = self.compute_loss(states, actions, rewards, log_probs)

            optimizer.zero_grad()
            loss.backward()
            optimizer.step()

        return adapted_policy


def make_policy(seed: int, generator: torch.Generator, hidden_dim: int = 64) -> PolicyNetwork:
    """``PolicyNetwork()`` with its default (PyTorch) initialisation drawn from ``seed`` without touching
    the caller's global RNG state."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return PolicyNetwork(hidden_dim=hidden_dim, generator=generator)


# ============ Train MAML ============
def train_maml(rng: np.random.Generator, generator: torch.Generator, seed: int, num_iterations=500,
               task_batch_size=10):
    """Train MAML (returns the MAML object and its meta-losses; no plot)"""
    policy = make_policy(seed, generator)
    maml = MAML(policy, inner_lr=0.1, outer_lr=0.001)

    meta_losses = []

    for iteration in range(num_iterations):
        # Sample task batch
        task_batch = [Navigation2DEnv.sample_task(rng) for _ in range(task_batch_size)]

        # Meta-train
        meta_loss = maml.outer_loop(task_batch)
        meta_losses.append(meta_loss)

    return maml, meta_losses


# ============ Evaluate MAML ============
def evaluate_maml(maml, rng: np.random.Generator, num_test_tasks=10, num_adapt_steps=5):
    """Evaluate MAML's rapid adaptation on new tasks"""
    results = {"before": [], "after": []}

    for _ in range(num_test_tasks):
        # Sample test task
        test_env = Navigation2DEnv.sample_task(rng)

        # Before adaptation: directly use meta-policy
        states, actions, rewards, _ = maml.collect_trajectory(test_env, maml.policy)
        results["before"].append(sum(rewards))

        # After adaptation: take few gradient steps
        adapted_policy = maml.adapt_to_task(test_env, num_steps=num_adapt_steps)
        states, actions, rewards, _ = maml.collect_trajectory(test_env, adapted_policy)
        results["after"].append(sum(rewards))

    return results
