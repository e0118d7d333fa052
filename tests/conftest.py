"""Shared test setup: quiet logs, and helpers that build small configs."""

import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
  sys.path.insert(0, ROOT)


@pytest.fixture
def small_ppo_config():
  """A tiny PPO config on CartPole: 2 seeds, 8 envs x 16 steps, 10 updates."""
  from alignment_rl.training.defaults import ppo_config

  c = ppo_config()
  c.experiment = "cartpole_ppo"
  c.num_seeds = 2
  c.ppo.num_envs = 8
  c.ppo.num_steps = 16
  c.ppo.total_timesteps = 8 * 16 * 10
  c.training.updates_per_chunk = 2
  c.training.progress = False
  return c
