"""Proximal Policy Optimization (Schulman et al. 2017, arXiv:1707.06347): the update step.

Pure functions: `make_update_fn` builds `update(state, batch) -> (state, metrics)`:
`update_epochs` passes of shuffled minibatch SGD over one rollout batch, each step
descending the loss of `ppo_loss` (the clipped PPO loss, plus the persistence
objectives a run lists). Every hyperparameter that a sweep may change lives in
`PPOHyperparams`, an array-valued leaf of the state, so changing it never recompiles;
the persistence objectives' coefficients live in `PPOState.persist`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import optax
from flax import struct

from alignment_rl.agents import persistence
from alignment_rl.agents.ppo_loss import (
  Batch,
  PersistenceCoefs,
  PersistenceState,
  PPOHyperparams,
  make_log_prob_entropy_value,
  persistence_loss,
  ppo_loss,
  ppo_loss_terms,
)

__all__ = [
  "Batch",
  "PPOHyperparams",
  "PPOState",
  "PersistenceCoefs",
  "PersistenceState",
  "make_log_prob_entropy_value",
  "make_optimizer",
  "make_update_fn",
  "persistence_loss",
  "ppo_loss",
  "ppo_loss_terms",
]


@struct.dataclass
class PPOState:
  """The learner's state: parameters, optimizer state, swept hyperparameters and, when
  the run lists persistence objectives, what they need (`PersistenceState`)."""

  params: Any
  opt_state: optax.OptState
  hparams: PPOHyperparams
  persist: PersistenceState | None = None  # Only when the run lists objectives.


def make_optimizer() -> optax.GradientTransformation:
  """Adam (eps 1e-5) after global-norm clipping; both knobs are state leaves."""

  def build(learning_rate, max_grad_norm):
    return optax.chain(
      optax.clip_by_global_norm(max_grad_norm),
      optax.adam(learning_rate, eps=1e-5),
    )

  return optax.inject_hyperparams(build)(learning_rate=1e-3, max_grad_norm=1.0)


def make_update_fn(
  log_prob_entropy_value_fn: Callable,
  optimizer: optax.GradientTransformation,
  update_epochs: int,
  num_minibatches: int,
  objectives: tuple[str, ...] = (),
  obs_counterfactual: Callable | None = None,
  tamper_steps: int = 1,
) -> Callable[[PPOState, Batch, jax.Array, jax.Array], tuple[PPOState, dict]]:
  """Builds `update(state, batch, key, lr_scale) -> (state, metrics)`.

  Args:
    log_prob_entropy_value_fn: `(params, obs, action) -> (log_prob, entropy, value)`; see
      `ppo_loss` and `make_log_prob_entropy_value`.
    optimizer: from `make_optimizer` (its hyperparameters are injected).
    update_epochs: passes over the batch.
    num_minibatches: minibatches per pass; must divide the batch size.
    objectives: persistence objectives (`persistence.OBJECTIVES`); they need
      `state.persist`. Static: a different list compiles a different program.
    obs_counterfactual: for `oversight_consistency`, the environment's cue removal.
    tamper_steps: inner steps of the `tamper` objective's simulated attack.

  The learning rate used is `state.hparams.learning_rate * lr_scale`, so an
  optax schedule can anneal it without recompiling per sweep point. All epochs'
  shuffled minibatches are gathered up front (`update_epochs` copies of the batch).
  With `tamper`, each step's gradient is g(theta) + gamma g_pi(theta'), where
  theta' = `persistence.simulated_attack` of theta on the minibatch's policy loss
  and g_pi is the policy-loss gradient (first-order meta-gradient).
  """
  objectives = persistence.check_objectives(objectives)
  if "oversight_consistency" in objectives and obs_counterfactual is None:
    raise ValueError("ppo.objectives: 'oversight_consistency' needs an env with oversight cues")
  grad_fn = jax.value_and_grad(persistence_loss, has_aux=True)

  def pg_loss_fn(params, mb, hp):
    return ppo_loss(params, log_prob_entropy_value_fn, mb, hp)[1]["pg_loss"]

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
      (loss, aux), grads = grad_fn(
        params, log_prob_entropy_value_fn, mb, hp, state.persist, objectives, obs_counterfactual
      )
      if "tamper" in objectives:
        coefs = state.persist.coefs
        attacked = persistence.simulated_attack(
          lambda p: pg_loss_fn(p, mb, hp), params, tamper_steps, coefs.tamper_lr
        )
        after, outer = jax.value_and_grad(pg_loss_fn)(attacked, mb, hp)
        grads = jax.tree.map(lambda g, o: g + coefs.tamper_coef * o, grads, outer)
        aux["pg_loss_after_attack"] = after
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
