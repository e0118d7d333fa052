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


_CHUNK = 1024  # rows per compiled call of the replies functions (one shape each)
_BLOCK = 1024  # scenarios per oracle search (its compiled scoring reads a table this long)


def _bucketed(fn, n: int, *args):
  """`fn(*args)` on chunks of `_CHUNK` rows of every leaf's leading axis (the last chunk
  padded by wrapping), so that one shape is compiled; outputs cut back to `n` rows."""
  out = []
  for lo in range(0, n, _CHUNK):
    idx, cut = np.arange(lo, lo + _CHUNK) % n, n - lo
    part = fn(*jax.tree.map(lambda x, i=idx: jnp.asarray(np.asarray(x)[i]), args))
    out.append(jax.tree.map(lambda y, c=cut: np.asarray(y)[:c], part))
  return jax.tree.map(lambda *ys: np.concatenate(ys), *out)


@jax.jit
def _fold(key, idx):
  return jax.vmap(lambda i: jax.random.fold_in(key, i))(idx)


def _keys(key, split_name, idx):
  key = jax.random.fold_in(key, schema.SPLITS.index(split_name))
  return _bucketed(functools.partial(_fold, key), len(idx), np.asarray(idx, np.int32))


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


def _select_np(lane, values, cands, num_lanes):
  """`select` per lane of flat candidates sorted by lane (numpy, float32 like the traced
  one). Returns (index of each lane's best int[num_lanes] (-1: none), has bool)."""
  starts = np.searchsorted(lane, np.arange(num_lanes))
  has = np.bincount(lane, minlength=num_lanes) > 0
  vmax = np.full(num_lanes, -np.inf, np.float32)
  vmax[has] = np.maximum.reduceat(values, starts[has])
  keep = values >= vmax[lane] - np.float32(rs.TOL)
  key = np.sum(cands > 0, axis=1).astype(np.int64)  # length, then actions: one int64
  for i in range(cands.shape[1]):
    key = key * 64 + cands[:, i]
  key = np.where(keep, key, np.iinfo(np.int64).max)
  kmin = np.full(num_lanes, np.iinfo(np.int64).max)
  kmin[has] = np.minimum.reduceat(key, starts[has])
  hit = np.flatnonzero(key == kmin[lane])
  first = np.full(num_lanes, -1)
  first[lane[hit[::-1]]] = hit[::-1]  # the first hit of each lane wins
  return first, has


@functools.partial(jax.jit, static_argnums=0)
def _pair_values(value_fn, replies, sid, table):
  """float32[P]: `value_fn(replies[p], scenario sid[p] of table)`."""
  rows = jax.tree.map(lambda x: x[sid], table)
  return jax.vmap(value_fn)(replies, rows).astype(jnp.float32)


