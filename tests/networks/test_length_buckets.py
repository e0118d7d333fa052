"""Length buckets (`networks/length_buckets.py`): the routing of rows to cut lengths,
worked by hand, and the conv encoder in buckets equal to the whole batch in value and
gradient, whether every bucket is cut short or some fall back to the full length."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from alignment_rl.networks.encoders import ConvEncoder
from alignment_rl.networks.length_buckets import (
  bucket_bounds,
  bucketed_rows,
  length_ladder,
  row_lengths,
)

V = 40


def _rows(lengths, width, seed=0):
  """int32[N, width]: row i has non-PAD tokens at positions < lengths[i] (and a PAD
  inside, at position 1, where the row is long enough), PAD after."""
  x = np.array(jax.random.randint(jax.random.PRNGKey(seed), (len(lengths), width), 1, V))
  for i, n in enumerate(lengths):
    x[i, n:] = 0
    if n > 2:
      x[i, 1] = 0
  return jnp.asarray(x, jnp.int32)


def test_row_lengths_hand_computed():
  tokens = jnp.array([[5, 0, 7, 0, 0], [0, 0, 0, 0, 0], [1, 2, 3, 4, 5], [0, 0, 0, 9, 0]])
  np.testing.assert_array_equal(row_lengths(tokens), [3, 0, 5, 4])


def test_ladder_and_bounds_hand_computed():
  assert length_ladder(72) == (24, 32, 40, 56, 72)
  assert length_ladder(128) == (32, 48, 64, 96, 128)
  assert length_ladder(8) == (8,)
  assert length_ladder(20) == (8, 16, 20)
  assert bucket_bounds(10, 4) == ((0, 2), (2, 5), (5, 8), (8, 10))
  assert bucket_bounds(3, 8) == ((0, 1), (1, 2), (2, 3))


def test_rows_are_routed_to_the_shortest_length_that_holds_their_bucket():
  # A row function that reports the width it was given: which cut each row got.
  width = lambda p, t: jnp.full((t.shape[0], 1), float(t.shape[1])) * p  # noqa: E731
  lengths = [3, 30, 10, 60, 0, 25, 70, 5]
  # Sorted: [0, 3, 5, 10 | 25, 30, 60, 70]: the first bucket fits 24 positions of the
  # ladder (24, 32, 40, 56, 72); the second needs all 72.
  got = bucketed_rows(width, jnp.float32(1.0), _rows(lengths, 72), num_buckets=2)
  np.testing.assert_array_equal(got[:, 0], [24, 72, 24, 72, 24, 72, 72, 24])
  # Four buckets: [0, 3 | 5, 10 | 25, 30 | 60, 70] -> 24, 24, 32, 72.
  got = bucketed_rows(width, jnp.float32(1.0), _rows(lengths, 72), num_buckets=4)
  np.testing.assert_array_equal(got[:, 0], [24, 32, 24, 72, 24, 32, 72, 24])
  # At the ladder's steps: a bucket whose longest row ends exactly at a cut keeps that
  # cut; one position more takes the next. Fewer rows than buckets: one row each.
  for longest, cut in ((0, 24), (24, 24), (25, 32), (56, 56), (57, 72), (72, 72)):
    got = bucketed_rows(width, jnp.float32(1.0), _rows([1, longest], 72), num_buckets=1)
    np.testing.assert_array_equal(got[:, 0], [cut, cut])
  got = bucketed_rows(width, jnp.float32(1.0), _rows([40, 9], 72), num_buckets=4)
  np.testing.assert_array_equal(got[:, 0], [40, 24])


def _encoders(system_len, buckets):
  plain = ConvEncoder(V, 8, 16, system_len)
  return plain, plain.clone(length_buckets=buckets, bucket_min_rows=1)


def _loss(module):
  return lambda p, t: jnp.sum(jnp.sin(module.apply(p, t)))


@pytest.mark.parametrize(
  "system_len, lengths, buckets",
  [
    (3, [3, 30, 10, 32, 0, 25, 31, 5, 12, 19, 14, 32], 3),  # short and full-length buckets
    (0, [3, 30, 10, 32, 0, 25, 31, 5, 12, 19, 14, 32], 4),
    (3, [3, 7, 1, 2, 7, 0, 5, 6, 2, 5, 8, 4], 1),  # one bucket, cut to 8 of 32
  ],
)
def test_bucketed_conv_encoder_equals_the_whole_batch(system_len, lengths, buckets):
  tokens = _rows(lengths, 32)
  plain, bucketed = _encoders(system_len, buckets)
  params = plain.init(jax.random.PRNGKey(1), tokens)
  params = jax.tree.map(lambda x: x + 0.1 * jnp.cos(jnp.arange(x.size).reshape(x.shape)), params)
  np.testing.assert_allclose(
    bucketed.apply(params, tokens), plain.apply(params, tokens), rtol=1e-5, atol=1e-6
  )
  g_plain = jax.grad(_loss(plain))(params, tokens)
  g_bucketed = jax.jit(jax.grad(_loss(bucketed)))(params, tokens)
  for a, b in zip(jax.tree.leaves(g_bucketed), jax.tree.leaves(g_plain), strict=True):
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_bucketed_conv_encoder_under_vmap_and_lax_map():
  """Values and gradients correct either way (under `vmap` the switch computes every
  branch, as the EWC Fisher's per-sample gradients would)."""
  tokens = jnp.stack([_rows([3, 30, 10, 20, 0, 25], 32, s) for s in range(3)])
  plain, bucketed = _encoders(0, 2)
  params = plain.init(jax.random.PRNGKey(1), tokens[0])
  want = jax.vmap(lambda t: plain.apply(params, t))(tokens)
  want_grad = jax.vmap(lambda t: jax.grad(_loss(plain))(params, t))(tokens)
  for over in (jax.vmap, lambda f: lambda x: jax.lax.map(f, x)):
    got = jax.jit(over(lambda t: bucketed.apply(params, t)))(tokens)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    got_grad = jax.jit(over(lambda t: jax.grad(_loss(bucketed))(params, t)))(tokens)
    for a, b in zip(jax.tree.leaves(got_grad), jax.tree.leaves(want_grad), strict=True):
      np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_bucketed_encoder_keeps_the_parameter_tree():
  tokens = _rows([3, 30, 10, 60], 72)
  plain, bucketed = _encoders(3, 2)
  a = plain.init(jax.random.PRNGKey(0), tokens)
  b = bucketed.init(jax.random.PRNGKey(0), tokens)
  assert jax.tree.structure(a) == jax.tree.structure(b)
  for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True):
    np.testing.assert_array_equal(x, y)


def test_small_batches_are_not_bucketed():
  """Below `bucket_min_rows` rows the encoder runs whole (no switch is compiled)."""
  tokens = _rows([3, 30, 10, 20], 32)
  small = ConvEncoder(V, 8, 16, 0, length_buckets=2)  # Default minimum: 256 rows.
  params = small.init(jax.random.PRNGKey(0), tokens)
  jaxpr = str(jax.make_jaxpr(lambda t: small.apply(params, t))(tokens))
  assert "cond" not in jaxpr and "switch" not in jaxpr
  big = small.clone(bucket_min_rows=4)
  assert "cond" in str(jax.make_jaxpr(lambda t: big.apply(params, t))(tokens))
