"""Generalized advantage estimation (Schulman et al. 2016, arXiv:1506.02438).

With rewards r_t, values v_t = V(s_t) and bootstrap values
v_next_t = V(s'_t) of the state the step produced,

  delta_t = r_t + gamma * v_next_t - v_t
  A_t     = delta_t + gamma * lambda * (1 - done_t) * A_{t+1}

The recursion stops at every episode boundary (`done_t`). *What* v_next_t is
at a boundary is where termination and truncation differ: a terminated episode
has no future (v_next_t = 0), while a truncated one continues beyond the time
limit and is bootstrapped from the value of its final observation. Use
`bootstrap_values` to build v_next_t accordingly.

Both functions check their inputs with chex at the call boundary: equal shapes
always (at trace time, free under jit), finite rewards and values when called on
concrete arrays (outside jit, where a value check costs nothing to the trainer).
"""

from __future__ import annotations

import chex
import jax
import jax.numpy as jnp


def assert_finite_if_concrete(*trees) -> None:
  """`chex.assert_tree_all_finite` on concrete arrays; skipped while tracing (under
  jit a value check would need `chex.chexify`, a host callback per call)."""
  leaves = jax.tree.leaves(trees)
  if not any(isinstance(x, jax.core.Tracer) for x in leaves):
    chex.assert_tree_all_finite(trees)


def bootstrap_values(
  v_tp1: jax.Array,
  v_final_t: jax.Array,
  terminated_t: jax.Array,
  truncated_t: jax.Array,
) -> jax.Array:
  """The value of the state each step produced.

  Args:
    v_tp1: float[T, ...], V of the observation the agent saw next (after an
      auto-reset this is the *new* episode's first observation).
    v_final_t: float[T, ...], V of the step's own final observation (before any
      reset); only read where `truncated_t`.
    terminated_t: bool[T, ...].
    truncated_t: bool[T, ...].

  Returns:
    float[T, ...]: 0 where terminated, v_final_t where truncated, else v_tp1.
  """
  chex.assert_equal_shape([v_tp1, v_final_t, terminated_t, truncated_t])
  v = jnp.where(truncated_t, v_final_t, v_tp1)
  return jnp.where(terminated_t, jnp.zeros_like(v), v)


def gae_advantages(
  r_t: jax.Array,
  v_t: jax.Array,
  v_next_t: jax.Array,
  done_t: jax.Array,
  gamma: jax.Array,
  lambda_: jax.Array,
) -> tuple[jax.Array, jax.Array]:
  """GAE(gamma, lambda) advantages and value targets over the time axis 0.

  Args:
    r_t: float[T, ...] rewards.
    v_t: float[T, ...] values of the states acted in.
    v_next_t: float[T, ...] bootstrap values (see `bootstrap_values`).
    done_t: bool[T, ...] episode ended at this step (terminated or truncated).
    gamma: scalar discount.
    lambda_: scalar GAE mixing parameter.

  Returns:
    (advantages float[T, ...], returns = advantages + v_t).
  """
  chex.assert_equal_shape([r_t, v_t, v_next_t, done_t])
  chex.assert_type([r_t, v_t, v_next_t], float)
  assert_finite_if_concrete(r_t, v_t, v_next_t)
  delta_t = r_t + gamma * v_next_t - v_t
  cont_t = gamma * lambda_ * (1.0 - done_t.astype(r_t.dtype))

  def backward(a_tp1, xs):
    delta, cont = xs
    a = delta + cont * a_tp1
    return a, a

  _, adv = jax.lax.scan(backward, jnp.zeros_like(delta_t[0]), (delta_t, cont_t), reverse=True)
  return adv, adv + v_t
