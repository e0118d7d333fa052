"""Actor-critic heads: `apply(params, obs) -> (logits[..., A], value[...])`.

* `MLPActorCritic`: separate policy and value MLPs over vector observations, with
  orthogonal initialisation (scale sqrt(2) hidden, 0.01 policy, 1.0 value), the
  recipe of Engstrom et al. (2020) and Huang et al. (2022), "The 37
  implementation details of PPO".
* `TokenActorCritic`: a token encoder (bag-of-tokens, causal convolution or causal
  transformer)
  shared by a policy head and a value head.
"""

from __future__ import annotations

from collections.abc import Sequence

import flax.linen as nn
import jax.numpy as jnp
import numpy as np

from alignment_rl.networks import initializers
from alignment_rl.networks.encoders import (
  BagOfTokensEncoder,
  CausalTransformerEncoder,
  ConvEncoder,
)
from alignment_rl.registry import NETWORKS


def _dense(features: int, scale: float, name: str) -> nn.Dense:
  return nn.Dense(
    features,
    kernel_init=initializers.orthogonal(scale),
    bias_init=nn.initializers.zeros,
    name=name,
  )


_ACTIVATIONS = {"tanh": nn.tanh, "relu": nn.relu, "gelu": nn.gelu}


class MLPActorCritic(nn.Module):
  """obs: float32[..., *obs_shape] -> (logits float32[..., A], value float32[...]).

  The last `obs_ndim` axes of an observation (e.g. 3 for a one-hot board
  [H, W, C]) are flattened into one feature vector.
  """

  num_actions: int
  hidden_sizes: Sequence[int] = (64, 64)
  activation: str = "tanh"
  obs_ndim: int = 1

  @nn.compact
  def __call__(self, obs: jnp.ndarray):
    if self.activation not in _ACTIVATIONS:
      raise ValueError(
        f"MLPActorCritic.activation={self.activation!r}; allowed: {sorted(_ACTIVATIONS)}"
      )
    act = _ACTIVATIONS[self.activation]
    x = obs.reshape(obs.shape[: obs.ndim - self.obs_ndim] + (-1,)).astype(jnp.float32)
    pi = x
    for i, h in enumerate(self.hidden_sizes):
      pi = act(_dense(h, np.sqrt(2), f"actor_{i}")(pi))
    logits = _dense(self.num_actions, 0.01, "actor_out")(pi)
    v = x
    for i, h in enumerate(self.hidden_sizes):
      v = act(_dense(h, np.sqrt(2), f"critic_{i}")(v))
    value = _dense(1, 1.0, "critic_out")(v)[..., 0]
    return logits, value


class TokenActorCritic(nn.Module):
  """tokens: int32[..., L] -> (logits float32[..., A], value float32[...])."""

  num_actions: int
  vocab_size: int
  encoder: str = "transformer"  # or "bag_of_tokens", "conv"
  max_len: int = 128
  d_model: int = 64
  num_heads: int = 4
  num_layers: int = 2

  @nn.compact
  def __call__(self, tokens: jnp.ndarray):
    if self.encoder == "transformer":
      h = CausalTransformerEncoder(
        self.vocab_size,
        self.max_len,
        self.d_model,
        self.num_heads,
        self.num_layers,
        name="encoder",
      )(tokens)
    elif self.encoder == "bag_of_tokens":
      h = BagOfTokensEncoder(self.vocab_size, self.d_model, 2 * self.d_model, name="encoder")(
        tokens
      )
    elif self.encoder == "conv":
      h = ConvEncoder(self.vocab_size, self.d_model, 2 * self.d_model, name="encoder")(tokens)
    else:
      raise ValueError(
        f"TokenActorCritic.encoder={self.encoder!r}; allowed: 'transformer', 'bag_of_tokens', "
        "'conv'"
      )
    logits = _dense(self.num_actions, 0.01, "policy_head")(h)
    value = _dense(1, 1.0, "value_head")(h)[..., 0]
    return logits, value


NETWORKS.add("mlp", MLPActorCritic)
NETWORKS.add("bag_of_tokens", lambda **kw: TokenActorCritic(encoder="bag_of_tokens", **kw))
NETWORKS.add("conv", lambda **kw: TokenActorCritic(encoder="conv", **kw))
NETWORKS.add("transformer", lambda **kw: TokenActorCritic(encoder="transformer", **kw))
