"""The fast implementations equal plain references: the counts-times-table bag of
tokens, the conv encoder without mask or bias terms, the split GRU cell, the
teacher-forced response head against step-by-step sampling, and sampling with all
positions' Gumbel noise drawn at once against `jax.random.categorical` per position."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from alignment_rl.networks import initializers
from alignment_rl.networks.encoders import BagOfTokensEncoder, ConvEncoder, token_counts
from alignment_rl.networks.gru import FusedGRUCell
from alignment_rl.networks.response_policy import ResponseActorCritic, response_mask

V = 40


def _masked_mean(x, mask):
  return jnp.sum(x * mask, -2) / jnp.maximum(jnp.sum(mask, -2), 1.0)


class GatherBag(nn.Module):
  """The bag of tokens as a gather of embedding rows (the textbook form)."""

  system_len: int

  @nn.compact
  def __call__(self, tokens):
    mask = (tokens != 0).astype(jnp.float32)[..., None]
    emb = nn.Embed(V, 8, name="embed")(tokens)
    pooled = [_masked_mean(emb, mask)]
    if self.system_len:
      k = self.system_len
      pooled.append(_masked_mean(emb[..., :k, :], mask[..., :k, :]))
    h = nn.relu(nn.Dense(16, name="dense_0")(jnp.concatenate(pooled, -1)))
    return nn.relu(nn.Dense(16, name="dense_1")(h))


class PlainConv(nn.Module):
  """The conv encoder's equation written term by term (mask and bias explicit)."""

  system_len: int
  taps: tuple = (0, 1, 2, 4, 8)

  @nn.compact
  def __call__(self, tokens):
    n, length = tokens.shape
    mask = (tokens != 0).astype(jnp.float32)[..., None]
    h = self.param("bias", nn.initializers.zeros, (8,))
    for tap in self.taps:
      ids = jnp.pad(tokens, ((0, 0), (tap, 0)))[:, :length]
      rows = nn.Embed(V, 8, name=f"tap_{tap}")(ids)
      h = h + rows * (ids != 0).astype(jnp.float32)[..., None]
    h = nn.relu(h) * mask
    pooled = [_masked_mean(h, mask), jnp.max(h, -2)]
    if self.system_len:
      s = self.system_len
      pooled.append(_masked_mean(h[:, :s], mask[:, :s]))
    h = nn.relu(nn.Dense(16, name="dense_0")(jnp.concatenate(pooled, -1)))
    return nn.relu(nn.Dense(16, name="dense_1")(h))


def _tokens(shape, seed=0, pad_from=None):
  x = jax.random.randint(jax.random.PRNGKey(seed), shape, 0, V)  # PAD (0) inside too
  return x if pad_from is None else x.at[..., pad_from:].set(0)


def _perturbed(params, scale=0.1):
  """Nonzero biases (they start at zero), so that every term is exercised."""
  leaves, tree = jax.tree.flatten(params)
  keys = jax.random.split(jax.random.PRNGKey(7), len(leaves))
  noise = [scale * jax.random.normal(k, x.shape) for k, x in zip(keys, leaves, strict=True)]
  return jax.tree.unflatten(tree, [x + e for x, e in zip(leaves, noise, strict=True)])


def _close(a, b, rtol=1e-5, atol=1e-6):
  for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True):
    np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=rtol, atol=atol)


def test_token_counts_hand_computed():
  c = token_counts(jnp.array([[3, 3, 0, 5], [0, 0, 0, 0]]), 6)
  np.testing.assert_array_equal(c, [[0, 0, 0, 2, 0, 1], [0, 0, 0, 0, 0, 0]])


