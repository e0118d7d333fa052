"""A policy that writes a whole assistant response from one encoding of the context.

The context (int32[L]) is encoded once per turn into h by an encoder chosen by name:
"bag_of_tokens" (order-blind), "conv" (order-aware, about 1.5x its cost) or
"transformer" (see `encoders.py`). A light autoregressive head, a GRU (Cho et al.
2014) whose state starts from h, then emits the response tokens a_0..a_{R-1}:

  g_0 = tanh(W h),  g_k = GRU(g_{k-1}, embed(a_{k-1}))   (a_{-1} = START)
  pi(a_k | context, a_<k) = softmax(U g_k)

so writing R tokens costs one context encoding plus R small GRU steps, never
re-encoding the context per token. The GRU's input projection is linear, so
W_i (embed(a) + c) = (W_i embed)(a) + W_i c: the context term is projected once per
response and the action term is a row of a [A + 1, 3D] table; inside the sequential
loop only the recurrent matmul remains. Teacher-forced scoring (the PPO update)
projects all R inputs and computes all R logits as single batched matmuls. The value
V(context) is read from h. A response ends at the first EOT (action `eot_action`);
position R-1 may only be EOT, and positions after the end are masked out of every loss.
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp

from alignment_rl.networks import initializers
from alignment_rl.networks.encoders import (
  BagOfTokensEncoder,
  CausalTransformerEncoder,
  ConvEncoder,
)
from alignment_rl.networks.gru import FusedGRUCell
from alignment_rl.registry import NETWORKS

NEG_INF = -1e9


def response_mask(actions: jax.Array, eot_action: int) -> jax.Array:
  """1.0 up to and including the first EOT. actions: int32[..., R] -> float32[..., R]."""
  is_eot = (actions == eot_action).astype(jnp.int32)
  ended_before = jnp.cumsum(is_eot, axis=-1) - is_eot
  return (ended_before == 0).astype(jnp.float32)


class ResponseActorCritic(nn.Module):
  """Context encoder + GRU response head + value head."""

  num_actions: int
  vocab_size: int
  max_response_len: int = 6
  eot_action: int = 0
  encoder: str = "bag_of_tokens"  # or "conv", "transformer"
  max_len: int = 128
  d_model: int = 64
  num_heads: int = 4
  num_layers: int = 2
  system_len: int = 0  # bag_of_tokens, conv: also pool the first system_len tokens alone
  length_buckets: int = 0  # conv: encode in length buckets (`ConvEncoder`); no vmap around

  def setup(self):
    if self.encoder == "transformer":
      self.context_encoder = CausalTransformerEncoder(
        self.vocab_size, self.max_len, self.d_model, self.num_heads, self.num_layers
      )
    elif self.encoder == "bag_of_tokens":
      self.context_encoder = BagOfTokensEncoder(
        self.vocab_size, self.d_model, 2 * self.d_model, self.system_len
      )
    elif self.encoder == "conv":
      self.context_encoder = ConvEncoder(
        self.vocab_size,
        self.d_model,
        2 * self.d_model,
        self.system_len,
        length_buckets=self.length_buckets,
      )
    else:
      raise ValueError(
        f"ResponseActorCritic.encoder={self.encoder!r}; allowed: 'bag_of_tokens', 'conv', "
        "'transformer'"
      )
    self.init_state = nn.Dense(self.d_model)
    # The context also enters every step's input, not only the initial state: a direct
    # path from the context to each token's logits (without it, supervised training
    # sits for ~1,000 steps on the context-free marginal before it reads the context).
    self.context_in = nn.Dense(self.d_model)
    self.action_embed = nn.Embed(self.num_actions + 1, self.d_model)  # + START
    # flax's GRUCell (same parameters; recurrent kernels orthogonal, drawn one seed at a
    # time), split into its input projection and recurrence.
    self.cell = FusedGRUCell(self.d_model, self.d_model)
    self.policy_out = nn.Dense(self.num_actions, kernel_init=initializers.orthogonal(0.01))
    self.value_out = nn.Dense(1, kernel_init=initializers.orthogonal(1.0))

  def encode(self, context: jax.Array) -> jax.Array:
    """context int32[..., L] -> h float32[..., D']."""
    return self.context_encoder(context)

  def value(self, h: jax.Array) -> jax.Array:
    return self.value_out(h)[..., 0]

  def _last_position_mask(self) -> jax.Array:
    """float32[R, A]: 0, except that position R-1 allows only EOT."""
    only_eot = jnp.full((self.num_actions,), NEG_INF).at[self.eot_action].set(0.0)
    mask = jnp.zeros((self.max_response_len, self.num_actions))
    return mask.at[-1].set(only_eot)

  def _head_inputs(self, h: jax.Array):
    """(g_0 float32[..., D], xi_c float32[..., 3D] (the context's input projection,
    biases included), table float32[A + 1, 3D] (each action's))."""
    w_i, b_i = self.cell.input_kernel()
    xi_c = self.context_in(h) @ w_i + b_i
    return jnp.tanh(self.init_state(h)), xi_c, self.action_embed.embedding @ w_i

  def __call__(self, context: jax.Array, actions: jax.Array):
    """Teacher-forced scores of given responses.

    Args:
      context: int32[B, L].
      actions: int32[B, R] response actions.

    Returns:
      (logits float32[B, R, A], value float32[B]).
    """
    h = self.encode(context)
    g, xi_c, table = self._head_inputs(h)
    start = jnp.full(actions.shape[:-1] + (1,), self.num_actions, jnp.int32)
    prev = jnp.concatenate([start, actions[..., :-1]], axis=-1)
    # Unstacked per position (and the gates split, in `step`): their gradients are
    # then one concatenation, not a sum of zero-padded copies of [B, R, 3D].
    xi = jnp.unstack(jnp.take(table, prev, axis=0) + xi_c[..., None, :], axis=-2)
    gs = []
    for k in range(self.max_response_len):
      g = self.cell.step(g, xi[k])
      gs.append(g)
    logits = self.policy_out(jnp.stack(gs, axis=-2)) + self._last_position_mask()
    return logits, self.value(h)

  def sample(self, context: jax.Array, key: jax.Array, temperature: float = 1.0):
    """Samples responses.

    Returns:
      (actions int32[B, R], log_probs float32[B, R] (0 after the end),
       mask float32[B, R], value float32[B]).
    """
    h = self.encode(context)
    g, xi_c, table = self._head_inputs(h)
    last_mask = self._last_position_mask()
    prev = jnp.full(context.shape[:-1], self.num_actions, jnp.int32)
    acts, lps = [], []
    # Every position's Gumbel noise in one batched draw before the loop: the same
    # bits as `jax.random.categorical(split(key, R)[k], logp)` draws at position k
    # (argmax of logp + gumbel(k_key, logp.shape)), in one threefry call instead of R.
    shape = context.shape[:-1] + (self.num_actions,)
    keys = jax.random.split(key, self.max_response_len)
    gumbel = jax.vmap(lambda k: jax.random.gumbel(k, shape))(keys)
    for k in range(self.max_response_len):
      g = self.cell.step(g, xi_c + table[prev])
      logp = jax.nn.log_softmax((self.policy_out(g) + last_mask[k]) / temperature)
      a = jnp.argmax(logp + gumbel[k], axis=-1)
      acts.append(a)
      lps.append(jnp.take_along_axis(logp, a[..., None], -1)[..., 0])
      prev = a
    actions = jnp.stack(acts, -1)
    mask = response_mask(actions, self.eot_action)
    actions = jnp.where(mask > 0, actions, self.eot_action)
    return actions, jnp.stack(lps, -1) * mask, mask, self.value(h)


NETWORKS.add("response_policy", ResponseActorCritic)
