"""The clipped PPO loss (Schulman et al. 2017, arXiv:1707.06347) of one minibatch.

Loss (to minimise), with ratio rho = pi(a|s) / pi_old(a|s) and advantages A
normalised per minibatch:

  L_pi  = -E[min(rho A, clip(rho, 1 - eps, 1 + eps) A)]
  L_v   = 0.5 E[max((V - R)^2, (V_old + clip(V - V_old, -eps, eps) - R)^2)]
  L     = L_pi + c_v L_v - c_ent E[H(pi(.|s))]

plus, when a run lists them in `objectives`, the persistence terms of
`agents.persistence` (KL anchor, L2-SP/EWC, oversight consistency; `tamper` acts on
gradients, in `ppo.make_update_fn`), weighted by `PersistenceCoefs`.

The data the loss reads: `Batch` (one rollout flattened to samples), `PPOHyperparams`
(the swept hyperparameters, array leaves so changing them never recompiles) and
`PersistenceState`. `ppo_loss_terms` checks its inputs with chex (shapes at trace
time; finiteness of the batch on concrete arrays, see `gae.assert_finite_if_concrete`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import chex
import jax
import jax.numpy as jnp
from flax import struct

from alignment_rl.agents import gae, persistence


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
class PersistenceCoefs:
  """Weights of the persistence objectives: float32 scalars (or [S]), swept freely."""

  kl_coef: jax.Array  # beta, KL(pi || pi_anchor).
  anchor_coef: jax.Array  # alpha, L2-SP / EWC.
  tamper_coef: jax.Array  # gamma, outer gradient after the simulated attack.
  tamper_lr: jax.Array  # Step size of the simulated attack.
  consistency_coef: jax.Array  # lambda, oversight-cue consistency.

  @classmethod
  def from_config(cls, cfg) -> PersistenceCoefs:
    return cls(**{f: jnp.float32(cfg[f]) for f in cls.__dataclass_fields__})


@struct.dataclass
class PersistenceState:
  """What the persistence objectives need besides the parameters."""

  coefs: PersistenceCoefs
  anchor: Any = None  # Frozen start parameters (the pre-RL prior when fine-tuning).
  fisher: Any = None  # Diagonal Fisher of the anchor (EWC), same tree as params.


def make_log_prob_entropy_value(apply_fn: Callable) -> Callable:
  """Adapts `apply_fn(params, obs) -> (logits[B, A], value[B])` to `log_prob_entropy_value_fn`.

  Returns `log_prob_entropy_value(params, obs, action[B]) -> (log_prob[B], entropy[B], value[B])`.
  """

  def log_prob_entropy_value(params, obs, action):
    logits, value = apply_fn(params, obs)
    log_probs = jax.nn.log_softmax(logits)
    # Select with a one-hot mask rather than a gather: the same value, but its
    # gradient is an element-wise select instead of a scatter-add.
    taken = action[..., None] == jnp.arange(log_probs.shape[-1], dtype=action.dtype)
    log_prob = jnp.sum(jnp.where(taken, log_probs, 0.0), axis=-1)
    entropy = -jnp.sum(jnp.exp(log_probs) * log_probs, axis=-1)
    return log_prob, entropy, value

  return log_prob_entropy_value


def _masked_mean(x: jax.Array, mask: jax.Array | None) -> jax.Array:
  if mask is None:
    return x.mean()
  return jnp.sum(x * mask) / jnp.maximum(jnp.sum(mask), 1.0)


def ppo_loss(
  params, log_prob_entropy_value_fn: Callable, batch: Batch, hp: PPOHyperparams
) -> tuple[jax.Array, dict[str, jax.Array]]:
  """Clipped PPO loss of one minibatch under `params`; see `ppo_loss_terms`."""
  log_prob, entropy, value = log_prob_entropy_value_fn(params, batch.obs, batch.action)
  return ppo_loss_terms(log_prob, entropy, value, batch, hp)


def ppo_loss_terms(
  log_prob: jax.Array, entropy: jax.Array, value: jax.Array, batch: Batch, hp: PPOHyperparams
) -> tuple[jax.Array, dict[str, jax.Array]]:
  """Clipped PPO loss of one minibatch; returns (loss, diagnostics).

  `log_prob, entropy, value` score the batch's actions under the current policy
  (`log_prob_entropy_value_fn(params, obs, action)`). Log-probs and entropies are [B] for
  one categorical action per sample, or [B, K] for K sub-actions (the tokens of a
  response) with `batch.mask` [B, K] marking the real ones; then the ratio is
  taken per token, every token of a sample shares its advantage, and policy
  terms are averaged over real tokens (token-level PPO, as in LLM RL).
  """
  chex.assert_rank(log_prob, {1, 2})
  chex.assert_equal_shape([log_prob, entropy, batch.log_prob])
  chex.assert_equal_shape([value, batch.value, batch.advantage, batch.target])
  chex.assert_equal_shape_prefix([log_prob, value], 1)
  if batch.mask is not None:
    chex.assert_equal_shape([log_prob, batch.mask])
  gae.assert_finite_if_concrete(batch.log_prob, batch.value, batch.advantage, batch.target)
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


def persistence_loss(
  params,
  log_prob_entropy_value_fn: Callable,
  batch: Batch,
  hp: PPOHyperparams,
  persist: PersistenceState | None,
  objectives: tuple[str, ...] = (),
  obs_counterfactual: Callable | None = None,
) -> tuple[jax.Array, dict[str, jax.Array]]:
  """PPO loss plus the loss-side persistence objectives listed in `objectives`.

  L = L_ppo + beta k2(pi, pi_anchor) + alpha/2 sum_i F_i (theta_i - theta_0,i)^2
        + lambda E[(log pi(a|s) - log pi(a|s'))^2]
  (k2: `persistence.kl_penalty`, whose gradient is that of KL(pi || pi_anchor)).
  (each term only when listed; `tamper` acts on gradients, in `ppo.make_update_fn`).
  `obs_counterfactual(obs) -> obs'` removes the oversight cue of a batch of contexts.
  """
  log_prob, entropy, value = log_prob_entropy_value_fn(params, batch.obs, batch.action)
  loss, aux = ppo_loss_terms(log_prob, entropy, value, batch, hp)
  if not objectives:
    return loss, aux
  coefs = persist.coefs
  if "kl_anchor" in objectives:
    anchor_lp = jax.lax.stop_gradient(
      log_prob_entropy_value_fn(persist.anchor, batch.obs, batch.action)[0]
    )
    loss = loss + coefs.kl_coef * persistence.kl_penalty(log_prob, anchor_lp, batch.mask)
    aux["kl_anchor"] = persistence.kl_to_anchor(log_prob, anchor_lp, batch.mask)
  if "weight_anchor" in objectives or "ewc" in objectives:
    fisher = persist.fisher if "ewc" in objectives else None
    penalty = persistence.weight_anchor_penalty(params, persist.anchor, fisher)
    loss = loss + coefs.anchor_coef * penalty
    aux["weight_anchor"] = penalty
  if "oversight_consistency" in objectives:
    cf_obs = obs_counterfactual(batch.obs)
    changed = jnp.any(cf_obs != batch.obs, axis=-1)
    cf_lp = log_prob_entropy_value_fn(params, cf_obs, batch.action)[0]
    gap = persistence.consistency_penalty(log_prob, cf_lp, changed, batch.mask)
    loss = loss + coefs.consistency_coef * gap
    aux["oversight_gap"] = gap
  return loss, aux
