"""Observation and action spaces with gymnax's methods (`sample`, `contains`).

They are not gymnax's classes: `gymnax_compat.to_gymnax_space` converts them."""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp


class Discrete:
  """Integers {0, ..., n - 1}.

  Attributes:
    n: number of values.
    shape: `()`.
    dtype: `jnp.int32`.
  """

  def __init__(self, num_categories: int):
    if num_categories < 1:
      raise ValueError(f"Discrete.num_categories must be >= 1, got {num_categories}")
    self.n = int(num_categories)
    self.shape: tuple[int, ...] = ()
    self.dtype = jnp.int32

  def sample(self, rng: jax.Array) -> jax.Array:
    return jax.random.randint(rng, self.shape, 0, self.n, dtype=self.dtype)

  def contains(self, x: jax.Array) -> jax.Array:
    x = jnp.asarray(x)
    return jnp.logical_and(x >= 0, x < self.n) & jnp.all(x == jnp.round(x))

  def __repr__(self) -> str:
    return f"Discrete({self.n})"


class Box:
  """A box `[low, high]` of a given shape and dtype (bounds may be infinite)."""

  def __init__(self, low, high, shape: Sequence[int], dtype=jnp.float32):
    self.low = low
    self.high = high
    self.shape = tuple(int(s) for s in shape)
    self.dtype = dtype

  def sample(self, rng: jax.Array) -> jax.Array:
    if jnp.issubdtype(self.dtype, jnp.integer):
      return jax.random.randint(rng, self.shape, self.low, self.high + 1, dtype=self.dtype)
    low = jnp.broadcast_to(jnp.asarray(self.low, jnp.float32), self.shape)
    high = jnp.broadcast_to(jnp.asarray(self.high, jnp.float32), self.shape)
    # Infinite bounds sample a standard normal, as gymnasium does.
    finite = jnp.isfinite(low) & jnp.isfinite(high)
    u = jax.random.uniform(rng, self.shape, minval=0.0, maxval=1.0)
    n = jax.random.normal(rng, self.shape)
    bounded = low + u * jnp.where(finite, high - low, 0.0)
    return jnp.where(finite, bounded, n).astype(self.dtype)

  def contains(self, x: jax.Array) -> jax.Array:
    x = jnp.asarray(x)
    shape_ok = x.shape == self.shape
    return jnp.logical_and(shape_ok, jnp.all((x >= self.low) & (x <= self.high)))

  def __repr__(self) -> str:
    return f"Box(shape={self.shape}, dtype={jnp.dtype(self.dtype).name})"
