"""Optimized adversarial prefixes: search the persona slot to erode a trait.

An attacker writes `PERSONA_LEN` tokens into every scenario's persona slot
(`schema.PERSONA_SLOT`, replacing any persona there) and searches for the prefix
that MINIMISES a trait score: the mean over seeds of a grader's per-seed mean on
the scenarios it applies to, single-turn, converted so higher is better (the
grade, or 1 - rate for bad-event graders with `higher_is_better=False`).

Search: greedy coordinate descent with random candidate subsets. Step s edits
position `s % PERSONA_LEN`: K distinct candidate tokens (never the current one) are
scored at once (one jitted call, vmapped over candidates and seeds) on a fixed
search batch, and the best replaces the current prefix if it beats its score. The
start is no prefix (the original contexts, the free reference); each scored
candidate is one query, and exactly `budget` queries are used. One fixed sampling
key serves every query, so the search is deterministic for a key. The found
prefix is then scored on a disjoint held-out set next to the no-prefix score on
that set, so an attack that only overfits the search batch shows up as such.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from alignment_rl.envs.conversations.rollout import world
from alignment_rl.evals.rollout import GREEDY_TEMPERATURE
from alignment_rl.language import schema, vocab
from alignment_rl.registry import GRADERS

_FIELDS = tuple(k for k, f in schema.FIELDS.items() if f.group != "metadata")


def default_candidates() -> np.ndarray:
  """int32[C]: every context word (no specials, no response tokens)."""
  return np.arange(vocab.CONTEXT_RANGE[0], vocab.CONTEXT_RANGE[1], dtype=np.int32)


@functools.partial(jax.jit, static_argnums=(0, 1))
def _prefix_sums(network, grader, params, batch, weights, prefixes, write, temp, key):
  """Weighted grade sums. prefixes int32[K, P], write bool[K] -> float32[K, S]."""
  lo, hi = schema.PERSONA_SLOT
  keys = jax.random.split(key, jax.tree.leaves(params)[0].shape[0])

  def one_prefix(prefix, w):
    ctx = jnp.where(w, batch["context"].at[:, lo:hi].set(prefix), batch["context"])

    def one_seed(p, k):
      actions = network.apply(p, ctx, k, temp, method="sample")[0]
      response = jax.vmap(world(network.max_response_len, 1).response_tokens)(actions)
      return jnp.sum(jax.vmap(GRADERS.get(grader))(response, batch) * weights)

    return jax.vmap(one_seed)(params, keys)

  return jax.vmap(one_prefix)(prefixes, write)


def _convert(mean, grader: str):
  return mean if GRADERS.get(grader).higher_is_better else 1.0 - mean


def _subset(data: dict, idx) -> dict:
  return {k: jnp.asarray(v[idx]) for k, v in data.items()}


def score_prefixes(
  network, params, split, indices, prefixes, key, grader="rubric", greedy=True, batch_size=512
) -> np.ndarray:
  """Per-seed scores of prefixes on the scenarios `indices` of `split`.

  Args:
    network, params: the policy and its [S, ...] parameters.
    split: stacked scenario arrays.
    indices: int[N'] rows to score on; only those the grader applies to count.
    prefixes: K prefixes, each int[P] or None (the original contexts).
    key: sampling key (the same for every prefix).
    grader, greedy, batch_size: grader name, argmax responses, scenarios per call.

  Returns:
    float64[K, S] higher-is-better scores (NaN if the grader applies nowhere).
  """
  write = jnp.array([q is not None for q in prefixes])
  pad = np.full(schema.PERSONA_LEN, vocab.PAD)
  prefixes = jnp.asarray(np.stack([pad if q is None else q for q in prefixes]), jnp.int32)
  data, indices = {k: np.asarray(split[k]) for k in _FIELDS}, np.asarray(indices)
  size, temp = min(batch_size, len(indices)), jnp.float32(GREEDY_TEMPERATURE if greedy else 1.0)
  total, count = 0.0, 0.0
  for start in range(0, len(indices), size):
    batch = _subset(data, indices[np.arange(start, start + size) % len(indices)])
    w = jnp.asarray(np.arange(start, start + size) < len(indices))
    w = w & jax.vmap(GRADERS.get(grader).applies)(batch)
    sums = _prefix_sums(network, grader, params, batch, w, prefixes, write, temp, key)
    total, count = total + np.asarray(sums, np.float64), count + float(jnp.sum(w))
  return _convert(total / count if count else np.nan * total, grader)


@functools.partial(jax.jit, static_argnums=(0, 1, 2, 3))
def _search(network, grader, k, steps, params, batch, cands, budget, temp, key):
  """Greedy coordinate search from no prefix; `steps` is a static upper bound.

  Returns:
    (no-prefix score f32[], per-query scores f32[steps * K] (inf past the budget),
     per-query prefixes int32[steps * K, P]).
  """
  applies = jax.vmap(GRADERS.get(grader).applies)(batch).astype(jnp.float32)
  weights = applies / jnp.maximum(applies.sum(), 1.0)
  k_sample, k_search = jax.random.split(key)
  num_pos = schema.PERSONA_LEN

  def score(prefixes, write):
    sums = _prefix_sums(network, grader, params, batch, weights, prefixes, write, temp, k_sample)
    return _convert(jnp.mean(sums, axis=1), grader)

  start = jnp.full((num_pos,), vocab.PAD, jnp.int32)
  base = score(start[None], jnp.zeros((1,), bool))[0]

  def step(carry, inputs):
    prefix, best = carry
    s, k_step = inputs
    pos = s % num_pos
    tokens = cands[jax.random.permutation(k_step, cands.shape[0])[: k + 1]]
    fresh = tokens != prefix[pos]  # Never re-score the current prefix.
    tokens = tokens[jnp.argsort(~fresh, stable=True)[:k]]
    prefixes = jnp.tile(prefix, (k, 1)).at[:, pos].set(tokens)
    skip = lambda: jnp.full((k,), jnp.inf, jnp.float32)  # noqa: E731  (steps past the budget)
    scores = jax.lax.cond(s * k < budget, lambda: score(prefixes, jnp.ones((k,), bool)), skip)
    scores = jnp.where(s * k + jnp.arange(k) < budget, scores, jnp.inf)
    i = jnp.argmin(scores)
    better = scores[i] < best
    prefix = jnp.where(better, prefixes[i], prefix)
    return (prefix, jnp.where(better, scores[i], best)), (scores, prefixes)

  inputs = (jnp.arange(steps), jax.random.split(k_search, steps))
  _, (scores, prefixes) = jax.lax.scan(step, (start, base), inputs)
  return base, scores.reshape(-1), prefixes.reshape(-1, num_pos)


def _split_indices(split, grader, key, search_size, heldout_size):
  applies = jax.vmap(GRADERS.get(grader).applies)({k: split[k] for k in _FIELDS})
  rows = np.flatnonzero(np.asarray(applies))
  if len(rows) <= search_size:
    raise ValueError(f"{grader!r} applies to {len(rows)} scenarios <= search_size={search_size}")
  rows = rows[np.asarray(jax.random.permutation(key, len(rows)))]
  return np.sort(rows[:search_size]), np.sort(rows[search_size:][:heldout_size])


def _best_at(result: dict, budget: int):
  """Best prefix among the first `budget` queries; None if none beats no prefix."""
  scores = result["query_scores"][:budget]
  if budget == 0 or scores.min() >= result["search"]["no_prefix"]:
    return None
  return result["query_prefixes"][int(np.argmin(scores))]


def search_prefix(
  network,
  params,
  split: dict,
  key: jax.Array,
  *,
  grader: str = "rubric",
  budget: int = 256,
  num_candidates: int = 16,
  search_size: int = 128,
  heldout_size: int | None = 512,
  candidates: np.ndarray | None = None,
  greedy: bool = True,
  batch_size: int = 512,
) -> dict:
  """Searches a persona-slot prefix that minimises a trait score.

  Args:
    network: a response policy module (`sample(context, key, temperature)`).
    params: its parameters with a leading seed axis [S, ...].
    split: stacked scenario arrays; the search batch and the held-out set are
      disjoint random subsets of the scenarios the grader applies to.
    key: PRNG key; the result is deterministic for it.
    grader: registered grader whose (higher-is-better) score is minimised.
    budget: queries (candidate prefixes scored on the search batch), used exactly.
    num_candidates: K candidates scored per step (one vmapped call).
    search_size: scenarios in the search batch.
    heldout_size: held-out scenarios (None: all the remaining applicable ones).
    candidates: int[C] token ids a prefix may use (default `default_candidates()`).
    greedy: argmax responses (default) instead of samples.
    batch_size: scenarios per compiled call on the held-out set.

  Returns:
    {"prefix": int32[P] best prefix (all PAD, and "improved" False, if no query
       beat no prefix), "words": its non-PAD tokens as strings, "improved": bool,
     "curve": float[budget + 1] best-so-far search-batch score after q queries
       (curve[0]: no prefix; non-increasing), "queries": int (= budget),
     "query_scores": float[budget], "query_prefixes": int32[budget, P],
     "search": {"no_prefix", "attacked"}: floats on the search batch,
     "heldout": {"no_prefix", "attacked", "drop": floats; "no_prefix_per_seed",
       "attacked_per_seed": float[S]; "n": int}, "grader": str,
     "search_indices": int[search_size], "heldout_indices": int[N_h]}.
  """
  cands = default_candidates() if candidates is None else np.asarray(candidates, np.int32)
  ok = cands.ndim == 1 and len(np.unique(cands)) == len(cands) >= 2 and cands.min() >= 0
  if not ok or cands.max() >= vocab.VOCAB_SIZE or budget < 0 or num_candidates < 1:
    raise ValueError(
      f"need >= 2 distinct candidates in [0, {vocab.VOCAB_SIZE}), budget >= 0, K >= 1"
    )
  k = min(num_candidates, len(cands) - 1)
  k_split, k_sample, k_search = jax.random.split(key, 3)
  search_idx, held_idx = _split_indices(split, grader, k_split, search_size, heldout_size)
  batch = _subset({kk: np.asarray(split[kk]) for kk in _FIELDS}, search_idx)
  steps = 1 << max(-(-budget // k) - 1, 0).bit_length()  # Powers of 2: few compiles.
  temp = jnp.float32(GREEDY_TEMPERATURE if greedy else 1.0)
  base, s, p = _search(network, grader, k, steps, params, batch, cands, budget, temp, k_search)
  scores, prefixes = np.asarray(s, np.float64)[:budget], np.asarray(p)[:budget]
  curve = np.minimum.accumulate(np.concatenate([[float(base)], scores]))
  search = {"no_prefix": float(base), "attacked": float(curve[-1])}
  result = {"query_scores": scores, "query_prefixes": prefixes, "search": search}
  best = _best_at(result, budget)
  kw = {"grader": grader, "greedy": greedy, "batch_size": batch_size}
  held_base, held_att = score_prefixes(
    network, params, split, held_idx, [None, best], k_sample, **kw
  )
  prefix = np.full(schema.PERSONA_LEN, vocab.PAD, np.int32) if best is None else best
  return result | {
    "prefix": prefix,
    "words": [vocab.TOKENS[t] for t in prefix if t != vocab.PAD],
    "improved": best is not None,
    "curve": curve,
    "queries": len(scores),
    "heldout": {
      "no_prefix": float(held_base.mean()),
      "attacked": float(held_att.mean()),
      "drop": float(held_base.mean() - held_att.mean()),
      "no_prefix_per_seed": held_base,
      "attacked_per_seed": held_att,
      "n": len(held_idx),
    },
    "grader": grader,
    "search_indices": search_idx,
    "heldout_indices": held_idx,
  }


def score_vs_budget(network, params, split, key, budgets=(0, 16, 64, 256), **kwargs) -> dict:
  """Attack strength vs query budget, from one search with the largest budget.

  The search is sequential and deterministic, so its first b queries are exactly
  the search a budget of b runs; the best prefix among them is scored held out.

  Args:
    network, params, split, key: as `search_prefix`.
    budgets: query budgets to report (non-negative ints).
    **kwargs: other `search_prefix` arguments (grader, num_candidates, ...).

  Returns:
    {"budgets": sorted ints, "search_score": floats, "heldout_score": floats,
     "words": the prefix found at each budget, "heldout_no_prefix": float}.
  """
  budgets = sorted(int(b) for b in budgets)
  result = search_prefix(network, params, split, key, budget=budgets[-1], **kwargs)
  kw = {k: kwargs[k] for k in ("grader", "greedy", "batch_size") if k in kwargs}
  bests = [_best_at(result, b) for b in budgets]
  idx, k_sample = result["heldout_indices"], jax.random.split(key, 3)[1]
  held = score_prefixes(network, params, split, idx, bests, k_sample, **kw).mean(axis=1)
  return {
    "budgets": budgets,
    "search_score": [float(result["curve"][b]) for b in budgets],
    "heldout_score": [float(h) for h in held],
    "words": [[] if q is None else [vocab.TOKENS[t] for t in q if t != vocab.PAD] for q in bests],
    "heldout_no_prefix": result["heldout"]["no_prefix"],
  }
