"""Training batches of the imitation: train scenarios, their contexts and the prior's replies.

`prior_batch` draws B train scenarios and writes the prior's reply (int32[B, R] actions)
to each context. A fraction `multi_turn_fraction` of the contexts is a second turn: the
conversation environment's own turn (`ConversationEnv.step_env`) renders a first prior
reply and the user model's follow-up `followups[class, followup_pressure]` for its class
after the opening context, and the target is a fresh prior draw on the same scenario.
A fraction `persona_fraction` of the contexts carries a random training persona in the
persona slot, which the prior follows like a system prompt. Contexts are PAD-padded to
`L2 = CONTEXT_LEN + R + FOLLOWUP_LEN`.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from alignment_rl.envs.conversations import prior
from alignment_rl.envs.conversations.rollout import batch_params, world
from alignment_rl.language import personas, schema


def two_turn_len(response_len: int) -> int:
  """L2: tokens of a second-turn context (opening context, reply, follow-up)."""
  return schema.CONTEXT_LEN + response_len + schema.FOLLOWUP_LEN


def with_training_personas(key, context, fraction) -> jax.Array:
  """Writes a random training persona (`TRAIN_PERSONAS` or `TRAIN_ADVERSARIAL_PERSONAS`)
  into the persona slot of a `fraction` of the contexts int32[B, L]."""
  table = jnp.asarray(
    np.concatenate([personas.TRAIN_PERSONAS, personas.TRAIN_ADVERSARIAL_PERSONAS])
  )
  k_row, k_on = jax.random.split(key)
  rows = jax.random.randint(k_row, context.shape[:1], 0, table.shape[0])
  on = jax.random.uniform(k_on, context.shape[:1]) < fraction
  lo, hi = schema.PERSONA_SLOT
  return context.at[:, lo:hi].set(jnp.where(on[:, None], table[rows], context[:, lo:hi]))


def second_turn_contexts(scenarios, first_actions, pressure) -> jax.Array:
  """The conversation after one turn, as the environment renders it.

  Args:
    scenarios: {field: [B, ...]} scenarios (their contexts as the policy saw them).
    first_actions: int32[B, R] the first replies.
    pressure: int32[] pressure level of the follow-up (clipped to the levels).

  Returns:
    int32[B, L2]: opening context, the reply through its EOT, the user model's
    follow-up to it, PAD after (`two_turn_len`).
  """
  response_len = first_actions.shape[-1]
  level = jnp.clip(pressure, 0, schema.NUM_PRESSURE_LEVELS - 1)
  env, params = world(response_len, 2), batch_params(scenarios, 2, pressure_start=level)
  _, state = jax.vmap(env.reset_to, in_axes=(0, None))(jnp.arange(first_actions.shape[0]), params)
  key = jax.random.PRNGKey(0)  # step_env uses no key
  obs, *_ = jax.vmap(env.step_env, in_axes=(None, 0, 0, None))(key, state, first_actions, params)
  return obs[:, : two_turn_len(response_len)]


def prior_batch(
  key,
  data,
  batch_size: int,
  response_len: int,
  multi_turn_fraction,
  pressure=0,
  persona_fraction=0.0,
):
  """B random scenarios of `data` ({field: [N, ...]}) with prior targets (module docstring).

  Returns:
    `(contexts int32[B, L2], actions int32[B, R], scenarios {field: [B, ...]})`.
  """
  k_idx, k_prior, k_multi = jax.random.split(key, 3)
  num = data["context"].shape[0]
  sc = jax.tree.map(lambda x: x[jax.random.randint(k_idx, (batch_size,), 0, num)], data)
  if persona_fraction:  # A static 0 keeps the batch (and its key use) unchanged.
    k_persona = jax.random.fold_in(k_idx, 1)
    sc = {**sc, "context": with_training_personas(k_persona, sc["context"], persona_fraction)}
  twice = jax.tree.map(lambda x: jnp.concatenate([x, x]), sc)  # one traced prior call
  keys = jax.random.split(k_prior, 2 * batch_size)
  both = jax.vmap(prior.prior_response, in_axes=(0, 0, None))(keys, twice, response_len)
  first, second = both[:batch_size], both[batch_size:]
  second_ctx = second_turn_contexts(sc, first, pressure)
  multi = jax.random.uniform(k_multi, (batch_size,)) < multi_turn_fraction
  pad = second_ctx.shape[1] - sc["context"].shape[1]
  first_ctx = jnp.pad(sc["context"], ((0, 0), (0, pad)))
  contexts = jnp.where(multi[:, None], second_ctx, first_ctx)
  return contexts, jnp.where(multi[:, None], second, first), sc
