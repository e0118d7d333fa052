"""The imitation's batches: second-turn contexts are the environment's own turn."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from alignment_rl.data import SMALL, generate_split
from alignment_rl.envs.conversations import prior
from alignment_rl.envs.conversations.user_model import classify_response
from alignment_rl.language import schema, vocab
from alignment_rl.networks.response_policy import response_mask
from alignment_rl.training import imitation_batches as ib

R = 8


@pytest.fixture(scope="module")
def train():
  return {k: jnp.asarray(v) for k, v in generate_split(SMALL, "train").items()}


def extend_context_by_hand(context, context_len, actions, followup, followup_len):
  """context[:n] ++ reply tokens through its EOT ++ followup[:f], PAD-padded."""
  length = context.shape[0] + actions.shape[0] + followup.shape[0]
  n_resp = jnp.sum(response_mask(actions, 0)).astype(jnp.int32)
  p = jnp.arange(length)
  resp = jnp.take(actions + vocab.RESPONSE_OFFSET, jnp.clip(p - context_len, 0, R - 1))
  fu_pos = jnp.clip(p - context_len - n_resp, 0, followup.shape[0] - 1)
  out = jnp.where(p < context_len + n_resp + followup_len, followup[fu_pos], vocab.PAD)
  out = jnp.where(p < context_len + n_resp, resp, out)
  return jnp.where(p < context_len, jnp.pad(context, (0, length - context.shape[0]))[p], out)


def second_turn_by_hand(sc, first, pressure):
  cls = jax.vmap(classify_response)(first + vocab.RESPONSE_OFFSET, sc)
  level = jnp.clip(pressure, 0, schema.NUM_PRESSURE_LEVELS - 1)
  rows = jnp.arange(first.shape[0])
  follow, follow_len = sc["followups"][rows, cls, level], sc["followup_len"][rows, cls, level]
  return jax.vmap(extend_context_by_hand)(
    sc["context"], sc["context_len"], first, follow, follow_len
  )


@pytest.mark.parametrize("pressure", [0, 1, 3, 5])
def test_second_turn_contexts_equal_a_rendering_by_hand(train, pressure):
  n = train["context"].shape[0]
  keys = jax.random.split(jax.random.PRNGKey(pressure), n)
  sc = dict(train)
  sc["context"] = ib.with_training_personas(jax.random.PRNGKey(7), sc["context"], 0.5)
  first = jax.vmap(prior.prior_response, in_axes=(0, 0, None))(keys, sc, R)
  first = first.at[:5].set(0)  # Empty replies too.
  new = jax.jit(ib.second_turn_contexts)(sc, first, pressure)
  assert new.shape == (n, ib.two_turn_len(R))
  np.testing.assert_array_equal(new, second_turn_by_hand(sc, first, pressure))


def test_prior_batch_mixes_first_and_second_turns(train):
  batch = jax.jit(ib.prior_batch, static_argnums=(2, 3, 6))
  ctx, actions, sc = batch(jax.random.PRNGKey(0), train, 64, R, 0.5, 0, 0.3)
  again = batch(jax.random.PRNGKey(0), train, 64, R, 0.5, 0, 0.3)
  np.testing.assert_array_equal(ctx, again[0])
  np.testing.assert_array_equal(actions, again[1])
  assert ctx.shape == (64, ib.two_turn_len(R)) and actions.shape == (64, R)
  first_ctx = np.pad(np.asarray(sc["context"]), ((0, 0), (0, R + schema.FOLLOWUP_LEN)))
  second = np.any(np.asarray(ctx) != first_ctx, axis=1)  # The rest are first turns.
  assert 16 < second.sum() < 48  # multi_turn_fraction 0.5
  n_ctx = np.asarray(sc["context_len"])[second]
  assert np.all(np.asarray(ctx)[second, n_ctx] != vocab.PAD)  # A reply after the context.
  assert np.all(np.asarray(actions[:, -1]) == vocab.Action.EOT)
