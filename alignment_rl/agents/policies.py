"""Policy adapters: one interface over networks with different action structures.

The training loop talks to a policy through five pure functions:

  init(key, obs) -> params                       (obs: one unbatched observation)
  noise(key, batch_shape) -> noise               (the randomness of one `sample`)
  sample(params, obs, noise) -> (action, log_prob, mask, value)
  log_prob_entropy_value(params, obs, action) -> (log_prob, entropy, value)
  value(params, obs) -> value

`noise` is split from `sample` so that a rollout can draw the randomness of all
its steps in a few batched calls before its scan (on XLA:CPU every threefry call
is a small loop of its own); `noise(key, .)` draws exactly what `sample` with
`key` used to draw, so the actions are the same bit for bit.

For `CategoricalPolicy` (one discrete action per step) log_prob and entropy are
[B] and mask is None. For `ResponsePolicy` (a whole assistant response per step,
R tokens) they are [B, R] and mask marks the tokens up to the response's EOT;
the PPO loss is then token-level (see `ppo.ppo_loss`).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from alignment_rl.agents import ppo
from alignment_rl.networks.response_policy import ResponseActorCritic, response_mask


class CategoricalPolicy:
  """Wraps `network.apply(params, obs) -> (logits[B, A], value[B])`."""

  def __init__(self, network):
    self.network = network
    self.log_prob_entropy_value = ppo.make_log_prob_entropy_value(network.apply)

  def init(self, key, obs):
    return self.network.init(key, obs)

  def noise(self, key, batch_shape):
    """Gumbel noise float32[*batch_shape, A]: what `jax.random.categorical(key, .)` draws."""
    return jax.random.gumbel(key, (*batch_shape, self.network.num_actions), jnp.float32)

  def sample(self, params, obs, noise):
    """Gumbel-max sampling: the same actions as `jax.random.categorical(key, logits)`."""
    logits, value = self.network.apply(params, obs)
    action = jnp.argmax(logits + noise, axis=-1)
    log_prob = jnp.take_along_axis(jax.nn.log_softmax(logits), action[..., None], -1)[..., 0]
    return action, log_prob, None, value

  def value(self, params, obs):
    return self.network.apply(params, obs)[1]


class ResponsePolicy:
  """Wraps a `ResponseActorCritic`: observations are context tokens int32[B, L]."""

  def __init__(self, network: ResponseActorCritic):
    self.network = network

  def init(self, key, obs):
    dummy = jnp.zeros(obs.shape[:-1] + (self.network.max_response_len,), jnp.int32)
    return self.network.init(key, obs[None], dummy[None])

  def noise(self, key, batch_shape):
    """The key itself: a response's tokens are drawn inside `sample`."""
    del batch_shape
    return key

  def sample(self, params, obs, key):
    return self.network.apply(params, obs, key, method=ResponseActorCritic.sample)

  def log_prob_entropy_value(self, params, obs, action):
    logits, value = self.network.apply(params, obs, action)
    log_probs = jax.nn.log_softmax(logits)
    log_prob = jnp.take_along_axis(log_probs, action[..., None], -1)[..., 0]
    entropy = -jnp.sum(jnp.exp(log_probs) * jnp.where(log_probs > -1e8, log_probs, 0.0), -1)
    mask = response_mask(action, self.network.eot_action)
    return log_prob * mask, entropy, value

  def value(self, params, obs):
    return self.network.apply(params, obs, method=lambda m, c: m.value(m.encode(c)))


def make_policy(network):
  """The adapter matching a network."""
  if isinstance(network, ResponseActorCritic):
    return ResponsePolicy(network)
  return CategoricalPolicy(network)
