"""The reference policies of the scoreboard, as replies functions.

A policy given as *replies* is a function `replies(split_name, indices, persona) ->
int32[n, R]` of token ids (response tokens `vocab.RESPONSE_OFFSET + a`, EOT, then PAD);
`persona` is the evaluation persona the suite writes into that view's context (None for
most), which only context-reading replies (the prior) use:

  fixed_reply_fn   one context-free reply for every scenario
  random_reply_fn  uniform valid replies, one fixed draw per (split, scenario index)
  prior_reply_fn   one sampled reply of the scripted prior per scenario
  oracle_reply_fn  per scenario, the greedy + local-search maximiser of the scenario's
                   own grade (reads latents: a reference, not a policy)

`reference.grade_replies_on_suite` scores them as a trained policy is scored.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from alignment_rl.envs.conversations import prior
from alignment_rl.evals import reference_search as rs
from alignment_rl.evals.reference_targets import scenario_view
from alignment_rl.language import schema
from alignment_rl.language.tokens import reply_tokens
from alignment_rl.registry import GRADERS


def fixed_reply_fn(reply: np.ndarray):
  """Replies function of one context-free reply int32[R]."""
  reply = np.asarray(reply, np.int32)
  return lambda split_name, idx, persona=None: np.tile(reply, (len(idx), 1))


def _bucketed(fn, n: int, *args):
  """`fn(*args)` with every leaf's leading axis padded (wrapping) to a power of two >= 64,
  so that few shapes are compiled; outputs cut back to `n` (>= 1) rows."""
  idx = np.arange(max(64, 1 << (n - 1).bit_length())) % n
  out = fn(*jax.tree.map(lambda x: jnp.asarray(np.asarray(x)[idx]), args))
  return jax.tree.map(lambda y: np.asarray(y)[:n], out)


def _keys(key, split_name, idx):
  key = jax.random.fold_in(key, schema.SPLITS.index(split_name))
  return np.asarray(jax.vmap(lambda i: jax.random.fold_in(key, i))(jnp.asarray(idx, jnp.int32)))


@functools.partial(jax.jit, static_argnums=0)
def _random_tokens(response_len, keys):
  return jax.vmap(lambda k: rs.random_replies(k, 1, response_len)[0])(keys)


def random_reply_fn(key: jax.Array, response_len: int = prior.DEFAULT_RESPONSE_LEN):
  """Replies function of uniform random replies (`reference_search.random_replies`), one
  fixed draw per (split, scenario index)."""

  def replies(split_name, idx, persona=None):
    fn = functools.partial(_random_tokens, response_len)
    return _bucketed(fn, len(idx), _keys(key, split_name, idx))

  return replies


@functools.partial(jax.jit, static_argnums=0)
def _prior_tokens(response_len, keys, scenarios):
  actions = jax.vmap(lambda k, s: prior.prior_response(k, s, response_len))(keys, scenarios)
  return reply_tokens(actions)


def _prior(key, split_name, idx, sub, response_len):
  fn = functools.partial(_prior_tokens, response_len)
  return _bucketed(fn, len(idx), _keys(key, split_name, idx), sub)


def prior_reply_fn(splits: dict, key: jax.Array, response_len: int = prior.DEFAULT_RESPONSE_LEN):
  """Replies function of the scripted prior (`prior.prior_response`): one sampled reply
  per scenario, keyed by (split, scenario index), the view's persona in its context."""

  def replies(split_name, idx, persona=None):
    sub = scenario_view(splits[split_name], idx, persona)
    return _prior(key, split_name, idx, sub, response_len)

  return replies


def oracle_reply_fn(
  splits: dict,
  response_len: int = prior.DEFAULT_RESPONSE_LEN,
  rounds=8,
  prior_starts=2,
  grader: str = "rubric",
):
  """Replies function of the oracle: per scenario, the maximiser of its own `grader`
  grade (default: its `rubric`, the scripted correct behaviour) found by
  `reference_search.oracle_replies` from the empty reply (greedy, then local search)
  and from `prior_starts` sampled prior replies (local search), so that multi-token
  behaviours the prior writes (a detailed format) are reachable. Every scenario is
  searched once (the graders read no context: one reply serves every view)."""
  done, cache = {}, {}

  def replies(split_name, idx, persona=None):
    data, idx = splits[split_name], np.asarray(idx, np.int64)
    n = len(data["context"])
    done.setdefault(split_name, np.zeros(n, bool))
    cache.setdefault(split_name, np.zeros((n, response_len), np.int32))
    todo = np.unique(idx[~done[split_name][idx]])
    if len(todo):
      sub = scenario_view(data, todo)
      keys = [jax.random.PRNGKey(1 + k) for k in range(prior_starts)]
      starts = [_prior(k, split_name, todo, sub, response_len) for k in keys]
      starts = np.stack(starts, 1) if starts else None
      value_fn = GRADERS.get(grader)
      found, _ = rs.oracle_replies(value_fn, sub, response_len, rounds, starts=starts)
      cache[split_name][todo], done[split_name][todo] = found, True
    return cache[split_name][idx]

  return replies