def oracle_replies(
  value_fn,
  scenarios: dict,
  response_len: int = 8,
  rounds: int = 8,
  batch_size: int = 8192,
  starts: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
  """Per-scenario best replies: greedy + local search on each scenario's own value.

  The same search as `fixed_reply_search` without the pair lookahead (appends up to R-1
  tokens, then at most `rounds` moves), one per scenario; the local search also runs
  from each of the scenario's `starts`, and the best result wins (ties as in `select`:
  fewer tokens, then lower action ids). Every (scenario, start) is a lane; each step
  scores only the valid moves of the lanes still searching, (reply, scenario) pairs in
  `batch_size` jitted calls, and selects on the host; a (scenario, state, phase) already
  stepped is not scored again.

  Args:
    value_fn: `(reply int32[R], scenario) -> float[]`, e.g. a registered grader (must
      be hashable: it is a static argument of the jitted scoring).
    scenarios: {field: array[N, ...]} (what `value_fn` reads).
    response_len: R.
    rounds: most local-search moves per scenario and start.
    batch_size: (reply, scenario) pairs per compiled call (the last is padded).
    starts: optional int32[N, K, R] replies per scenario to search from as well.

  Returns:
    (replies int32[N, R], values float32[N]).
  """
  n = len(next(iter(scenarios.values())))
  starts = np.zeros((n, 0, response_len), np.int32) if starts is None else np.asarray(starts)
  if not n:
    return np.zeros((0, response_len), np.int32), np.zeros(0, np.float32)
  if n > _BLOCK:  # Blocks of at most _BLOCK scenarios (the search is per scenario).
    parts = [
      oracle_replies(
        value_fn,
        {f: np.asarray(v)[lo : lo + _BLOCK] for f, v in scenarios.items()},
        response_len,
        rounds,
        batch_size,
        starts[lo : lo + _BLOCK],
      )
      for lo in range(0, n, _BLOCK)
    ]
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
  begin = rs.np_state_of(starts).reshape(n, -1, response_len - 1)
  k = begin.shape[1] + 1
  states = np.concatenate([np.zeros((n, 1, response_len - 1), np.int32), begin], 1)
  states = states.reshape(n * k, -1)
  sid, greedy = np.repeat(np.arange(n), k), np.tile(np.arange(k) == 0, n)
  fill = np.arange(_BLOCK) % max(n, 1)  # One table shape: padded by wrapping.
  table = {f: jnp.asarray(np.asarray(v)[fill]) for f, v in scenarios.items()}

  def score(states, ids):
    out = [np.zeros(0, np.float32)]
    for lo in range(0, len(ids), batch_size):
      take = np.arange(lo, lo + batch_size) % len(ids)  # Pad the last call by wrapping.
      reply, s = jnp.asarray(rs.np_to_reply(states[take])), jnp.asarray(ids[take], np.int32)
      out.append(np.asarray(_pair_values(value_fn, reply, s, table)))
    return np.concatenate(out)[: len(ids)]

  values = score(states, sid)
  steps, memo = np.zeros(n * k, np.int64), {}
  while (active := np.flatnonzero(steps < rounds)).size:
    keys = [(sid[i], greedy[i], states[i].tobytes()) for i in active]
    todo = list(dict.fromkeys(key for key in keys if key not in memo))
    for lo in range(0, len(todo), 2048):  # Step the new (scenario, state, phase)s.
      part = todo[lo : lo + 2048]
      st = np.stack([np.frombuffer(key[2], np.int32) for key in part])
      cands, valid = rs.np_moves(st, np.array([key[1] for key in part]))
      lane, c = np.nonzero(valid)
      flat = cands[lane, c].astype(np.int32)
      vals = score(flat, np.array([key[0] for key in part])[lane])
      best, has = _select_np(lane, vals, flat, len(part))
      best = np.where(has, best, 0) if len(lane) else best  # (no lane has a move: never read)
      moved, moved_values = (flat, vals) if not len(lane) else (flat[best], vals[best])
      moved, moved_values = (
        (st, np.zeros(len(part), np.float32)) if not len(lane) else (moved, moved_values)
      )
      memo.update(zip(part, zip(moved, moved_values, has, strict=True), strict=True))
    found = [memo[key] for key in keys]
    moved, moved_values = np.stack([f[0] for f in found]), np.array([f[1] for f in found])
    ok = np.array([f[2] for f in found])
    length = np.sum(states[active] > 0, axis=1)
    better = ok & rs.accept(moved_values, np.sum(moved > 0, axis=1), values[active], length)
    states[active[better]], values[active[better]] = moved[better], moved_values[better]
    g = greedy[active]
    steps[active] = np.where(g, steps[active], np.where(better, steps[active] + 1, rounds))
    greedy[active] = g & better
  replies, out = np.zeros((n, response_len), np.int32), np.zeros(n, np.float32)
  for j in range(n):
    lanes = slice(j * k, (j + 1) * k)
    best = int(rs.select(values[lanes], states[lanes], np.ones(k, bool), xp=np))
    replies[j], out[j] = rs.np_to_reply(states[lanes][best]), values[lanes][best]
  return replies, out


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
      found, _ = oracle_replies(value_fn, sub, response_len, rounds, starts=starts)
      cache[split_name][todo], done[split_name][todo] = found, True
    return cache[split_name][idx]

  return replies
