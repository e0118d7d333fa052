"""Probe environments return exactly their documented rewards and lengths."""

import jax
import jax.numpy as jnp
import pytest

from alignment_rl import envs


def rollout(name, policy, steps, key=0):
  env, params = envs.make(name)
  obs, state = env.reset(jax.random.PRNGKey(key), params)
  out = []
  for t in range(steps):
    a = policy(obs, state)
    obs, state, r, done, info = env.step(jax.random.PRNGKey(100 + t), state, a, params)
    out.append((float(r), bool(done)))
  return out


def test_constant():
  assert rollout("probe/constant", lambda o, s: 0, 3) == [(1.0, True)] * 3


def test_observation_reward_equals_observation():
  env, params = envs.make("probe/observation")
  for k in range(6):
    obs, state = env.reset(jax.random.PRNGKey(k), params)
    _, _, r, done, _ = env.step(jax.random.PRNGKey(0), state, 1, params)
    assert float(r) == float(obs[0]) and bool(done)


@pytest.mark.parametrize("correct", [True, False])
def test_action_probe(correct):
  env, params = envs.make("probe/action")
  for k in range(6):
    obs, state = env.reset(jax.random.PRNGKey(k), params)
    a = jnp.int32(obs[0]) if correct else 1 - jnp.int32(obs[0])
    _, _, r, _, _ = env.step(jax.random.PRNGKey(0), state, a, params)
    assert float(r) == (1.0 if correct else 0.0)


def test_delayed_reward_only_at_the_end_for_the_first_action():
  env, params = envs.make("probe/delayed")
  obs, state = env.reset(jax.random.PRNGKey(0), params)
  cue = int(state.cue)
  assert float(obs[0]) == 2 * cue - 1
  rewards, dones = [], []
  for t, a in enumerate([cue, 1 - cue, 1 - cue]):
    obs, state, r, d, _ = env.step(jax.random.PRNGKey(t), state, a, params)
    rewards.append(float(r))
    dones.append(bool(d))
    if t == 0:
      assert float(obs[0]) == 0.0  # The cue is hidden after t=0.
  assert rewards == [0.0, 0.0, 1.0] and dones == [False, False, True]


def test_discount_probe():
  assert (
    rollout("probe/discount", lambda o, s: 0, 4)
    == [
      (0.0, False),
      (1.0, True),
    ]
    * 2
  )
