"""Network shapes, PAD handling, causality and order (in)sensitivity."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from alignment_rl import networks
from alignment_rl.registry import UnknownNameError


def test_mlp_shapes_and_initial_policy_is_near_uniform():
  net = networks.make("mlp", 3, hidden_sizes=(16, 16))
  params = net.init(jax.random.PRNGKey(0), jnp.zeros(5))
  logits, value = net.apply(params, jnp.ones((7, 5)))
  assert logits.shape == (7, 3) and value.shape == (7,)
  assert float(jnp.abs(logits).max()) < 0.1  # Policy head initialised at scale 0.01.


@pytest.mark.parametrize("name", ["bag_of_tokens", "transformer"])
def test_token_networks_ignore_trailing_padding(name):
  net = networks.make(name, 4, vocab_size=20, max_len=12)
  tokens = jnp.array([[3, 5, 7, 0, 0, 0]])
  params = net.init(jax.random.PRNGKey(0), tokens)
  longer = jnp.array([[3, 5, 7, 0, 0, 0, 0, 0, 0]])
  a = net.apply(params, tokens)
  b = net.apply(params, longer)
  np.testing.assert_allclose(a[0], b[0], atol=1e-5)
  np.testing.assert_allclose(a[1], b[1], atol=1e-5)


def test_transformer_is_order_sensitive_and_bag_is_not():
  x = jnp.array([[3, 5, 7, 9]])
  y = jnp.array([[9, 7, 5, 3]])
  bag = networks.make("bag_of_tokens", 4, vocab_size=20)
  p = bag.init(jax.random.PRNGKey(0), x)
  np.testing.assert_allclose(bag.apply(p, x)[1], bag.apply(p, y)[1], atol=1e-6)
  tr = networks.make("transformer", 4, vocab_size=20, max_len=8)
  p = tr.init(jax.random.PRNGKey(0), x)
  assert abs(float(tr.apply(p, x)[1][0] - tr.apply(p, y)[1][0])) > 1e-4


def test_transformer_is_causal():
  """The summary at position t cannot depend on tokens after t."""
  from alignment_rl.networks.encoders import CausalTransformerEncoder

  enc = CausalTransformerEncoder(vocab_size=20, max_len=8, d_model=16, num_heads=2)
  x = jnp.array([[3, 5, 7, 9, 11]])
  params = enc.init(jax.random.PRNGKey(0), x)
  # Run the blocks directly and compare hidden states of a shared prefix.
  prefix = enc.apply(params, jnp.array([[3, 5, 7]]))
  with_pad = enc.apply(params, jnp.array([[3, 5, 7, 0, 0]]))
  np.testing.assert_allclose(prefix, with_pad, atol=1e-5)


def test_too_long_sequence_and_unknown_names_fail_clearly():
  net = networks.make("transformer", 2, vocab_size=10, max_len=4)
  with pytest.raises(ValueError, match="max_len=4"):
    net.init(jax.random.PRNGKey(0), jnp.ones((1, 6), jnp.int32))
  with pytest.raises(
    UnknownNameError, match="known: bag_of_tokens, mlp, response_policy, transformer"
  ):
    networks.make("lstm", 2)


def test_last_token_index_skips_padding_inside_the_sequence():
  from alignment_rl.networks.encoders import last_token_index

  tokens = jnp.array([[1, 0, 0, 5, 7, 0], [0, 0, 0, 0, 0, 0], [3, 0, 0, 0, 0, 9]])
  np.testing.assert_array_equal(last_token_index(tokens), [4, 0, 5])
