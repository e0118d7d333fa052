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
    UnknownNameError, match="known: bag_of_tokens, conv, mlp, response_policy, transformer"
  ):
    networks.make("lstm", 2)


def test_last_token_index_skips_padding_inside_the_sequence():
  from alignment_rl.networks.encoders import last_token_index

  tokens = jnp.array([[1, 0, 0, 5, 7, 0], [0, 0, 0, 0, 0, 0], [3, 0, 0, 0, 0, 9]])
  np.testing.assert_array_equal(last_token_index(tokens), [4, 0, 5])


def test_conv_encoder_shapes_and_system_segment():
  from alignment_rl.networks.encoders import ConvEncoder

  tokens = jax.random.randint(jax.random.PRNGKey(0), (2, 3, 16), 0, 30)
  enc = ConvEncoder(vocab_size=30, embed_dim=8, features=12)
  params = enc.init(jax.random.PRNGKey(1), tokens)
  assert enc.apply(params, tokens).shape == (2, 3, 12)
  assert enc.apply(params, tokens[0, 0]).shape == (12,)
  assert sorted(params["params"]) == ["bias", "dense_0", "dense_1"] + [
    f"tap_{t}" for t in (0, 1, 2, 4, 8)
  ]
  assert params["params"]["dense_0"]["kernel"].shape == (2 * 8, 12)  # mean + max
  sys_enc = ConvEncoder(vocab_size=30, embed_dim=8, features=12, system_len=4)
  sys_params = sys_enc.init(jax.random.PRNGKey(1), tokens)
  assert sys_params["params"]["dense_0"]["kernel"].shape == (3 * 8, 12)
  assert np.isfinite(np.asarray(sys_enc.apply(sys_params, jnp.zeros((2, 16), jnp.int32)))).all()


@pytest.mark.parametrize("system_len", [0, 3])
def test_conv_encoder_is_order_sensitive_and_ignores_trailing_padding(system_len):
  from alignment_rl.networks.encoders import ConvEncoder

  enc = ConvEncoder(vocab_size=20, embed_dim=16, features=16, system_len=system_len)
  rng = np.random.default_rng(0)
  x = jnp.array([[3, 5, 7, 9, 11, 13, 15, 17, 0, 0]])
  for seed in range(3):
    params = enc.init(jax.random.PRNGKey(seed), x)
    fx = enc.apply(params, x)
    # Same token multiset, other order: different features (a reversal, a swap of
    # two neighbours, random permutations).
    body = np.asarray(x[0, :8])
    perms = [body[::-1], np.r_[body[:3], body[4], body[3], body[5:]]]
    perms += [rng.permutation(body) for _ in range(3)]
    for perm in perms:
      y = jnp.array([np.r_[perm, 0, 0]])
      assert float(jnp.abs(fx - enc.apply(params, y)).max()) > 1e-4, perm
    # PAD after the end changes nothing, however much of it there is.
    longer = jnp.array([[3, 5, 7, 9, 11, 13, 15, 17] + [0] * 30])
    np.testing.assert_allclose(fx, enc.apply(params, longer), atol=1e-5)
    np.testing.assert_allclose(fx, enc.apply(params, x[:, :8]), atol=1e-5)


def test_response_policy_with_conv_encoder():
  from alignment_rl.networks import ResponseActorCritic

  net = ResponseActorCritic(
    num_actions=5, vocab_size=20, max_response_len=4, encoder="conv", d_model=16, system_len=3
  )
  ctx = jnp.array([[1, 4, 0, 0, 3, 5, 7, 9, 0, 0], [1, 0, 0, 0, 3, 9, 7, 5, 0, 0]])
  acts = jnp.zeros((2, 4), jnp.int32)
  params = net.init(jax.random.PRNGKey(0), ctx, acts)
  logits, value = net.apply(params, ctx, acts)
  assert logits.shape == (2, 4, 5) and value.shape == (2,)
  a, lp, mask, v = net.apply(params, ctx, jax.random.PRNGKey(1), method=net.sample)
  assert a.shape == lp.shape == mask.shape == (2, 4) and v.shape == (2,)
  longer = jnp.pad(ctx, ((0, 0), (0, 20)))
  np.testing.assert_allclose(value, net.apply(params, longer, acts)[1], atol=1e-5)
  bad = ResponseActorCritic(num_actions=5, vocab_size=20, encoder="lstm")
  with pytest.raises(ValueError, match="allowed: 'bag_of_tokens', 'conv', 'transformer'"):
    bad.init(jax.random.PRNGKey(0), ctx, acts)
