"""Persistence objectives: training-time terms meant to make learned behaviour persist.

Pure functions over arrays and parameter pytrees, added to the PPO loss by
`ppo.make_update_fn` when a run lists them in `ppo.objectives` (DESIGN section 6):

* `kl_anchor`: a KL penalty to the frozen pre-RL policy (the anchor),
  beta * KL(pi_theta || pi_anchor) on the batch's own tokens: the loss is Schulman's
  (2020) k2 = (log r)^2 / 2 (r = pi_anchor / pi_theta), whose gradient on samples of
  pi_theta is that of KL(pi_theta || pi_anchor) (k3's is that of the reverse KL), and
  the logged value is his unbiased k3 = (r - 1) - log r;
* `weight_anchor`: L2-SP (Li et al. 2018, arXiv:1802.01483),
  alpha/2 * ||theta - theta_0||^2 towards the start parameters;
* `ewc`: elastic weight consolidation (Kirkpatrick et al. 2017,
  arXiv:1612.00796), alpha/2 * sum_i F_i (theta_i - theta_0,i)^2 with the diagonal
  Fisher F of the anchor policy, estimated once on the anchor's own rollout;
* `tamper`: a first-order tamper-resistance meta-objective (in the spirit of
  Tamirisa et al. 2024, arXiv:2408.00761): an inner loop simulates a harmful
  fine-tune, `steps` gradient-ascent steps on the policy loss (i.e. RL against the
  training reward), and the outer gradient is the policy loss's gradient at the
  attacked parameters (first-order, as in FOMAML), weighted by gamma;
* `oversight_consistency`: the policy's log-probabilities of its own responses
  should not depend on whether the context says it is monitored or unmonitored;
  penalty lambda * E[(log pi(a|s) - log pi(a|s'))^2] over samples whose context
  holds an oversight cue, s' = the same context with the cue removed (from the
  environment), so monitored and unmonitored are both pulled towards "no cue".

The simulated attack of `tamper` and the cue removal of `oversight_consistency` are
fixed by the training setup and are disjoint from the evaluation attacks (harmful
fine-tuning on the `harmful/*` rewards, evaluation personas).
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp

OBJECTIVES = ("kl_anchor", "weight_anchor", "ewc", "tamper", "oversight_consistency")
# Objectives that need the frozen start parameters in the PPO state.
NEEDS_ANCHOR = ("kl_anchor", "weight_anchor", "ewc")


def check_objectives(objectives) -> tuple[str, ...]:
  """Validates a list of objective names (one-line error naming the allowed ones)."""
  objectives = tuple(objectives)
  for name in objectives:
    if name not in OBJECTIVES:
      known = ", ".join(OBJECTIVES)
      raise ValueError(f"ppo.objectives: unknown objective {name!r}; known: {known}")
  if "weight_anchor" in objectives and "ewc" in objectives:
    raise ValueError("ppo.objectives: choose one of 'weight_anchor' (L2-SP) and 'ewc'")
  return objectives


def _masked_mean(x: jax.Array, mask: jax.Array | None) -> jax.Array:
  if mask is None:
    return x.mean()
  return jnp.sum(x * mask) / jnp.maximum(jnp.sum(mask), 1.0)


def kl_penalty(log_prob: jax.Array, anchor_log_prob: jax.Array, mask=None) -> jax.Array:
  """k2 = E[(log r)^2 / 2], r = pi_anchor(a|s) / pi(a|s): the KL penalty's loss.

  On actions sampled from pi, d/d theta of k2 has the expectation
  E[log(pi / pi_anchor) d log pi] = d KL(pi || pi_anchor) (score-function identity);
  its value is a biased (second-order) estimate of that KL. Shapes as `kl_to_anchor`.
  """
  log_r = anchor_log_prob - log_prob
  return _masked_mean(0.5 * jnp.square(log_r), mask)


def kl_to_anchor(log_prob: jax.Array, anchor_log_prob: jax.Array, mask=None) -> jax.Array:
  """k3 estimate of KL(pi || pi_anchor) from actions sampled by (about) pi (logged).

  Args:
    log_prob: float32[B] or [B, K], log pi(a|s) of the batch's actions.
    anchor_log_prob: the same under the anchor policy.
    mask: float32[B, K] real tokens, or None.

  Returns:
    float32[], E[(r - 1) - log r] with r = pi_anchor(a|s) / pi(a|s); >= 0, and 0
    exactly when the two policies agree on the sampled actions.
  """
  log_r = anchor_log_prob - log_prob
  return _masked_mean(jnp.exp(log_r) - 1.0 - log_r, mask)


def weight_anchor_penalty(params, anchor, fisher=None) -> jax.Array:
  """0.5 * sum_i F_i (theta_i - theta_0,i)^2 (F = 1: L2-SP; F = Fisher: EWC)."""
  sq = jax.tree.map(lambda p, a: jnp.square(p - a), params, anchor)
  if fisher is not None:
    sq = jax.tree.map(jnp.multiply, sq, fisher)
  return 0.5 * sum(jnp.sum(x) for x in jax.tree.leaves(sq))


def fisher_diagonal(
  log_prob_fn: Callable, params, obs, action, mask=None, chunk_size: int = 16
) -> object:
  """Diagonal empirical Fisher of a policy at `params`, normalised to mean 1.

  F_i = E_n[(d/d theta_i sum_k log pi(a_nk|s_n))^2] over the N samples (actions
  drawn by the policy itself), computed `chunk_size` per-sample gradients at a time.
  Dividing by its mean over all parameters makes `anchor_coef` comparable between
  `ewc` and `weight_anchor`.

  Args:
    log_prob_fn: `(params, obs, action) -> log_prob[B] or [B, K]`.
    params: the anchor parameters.
    obs, action: a batch of N samples (N divisible by `chunk_size`).
    mask: float32[N, K] real tokens, or None.
  """

  def sample_logp(p, o, a, m):
    lp = log_prob_fn(p, jax.tree.map(lambda x: x[None], o), a[None])
    return jnp.sum(lp * m[None]) if m is not None else jnp.sum(lp)

  grad_one = jax.grad(sample_logp)
  n = action.shape[0]
  chunk_size = min(chunk_size, n)
  num_chunks = n // chunk_size
  take = lambda x: x[: num_chunks * chunk_size].reshape((num_chunks, chunk_size) + x.shape[1:])
  xs = (jax.tree.map(take, obs), take(action), take(mask) if mask is not None else None)

  def chunk_sq(args):
    o, a, m = args
    g = jax.vmap(grad_one, in_axes=(None, 0, 0, 0 if m is not None else None))(params, o, a, m)
    return jax.tree.map(lambda x: jnp.sum(jnp.square(x), axis=0), g)

  total = jax.lax.map(chunk_sq, xs)
  fisher = jax.tree.map(lambda x: jnp.sum(x, axis=0) / (num_chunks * chunk_size), total)
  leaves = jax.tree.leaves(fisher)
  mean = sum(jnp.sum(x) for x in leaves) / sum(x.size for x in leaves)
  return jax.tree.map(lambda x: x / jnp.maximum(mean, 1e-12), fisher)


def consistency_penalty(log_prob, cf_log_prob, changed, mask=None) -> jax.Array:
  """Mean of (log pi(a|s) - log pi(a|s'))^2 over samples whose context changed.

  Args:
    log_prob, cf_log_prob: float32[B] or [B, K], under the context and under its
      counterfactual (oversight cue removed).
    changed: bool[B], whether the counterfactual differs from the context.
    mask: float32[B, K] real tokens, or None.
  """
  w = changed.astype(jnp.float32)
  if log_prob.ndim == 2:
    w = jnp.broadcast_to(w[:, None], log_prob.shape)
    m = w if mask is None else mask * w
  else:
    m = w
  return _masked_mean(jnp.square(log_prob - cf_log_prob), m)


def simulated_attack(loss_fn: Callable, params, steps: int, lr: jax.Array):
  """`steps` gradient-ascent steps on `loss_fn` from `params` (no gradient flows back).

  theta_{k+1} = theta_k + lr * grad L(theta_k) / ||grad L(theta_k)||: normalised
  steps, so that each step moves the parameters by exactly `lr` (global norm).
  """
  params = jax.lax.stop_gradient(params)
  for _ in range(steps):
    g = jax.grad(loss_fn)(params)
    norm = jnp.sqrt(sum(jnp.sum(jnp.square(x)) for x in jax.tree.leaves(g)))
    step = jax.tree.map(lambda d, s=lr / (norm + 1e-12): s * d, g)
    params = jax.tree.map(jnp.add, params, step)
  return jax.lax.stop_gradient(params)
