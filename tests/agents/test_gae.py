"""GAE: a hand-computed case, episode cuts, bootstrapping, and a NumPy reference."""

import jax.numpy as jnp
import numpy as np

from alignment_rl.agents import gae


def reference_gae(r, v, v_next, done, gamma, lam):
  adv = np.zeros_like(r)
  running = 0.0
  for t in reversed(range(len(r))):
    delta = r[t] + gamma * v_next[t] - v[t]
    running = delta + gamma * lam * (1.0 - done[t]) * running
    adv[t] = running
  return adv


def test_hand_computed():
  r = jnp.array([1.0, 0.0, 2.0])
  v = jnp.array([0.5, 0.2, 0.1])
  v_next = jnp.array([0.2, 0.1, 0.3])
  adv, ret = gae.gae_advantages(r, v, v_next, jnp.array([False] * 3), 0.9, 0.5)
  # delta = [0.68, -0.11, 2.17]; A2 = 2.17; A1 = -0.11 + 0.45 A2; A0 = 0.68 + 0.45 A1.
  np.testing.assert_allclose(adv, [1.069925, 0.8665, 2.17], rtol=1e-6)
  np.testing.assert_allclose(ret, np.asarray(adv) + np.asarray(v), rtol=1e-6)


def test_done_cuts_the_recursion():
  r = jnp.array([1.0, 0.0, 2.0])
  v = jnp.array([0.5, 0.2, 0.1])
  v_next = jnp.array([0.2, 0.1, 0.3])
  adv, _ = gae.gae_advantages(r, v, v_next, jnp.array([False, True, False]), 0.9, 0.5)
  np.testing.assert_allclose(adv, [0.6305, -0.11, 2.17], rtol=1e-6)


def test_bootstrap_values_termination_vs_truncation():
  v = gae.bootstrap_values(
    v_tp1=jnp.array([1.0, 2.0, 3.0]),
    v_final_t=jnp.array([7.0, 8.0, 9.0]),
    terminated_t=jnp.array([False, True, False]),
    truncated_t=jnp.array([False, False, True]),
  )
  np.testing.assert_array_equal(v, [1.0, 0.0, 9.0])


def test_matches_numpy_reference_on_random_batches():
  rng = np.random.default_rng(0)
  T, N = 17, 5
  r = rng.normal(size=(T, N)).astype(np.float32)
  v = rng.normal(size=(T, N)).astype(np.float32)
  vn = rng.normal(size=(T, N)).astype(np.float32)
  done = rng.random((T, N)) < 0.2
  adv, _ = gae.gae_advantages(*map(jnp.asarray, (r, v, vn, done)), 0.99, 0.95)
  for n in range(N):
    ref = reference_gae(r[:, n], v[:, n], vn[:, n], done[:, n].astype(np.float32), 0.99, 0.95)
    np.testing.assert_allclose(np.asarray(adv)[:, n], ref, rtol=1e-5, atol=1e-5)
