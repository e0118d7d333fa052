"""Reply search for the scoreboard's reference rows: fixed, random and oracle replies.

A *reply* is `int32[R]` token ids, as a policy writes them: `L <= R - 1` response
tokens `vocab.RESPONSE_OFFSET + a` with actions `a` in [1, NUM_ACTIONS) (never EOT),
then EOT, then PAD. Internally a search state is `int32[R - 1]` actions, the first `L`
non-zero and zeros after (`to_reply` turns it into a reply).

Moves from a state of length L (`moves`, a fixed set of `num_moves(R)` candidates, with
a validity mask so that the set has a static shape):

  replace  position i < L by another action      (R-1) * (NUM_ACTIONS-1) slots
  delete   position i < L                        R-1 slots
  insert   an action at position j <= L, if L < R-1 (R-1) * (NUM_ACTIONS-1) slots

The greedy phase uses only the inserts at j = L (appending). Each step takes the best
move (`select`: the highest value, within TOL, then fewer tokens, then the
lexicographically lowest actions) if it gains more than TOL, or if it is shorter and
loses at most TOL (`accept`), so equal-valued replies resolve to the shortest.

`fixed_reply_search` runs on the host (one batched objective call per step, a cache of
scored replies); `reference_replies.oracle_replies` runs the same greedy + local search
per scenario (host-side steps over the valid moves of every scenario still searching,
`np_moves`, scored in fixed-shape jitted calls). Objectives of fixed replies come
from a `reference_targets.Pack` of `Target`s: graders on fixed scenarios reduced like
evaluations.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from alignment_rl.language import vocab

NUM_CHOICES = vocab.NUM_ACTIONS - 1  # actions a reply may contain (all but EOT)
TOL = 1e-6  # a move must improve the value by more than this


def to_reply(actions: jax.Array) -> jax.Array:
  """Search state int32[..., R-1] (actions, 0 after the length) -> reply int32[..., R]."""
  actions = jnp.asarray(actions, jnp.int32)
  length = jnp.sum(actions > 0, axis=-1, keepdims=True)
  padded = jnp.concatenate([actions, jnp.zeros_like(actions[..., :1])], axis=-1)
  pos = jnp.arange(padded.shape[-1])
  tokens = jnp.where(pos < length, padded + vocab.RESPONSE_OFFSET, vocab.PAD)
  return jnp.where(pos == length, vocab.EOT, tokens).astype(jnp.int32)


def num_moves(response_len: int) -> int:
  return (response_len - 1) * (2 * NUM_CHOICES + 1)


def moves(actions: jax.Array, greedy=False):
  """All `num_moves(R)` candidate moves from one state (see the module docstring).

  Args:
    actions: int32[R-1] search state.
    greedy: bool (may be traced): only the appends (inserts at j = L) are valid.

  Returns:
    (candidates int32[C, R-1], valid bool[C]): replaces, deletes, then inserts.
  """
  actions, greedy = jnp.asarray(actions, jnp.int32), jnp.asarray(greedy, bool)
  n, length = actions.shape[0], jnp.sum(actions > 0)
  choice, pos = jnp.arange(1, NUM_CHOICES + 1, dtype=jnp.int32), jnp.arange(n)

  def insert(j, b):
    return jnp.where(pos == j, b, actions[jnp.clip(pos - (pos > j), 0, n - 1)])

  rep = jax.vmap(lambda i: jax.vmap(lambda b: actions.at[i].set(b))(choice))(pos)
  rep_ok = (pos[:, None] < length) & (choice[None, :] != actions[:, None]) & ~greedy
  shift = jax.vmap(lambda i: actions[jnp.clip(pos + (pos >= i), 0, n - 1)])(pos)
  dele = jnp.where(pos < n - 1, shift, 0)
  ins = jax.vmap(lambda j: jax.vmap(lambda b: insert(j, b))(choice))(pos)
  ins_ok = (pos <= length) & (length < n) & (~greedy | (pos == length))
  cands = jnp.concatenate([rep.reshape(-1, n), dele, ins.reshape(-1, n)])
  ins_ok = jnp.repeat(ins_ok, NUM_CHOICES)
  return cands, jnp.concatenate([rep_ok.reshape(-1), (pos < length) & ~greedy, ins_ok])


def select(values, cands, valid, xp=jnp):
  """Index of the best valid candidate: highest value (within TOL), then fewer tokens,
  then lexicographically lowest actions. Works with `xp` = jnp (traced) or numpy.

  Args:
    values: float[C]; cands: int[C, R-1]; valid: bool[C] (at least one True).
  """
  values = xp.where(valid, values, -xp.inf)
  keep = valid & (values >= xp.max(values) - TOL)
  length = xp.sum(cands > 0, axis=-1)
  big = xp.iinfo(np.int32).max
  keep = keep & (length == xp.min(xp.where(keep, length, big)))
  for i in range(cands.shape[-1]):
    keep = keep & (cands[:, i] == xp.min(xp.where(keep, cands[:, i], big)))
  return xp.argmax(keep)


def accept(best_value, best_len, value, length):
  """Whether a step takes the selected move (see the module docstring)."""
  return (best_value > value + TOL) | ((best_len < length) & (best_value >= value - TOL))


class SearchResult(NamedTuple):
  """reply: int32[R] best reply; value: its objective; evaluations: replies scored;
  greedy_value: the value after the greedy phase."""

  reply: np.ndarray
  value: float
  evaluations: int
  greedy_value: float


def batch_objective(fn: Callable[[jax.Array], jax.Array]) -> Callable:
  """Per-reply objective `int32[R] -> float[]` -> jitted batched `int32[M, R] -> float[M]`."""
  return jax.jit(jax.vmap(fn))


def fixed_reply_search(
  objective: Callable[[np.ndarray], np.ndarray],
  response_len: int = 8,
  budget: int = 4000,
  starts: tuple = (),
) -> SearchResult:
  """The best context-free reply: greedy construction, then local search.

  Greedy: from the empty reply, append the action that most increases the objective,
  up to R-1 tokens; where no single append gains, the best gaining *pair* of appended
  actions (NUM_CHOICES^2 candidates) is taken instead, so that plateaus where only two
  tokens together help do not stop it; it stops when neither gains. Local search: the
  best single replace / delete / insert move (`moves`) while `accept` takes it, from the
  greedy reply and from each of `starts`; the best result wins (ties: `select`).
  Deterministic.

  Args:
    objective: batched `int32[M, R] replies -> float[M]` (higher is better); all the
      moves of a step are scored in one call.
    response_len: R.
    budget: most distinct replies scored by moves (a step whose new replies would
      exceed it is not taken); the starts themselves are always scored.
    starts: replies int32[R] to run the local search from as well.

  Returns:
    A `SearchResult` (`greedy_value`: the value of the greedy reply).
  """
  cache: dict[bytes, float] = {}

  def score(states: np.ndarray) -> np.ndarray:
    new = [s for s in dict.fromkeys(s.tobytes() for s in states) if s not in cache]
    if new:
      batch = np.stack([np.frombuffer(s, np.int32) for s in new])
      values = np.asarray(objective(np_to_reply(batch)), np.float64)
      cache.update(zip(new, values.tolist(), strict=True))
    return np.array([cache[s.tobytes()] for s in states])

  def step(state, value, cands):
    if not len(cands) or len(cache | dict.fromkeys(c.tobytes() for c in cands)) > budget:
      return None
    values = score(cands)
    best = int(select(values, cands, np.ones(len(cands), bool), xp=np))
    taken = accept(values[best], np.sum(cands[best] > 0), value, np.sum(state > 0))
    return (cands[best], values[best]) if taken else None

  def valid_moves(state, greedy):
    cands, valid = np_moves(state[None], np.array([greedy]))
    return cands[0][valid[0]].astype(np.int32)

  state = np.zeros(response_len - 1, np.int32)
  value = float(score(state[None])[0])
  while (moved := step(state, value, valid_moves(state, True))) or (
    moved := step(state, value, _pair_appends(state))
  ):
    state, value = moved
  results, greedy_value = [], value
  for start in (state, *(np_state_of(r) for r in starts)):
    state, value = start, float(score(start[None])[0])
    while moved := step(state, value, valid_moves(state, False)):
      state, value = moved
    results.append((state, value))
  cands, values = np.stack([r[0] for r in results]), np.array([r[1] for r in results])
  state, value = results[int(select(values, cands, np.ones(len(cands), bool), xp=np))]
  return SearchResult(np_to_reply(state), float(value), len(cache), float(greedy_value))


def _pair_appends(state: np.ndarray) -> np.ndarray:
  """int32[NUM_CHOICES^2, R-1]: `state` with every ordered pair of actions appended."""
  length = int(np.sum(state > 0))
  if length + 2 > len(state):
    return np.zeros((0, len(state)), np.int32)
  cands = np.tile(state, (NUM_CHOICES**2, 1))
  pairs = np.stack(np.meshgrid(*[np.arange(1, NUM_CHOICES + 1)] * 2, indexing="ij"), -1)
  cands[:, length : length + 2] = pairs.reshape(-1, 2)
  return cands


def state_of(reply, xp=jnp) -> jax.Array:
  """Replies int32[..., R] -> search states int32[..., R-1] (inverse of `to_reply`)."""
  reply = xp.asarray(reply, xp.int32)
  acts = xp.where(xp.cumsum(reply == vocab.EOT, -1) == 0, reply - vocab.RESPONSE_OFFSET, 0)
  acts = acts[..., :-1]
  return xp.where((acts > 0) & (acts < vocab.NUM_ACTIONS), acts, 0).astype(xp.int32)


def np_state_of(reply) -> np.ndarray:
  return state_of(reply, np)


def random_replies(key: jax.Array, n: int, response_len: int = 8) -> jax.Array:
  """Uniform valid replies int32[n, R]: length uniform in [1, R-1], tokens uniform over
  the NUM_CHOICES non-EOT actions, then EOT, then PAD."""
  k_len, k_tok = jax.random.split(key)
  length = jax.random.randint(k_len, (n, 1), 1, response_len)
  acts = jax.random.randint(k_tok, (n, response_len - 1), 1, NUM_CHOICES + 1)
  return to_reply(jnp.where(jnp.arange(response_len - 1) < length, acts, 0))


def np_to_reply(actions: np.ndarray) -> np.ndarray:
  """`to_reply` in numpy (the same integers, no compiled program per shape)."""
  actions = np.asarray(actions, np.int32)
  length = np.sum(actions > 0, axis=-1, keepdims=True)
  padded = np.concatenate([actions, np.zeros_like(actions[..., :1])], axis=-1)
  pos = np.arange(padded.shape[-1])
  tokens = np.where(pos < length, padded + vocab.RESPONSE_OFFSET, vocab.PAD)
  return np.where(pos == length, vocab.EOT, tokens).astype(np.int32)


def np_moves(states: np.ndarray, greedy: np.ndarray):
  """`moves` of A states at once in numpy: (int8[A, C, R-1] candidates, bool[A, C] valid),
  in the order of `moves`."""
  a, n = states.shape
  s, g = states.astype(np.int8), np.asarray(greedy, bool)[:, None, None]
  length = np.sum(s > 0, axis=1)[:, None, None]
  pos, choice = np.arange(n), np.arange(1, NUM_CHOICES + 1, dtype=np.int8)
  at = pos[:, None, None] == pos[None, None, :]  # [i, 1, p]
  rep = np.where(at, choice[None, :, None], s[:, None, None, :])  # [A, i, b, p]
  rep_ok = (pos[:, None] < length) & (choice != s[:, :, None]) & ~g
  dele = s[:, np.clip(pos[None, :] + (pos[None, :] >= pos[:, None]), 0, n - 1)]
  dele = np.where(pos < n - 1, dele, 0)
  base = s[:, np.clip(pos[None, :] - (pos[None, :] > pos[:, None]), 0, n - 1)]  # [A, j, p]
  ins = np.where(at, choice[None, :, None], base[:, :, None, :])  # [A, j, b, p]
  ins_ok = (pos <= length[:, 0]) & (length[:, 0] < n) & (~g[:, 0] | (pos == length[:, 0]))
  cands = np.concatenate([rep.reshape(a, -1, n), dele, ins.reshape(a, -1, n)], axis=1)
  ok = [rep_ok.reshape(a, -1), (pos < length[:, 0]) & ~g[:, 0], np.repeat(ins_ok, NUM_CHOICES, 1)]
  return cands, np.concatenate(ok, axis=1)


def oracle_replies(*args, **kwargs):
  """Per-scenario best replies: `reference_replies.oracle_replies` (same arguments)."""
  from alignment_rl.evals import reference_replies  # (it imports this module)

  return reference_replies.oracle_replies(*args, **kwargs)
