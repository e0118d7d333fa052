"""Reply actions -> reply tokens: the one conversion every writer of replies uses.

A reply is written as response actions `a` in [0, NUM_ACTIONS) (action 0 is EOT); the
tokens that graders, the user model and rendered conversations read are
`vocab.RESPONSE_OFFSET + a` up to and including the first EOT, and PAD after it.
Everything after the first EOT is ignored by every reader of a reply, so that part is
written as PAD, which a rendered conversation skips.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from alignment_rl.language import vocab


def reply_tokens(actions: jax.Array) -> jax.Array:
  """Token ids of replies: `RESPONSE_OFFSET + a` through the first EOT, PAD after it.

  Args:
    actions: int[..., R] response actions (EOT = `vocab.Action.EOT` = 0); a reply
      without EOT keeps all R tokens.

  Returns:
    int32[..., R] token ids.
  """
  actions = jnp.asarray(actions, jnp.int32)
  is_eot = actions == vocab.Action.EOT
  after = (jnp.cumsum(is_eot, axis=-1) - is_eot) > 0
  return jnp.where(after, vocab.PAD, vocab.RESPONSE_OFFSET + actions)
