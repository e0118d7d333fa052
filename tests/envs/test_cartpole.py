"""CartPole-v1 against a plain-NumPy transcription of the classic equations."""

import math

import jax
import jax.numpy as jnp
import numpy as np

from alignment_rl import envs


def reference_step(s, action):
  """Barto et al. (1983) cart-pole, Euler step, gymnasium's constants."""
  x, x_dot, th, th_dot = s
  g, mc, mp, half_len, f, tau = 9.8, 1.0, 0.1, 0.5, 10.0, 0.02
  force = f if action == 1 else -f
  total = mc + mp
  temp = (force + mp * half_len * th_dot**2 * math.sin(th)) / total
  th_acc = (g * math.sin(th) - math.cos(th) * temp) / (
    half_len * (4.0 / 3.0 - mp * math.cos(th) ** 2 / total)
  )
  x_acc = temp - mp * half_len * th_acc * math.cos(th) / total
  new = (x + tau * x_dot, x_dot + tau * x_acc, th + tau * th_dot, th_dot + tau * th_acc)
  done = abs(new[0]) > 2.4 or abs(new[2]) > 12 * 2 * math.pi / 360
  return np.array(new), done


def test_dynamics_match_reference():
  env, params = envs.make("CartPole-v1")
  obs, state = env.reset(jax.random.PRNGKey(3), params)
  s = np.asarray(obs, np.float64)
  actions = [1, 1, 0, 1, 0, 0, 1, 1, 1, 0]
  step = jax.jit(env.step_env)
  for a in actions:
    obs, state, r, term, _ = step(jax.random.PRNGKey(0), state, a, params)
    s, done = reference_step(s, a)
    np.testing.assert_allclose(np.asarray(obs), s, rtol=1e-5, atol=1e-6)
    assert bool(term) == done
    assert float(r) == 1.0


def test_termination_and_auto_reset():
  env, params = envs.make("CartPole-v1")
  _, state = env.reset(jax.random.PRNGKey(0), params)
  step = jax.jit(env.step)
  for t in range(200):  # Always pushing right topples the pole quickly.
    obs, state, r, done, info = step(jax.random.PRNGKey(t), state, 1, params)
    if done:
      break
  assert bool(done) and bool(info["terminated"]) and not bool(info["truncated"])
  assert int(state.time) == 0  # Auto-reset.
  assert np.all(np.abs(np.asarray(obs)) <= 0.05)  # A fresh start state.
  assert float(info["discount"]) == 0.0
  assert (
    abs(float(info["final_obs"][2])) > 12 * 2 * math.pi / 360
    or abs(float(info["final_obs"][0])) > 2.4
  )


def test_truncation_at_time_limit_is_not_termination():
  env, params = envs.make("CartPole-v1")
  params = params.replace(max_steps_in_episode=5)
  _, state = env.reset(jax.random.PRNGKey(0), params)
  actions = [0, 1, 0, 1, 0]
  for t, a in enumerate(actions):
    _, state, _, done, info = env.step(jax.random.PRNGKey(t), state, a, params)
    assert bool(done) == (t == 4)
  assert bool(info["truncated"]) and not bool(info["terminated"])
  assert float(info["discount"]) == 1.0


def test_spaces_and_vmap():
  env, params = envs.make("CartPole-v1")
  keys = jax.random.split(jax.random.PRNGKey(0), 64)
  obs, state = jax.vmap(env.reset, in_axes=(0, None))(keys, params)
  assert obs.shape == (64, 4) and obs.dtype == jnp.float32
  assert all(bool(env.observation_space(params).contains(o)) for o in obs[:4])
  a = env.action_space(params).sample(jax.random.PRNGKey(1))
  assert bool(env.action_space(params).contains(a))
  assert not bool(env.action_space(params).contains(jnp.int32(2)))