@pytest.mark.parametrize("system_len", [0, 3])
def test_bag_of_tokens_equals_the_gather_form_in_value_and_gradient(system_len):
  x = _tokens((2, 5, 12), pad_from=9)
  fast, ref = BagOfTokensEncoder(V, 8, 16, system_len), GatherBag(system_len)
  params = fast.init(jax.random.PRNGKey(1), x)
  _close(params, ref.init(jax.random.PRNGKey(1), x))  # Same names, same initial values.
  params = _perturbed(params)
  _close(fast.apply(params, x), ref.apply(params, x))
  loss = lambda m: lambda p: jnp.sum(m.apply(p, x) ** 2)  # noqa: E731
  _close(jax.grad(loss(fast))(params), jax.grad(loss(ref))(params), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("system_len", [0, 3])
def test_conv_encoder_equals_its_plain_equation_in_value_and_gradient(system_len):
  x = _tokens((6, 14), seed=2, pad_from=11)
  fast, ref = ConvEncoder(V, 8, 16, system_len), PlainConv(system_len)
  params = fast.init(jax.random.PRNGKey(1), x)
  params = _perturbed(params)
  _close(fast.apply(params, x), ref.apply(params, x))
  loss = lambda m: lambda p: jnp.sum(m.apply(p, x) ** 2)  # noqa: E731
  _close(jax.grad(loss(fast))(params), jax.grad(loss(ref))(params), rtol=1e-4, atol=1e-5)


def test_conv_encoder_rejects_taps_without_the_token_itself():
  with pytest.raises(ValueError, match="first tap must be 0"):
    ConvEncoder(V, 8, 16, taps=(1, 2)).init(jax.random.PRNGKey(0), _tokens((1, 5)))


def test_split_gru_cell_equals_flax_gru_cell():
  class Fast(nn.Module):
    @nn.compact
    def __call__(self, h, x):
      return FusedGRUCell(8, 5, name="cell")(h, x)

  class Flax(nn.Module):
    @nn.compact
    def __call__(self, h, x):
      cell = nn.GRUCell(8, recurrent_kernel_init=initializers.orthogonal(), name="cell")
      return cell(h, x)

  h = jax.random.normal(jax.random.PRNGKey(0), (3, 8))
  x = jax.random.normal(jax.random.PRNGKey(1), (3, 5))
  params = Fast().init(jax.random.PRNGKey(2), h, x)
  _close(params, Flax().init(jax.random.PRNGKey(2), h, x))
  params = _perturbed(params)
  _close(Fast().apply(params, h, x), Flax().apply(params, h, x))


@pytest.mark.parametrize("encoder", ["bag_of_tokens", "conv"])
def test_teacher_forced_log_probs_equal_those_of_sampling(encoder):
  """`__call__` (one pass, the PPO update) scores the sampled tokens exactly as
  `sample` (the token-by-token loop of the rollout) did, to 1e-5."""
  net = ResponseActorCritic(12, V, 6, 0, encoder, 20, 16, system_len=3)
  ctx = _tokens((9, 20), seed=3, pad_from=15)
  params = _perturbed(net.init(jax.random.PRNGKey(0), ctx, jnp.zeros((9, 6), jnp.int32)), 0.3)
  actions, log_probs, mask, value = net.apply(params, ctx, jax.random.PRNGKey(4), method="sample")
  logits, value_tf = net.apply(params, ctx, actions)
  lp = jnp.take_along_axis(jax.nn.log_softmax(logits), actions[..., None], -1)[..., 0]
  np.testing.assert_allclose(lp * mask, log_probs, atol=1e-5)
  np.testing.assert_allclose(value_tf, value, atol=1e-6)
  assert float(mask.sum()) > 9  # Some responses are longer than one token.


def test_sampling_with_batched_gumbel_noise_equals_per_position_categorical():
  """`sample` draws every position's Gumbel noise in one call; the actions, log-probs
  and values are bit for bit those of `jax.random.categorical` at each position."""

  class PerPosition(ResponseActorCritic):
    def sample(self, context, key, temperature=1.0):  # The plain form, token by token.
      h = self.encode(context)
      g, xi_c, table = self._head_inputs(h)
      last_mask = self._last_position_mask()
      prev = jnp.full(context.shape[:-1], self.num_actions, jnp.int32)
      acts, lps = [], []
      for k, k_key in enumerate(jax.random.split(key, self.max_response_len)):
        g = self.cell.step(g, xi_c + table[prev])
        logp = jax.nn.log_softmax((self.policy_out(g) + last_mask[k]) / temperature)
        a = jax.random.categorical(k_key, logp)
        acts.append(a)
        lps.append(jnp.take_along_axis(logp, a[..., None], -1)[..., 0])
        prev = a
      actions = jnp.stack(acts, -1)
      mask = response_mask(actions, self.eot_action)
      actions = jnp.where(mask > 0, actions, self.eot_action)
      return actions, jnp.stack(lps, -1) * mask, mask, self.value(h)

  args = (12, V, 6, 0, "bag_of_tokens", 20, 16)
  net, ref = ResponseActorCritic(*args, system_len=3), PerPosition(*args, system_len=3)
  ctx = _tokens((9, 20), seed=5, pad_from=15)
  params = _perturbed(net.init(jax.random.PRNGKey(0), ctx, jnp.zeros((9, 6), jnp.int32)), 0.3)
  for seed in range(3):
    key = jax.random.PRNGKey(seed)
    fast = jax.jit(lambda p, c, k: net.apply(p, c, k, method="sample"))(params, ctx, key)
    plain = jax.jit(lambda p, c, k: ref.apply(p, c, k, method="sample"))(params, ctx, key)
    for x, y in zip(fast, plain, strict=True):
      np.testing.assert_array_equal(np.asarray(x), np.asarray(y))
