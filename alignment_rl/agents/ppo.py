"""Proximal Policy Optimization (Schulman et al. 2017, arXiv:1707.06347).

Pure functions: `ppo_loss` over one minibatch and `make_update_fn`, which builds
`update(state, batch) -> (state, metrics)`: `update_epochs` passes of shuffled
minibatch SGD over one rollout batch. Every hyperparameter that a sweep may
change lives in `PPOHyperparams`, an array-valued leaf of the state, so changing
it never recompiles.

Loss (to minimise), with ratio rho = pi(a|s) / pi_old(a|s) and advantages A
normalised per minibatch:

  L_pi  = -E[min(rho A, clip(rho, 1 - eps, 1 + eps) A)]
  L_v   = 0.5 E[max((V - R)^2, (V_old + clip(V - V_old, -eps, eps) - R)^2)]
  L     = L_pi + c_v L_v - c_ent E[H(pi(.|s))]
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import optax
from flax import struct


@struct.dataclass
class PPOHyperparams:
  """Swept hyperparameters: float32 scalars (or [S] when vmapped over seeds)."""

  learning_rate: jax.Array
  clip_eps: jax.Array
  ent_coef: jax.Array
  vf_coef: jax.Array
  gamma: jax.Array
  gae_lambda: jax.Array
  max_grad_norm: jax.Array

  @classmethod
  def from_config(cls, cfg) -> PPOHyperparams:
    return cls(**{f: jnp.float32(cfg[f]) for f in cls.__dataclass_fields__})


@struct.dataclass
class Batch:
  """One rollout flattened to B = T * N samples."""

  obs: Any  # [B, ...]
  action: jax.Array  # int32[B] (or [B, K] sub-actions, e.g. response tokens)
  log_prob: jax.Array  # float32[B] (or [B, K]), under the behaviour policy.
  value: jax.Array  # float32[B], V_old(s).
  advantage: jax.Array  # float32[B]
  target: jax.Array  # float32[B], value targets (A + V_old).
  mask: jax.Array | None = None  # float32[B, K] real sub-actions, for [B, K] log-probs.


@struct.dataclass
class PPOState:
  params: Any
  opt_state: optax.OptState
  hparams: PPOHyperparams


def make_optimizer() -> optax.GradientTransformation:
  """Adam (eps 1e-5) after global-norm clipping; both knobs are state leaves."""

  def build(learning_rate, max_grad_norm):
    return optax.chain(
      optax.clip_by_global_norm(max_grad_norm),
      optax.adam(learning_rate, eps=1e-5),
    )

  return optax.inject_hyperparams(build)(learning_rate=1e-3, max_grad_norm=1.0)


def categorical_evaluate(apply_fn: Callable) -> Callable:
  """Adapts `apply_fn(params, obs) -> (logits[B, A], value[B])` to `evaluate_fn`.

  Returns `evaluate(params, obs, action[B]) -> (log_prob[B], entropy[B], value[B])`.
  """

  def evaluate(params, obs, action):
    logits, value = apply_fn(params, obs)
    log_probs = jax.nn.log_softmax(logits)
    # Select with a one-hot mask rather than a gather: the same value, but its
    # gradient is an element-wise select instead of a scatter-add.
    taken = action[..., None] == jnp.arange(log_probs.shape[-1], dtype=action.dtype)
    log_prob = jnp.sum(jnp.where(taken, log_probs, 0.0), axis=-1)
    entropy = -jnp.sum(jnp.exp(log_probs) * log_probs, axis=-1)
    return log_prob, entropy, value

  return evaluate


def _masked_mean(x: jax.Array, mask: jax.Array | None) -> jax.Array:
  if mask is None:
    return x.mean()
  return jnp.sum(x * mask) / jnp.maximum(jnp.sum(mask), 1.0)


def ppo_loss(
  params, evaluate_fn: Callable, batch: Batch, hp: PPOHyperparams
) -> tuple[jax.Array, dict[str, jax.Array]]:
  """Clipped PPO loss of one minibatch; returns (loss, diagnostics).

  `evaluate_fn(params, obs, action) -> (log_prob, entropy, value[B])` scores the
  batch's actions under the current policy. Log-probs and entropies are [B] for
  one categorical action per sample, or [B, K] for K sub-actions (the tokens of a
  response) with `batch.mask` [B, K] marking the real ones; then the ratio is
  taken per token, every token of a sample shares its advantage, and policy
  terms are averaged over real tokens (token-level PPO, as in LLM RL).
  """
  log_prob, entropy, value = evaluate_fn(params, batch.obs, batch.action)
  mask = batch.mask

  adv = batch.advantage
  adv = (adv - adv.mean()) / (adv.std() + 1e-8)
  if log_prob.ndim == 2:
    adv = adv[:, None]
  log_ratio = log_prob - batch.log_prob
  ratio = jnp.exp(log_ratio)
  clipped = jnp.clip(ratio, 1.0 - hp.clip_eps, 1.0 + hp.clip_eps)
  pg_loss = -_masked_mean(jnp.minimum(ratio * adv, clipped * adv), mask)

  v_clipped = batch.value + jnp.clip(value - batch.value, -hp.clip_eps, hp.clip_eps)
  v_loss = 0.5 * jnp.maximum((value - batch.target) ** 2, (v_clipped - batch.target) ** 2).mean()
  entropy = _masked_mean(entropy, mask)

  loss = pg_loss + hp.vf_coef * v_loss - hp.ent_coef * entropy
  aux = {
    "pg_loss": pg_loss,
    "value_loss": v_loss,
    "entropy": entropy,
    # Low-variance KL estimator (Schulman 2020): E[(rho - 1) - log rho].
    "approx_kl": _masked_mean((ratio - 1.0) - log_ratio, mask),
    "clip_frac": _masked_mean((jnp.abs(ratio - 1.0) > hp.clip_eps).astype(jnp.float32), mask),
  }
  return loss, aux


def make_update_fn(
  evaluate_fn: Callable,
  optimizer: optax.GradientTransformation,
  update_epochs: int,
  num_minibatches: int,
) -> Callable[[PPOState, Batch, jax.Array, jax.Array], tuple[PPOState, dict]]:
  """Builds `update(state, batch, key, lr_scale) -> (state, metrics)`.

  Args:
    evaluate_fn: `(params, obs, action) -> (log_prob, entropy, value)`; see
      `ppo_loss` and `categorical_evaluate`.
    optimizer: from `make_optimizer` (its hyperparameters are injected).
    update_epochs: passes over the batch.
    num_minibatches: minibatches per pass; must divide the batch size.

  The learning rate used is `state.hparams.learning_rate * lr_scale`, so an
  optax schedule can anneal it without recompiling per sweep point. All epochs'
  shuffled minibatches are gathered up front (`update_epochs` copies of the batch).
  """
  grad_fn = jax.value_and_grad(ppo_loss, has_aux=True)

  def update(state: PPOState, batch: Batch, key: jax.Array, lr_scale: jax.Array):
    batch_size = batch.action.shape[0]
    if batch_size % num_minibatches:
      raise ValueError(f"num_minibatches={num_minibatches} must divide the batch size {batch_size}")
    hp = state.hparams
    opt_state = state.opt_state
    opt_state.hyperparams["learning_rate"] = hp.learning_rate * lr_scale
    opt_state.hyperparams["max_grad_norm"] = hp.max_grad_norm

    def minibatch_step(carry, mb):
      params, opt_state = carry
      (loss, aux), grads = grad_fn(params, evaluate_fn, mb, hp)
      updates, opt_state = optimizer.update(grads, opt_state, params)
      params = optax.apply_updates(params, updates)
      aux = dict(aux, loss=loss, grad_norm=optax.tree.norm(grads))
      return (params, opt_state), aux

    # One independent shuffle per epoch; all epochs' minibatches are gathered at
    # once and run as one flat scan of update_epochs * num_minibatches SGD steps
    # (the same steps in the same order as nested epoch / minibatch loops).
    keys = jax.random.split(key, update_epochs)
    perms = jax.vmap(lambda k: jax.random.permutation(k, batch_size))(keys)
    idx = perms.reshape(update_epochs * num_minibatches, batch_size // num_minibatches)
    minibatches = jax.tree.map(lambda x: jnp.take(x, idx, axis=0), batch)
    (params, opt_state), aux = jax.lax.scan(minibatch_step, (state.params, opt_state), minibatches)
    metrics = jax.tree.map(jnp.mean, aux)
    metrics["learning_rate"] = hp.learning_rate * lr_scale
    return state.replace(params=params, opt_state=opt_state), metrics

  return update
