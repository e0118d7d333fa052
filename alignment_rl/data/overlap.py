"""How far an evaluation split is from the training contexts: the leak measures.

For a split of held-out contexts (queries) against a sample of training contexts:

* `multiset_share`: the share of queries whose token multiset (PAD ignored) is that
  of some training context: what an order-blind reader cannot tell apart;
* `nn_edit_distance`: each query's Levenshtein distance to its nearest training
  context (token edits; PAD ignored);

each on raw token ids and on *abstracted* ids (`abstract`), where the content words
that every scenario draws afresh (topic, entity and source names, options, identity
words) become one placeholder per kind and a domain's concept stems become the
shared ones. Raw identity is rare even between i.i.d. splits (two scenarios seldom
draw the same topic, entity and options), so the abstracted measures are the ones
that show whether a held-out context is a *format* a model has seen.
"""

from __future__ import annotations

import numpy as np

from alignment_rl.data import generator as gen
from alignment_rl.language import lexicon, vocab
from alignment_rl.language.schema import Family


def records(config, split: str, n: int, families=None) -> dict[str, np.ndarray]:
  """The first `n` records of `split` (in its seeded schedule order, a uniform sample),
  optionally only of `families` (ints): {"context", "followups", "family"}."""
  domains = gen.SPLIT_SETUP[split][0]
  out = []
  for unit, family, d in gen.schedule(config, split):
    if families is not None and int(family) not in families:
      continue
    for member in range(2 if family == Family.IDENTITY_PAIR else 1):
      out.append(gen.generate_scenario(config, split, unit, family, domains[d], member))
    if len(out) >= n:
      break
  keys = ("context", "followups", "family")
  return {k: np.stack([np.asarray(r[k]) for r in out[:n]]) for k in keys}


def _abstraction() -> np.ndarray:
  v = vocab.VOCAB_SIZE
  table = np.arange(v + 6)
  for d in lexicon.DOMAINS:
    for c in lexicon.CONCEPTS:
      table[list(vocab.concept_ids(c, d))] = vocab.concept_ids(c, None)
    for g, group in enumerate(lexicon.domain_words(d)):  # topics, entities, sources
      table[[vocab.token_id(w) for w in group]] = v + g
  table[[vocab.option_token(k) for k in range(vocab.NUM_OPTIONS)]] = v + 4
  table[[vocab.identity_token(i) for i in range(len(lexicon.IDENTITY_WORDS))]] = v + 5
  return table


ABSTRACT = _abstraction()


def abstract(tokens: np.ndarray) -> np.ndarray:
  return ABSTRACT[tokens]  # PAD (0) stays 0


def compact(tokens: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
  """PADs removed, the rest moved left (then 0-filled): (int[N, L], lengths int[N])."""
  keep = tokens != vocab.PAD
  order = np.argsort(~keep, axis=1, kind="stable")
  lengths = keep.sum(1)
  out = np.take_along_axis(tokens, order, 1)
  return np.where(np.arange(tokens.shape[1]) < lengths[:, None], out, 0), lengths


def nn_edit_distance(queries: np.ndarray, pool: np.ndarray) -> np.ndarray:
  """Levenshtein distance (PAD ignored) from each query row to its nearest pool row.

  Bit-parallel (Myers 1999, in Hyyro's form for the global distance): a query of
  m <= 64 tokens is one uint64 column of the DP table, and each step reads one token
  of every pool row at once, so one query against N rows costs L numpy ops on [N].
  """
  text, text_len = compact(pool)
  pattern, pattern_len = compact(queries)
  if pattern_len.max() > 64:
    raise ValueError(f"nn_edit_distance: queries of <= 64 tokens, got {pattern_len.max()}")
  one, n = np.uint64(1), len(text)
  best = np.empty(len(pattern), np.int64)
  for q in range(len(pattern)):
    m = int(pattern_len[q])
    peq = np.zeros(int(max(text.max(), pattern.max())) + 1, np.uint64)
    for i, t in enumerate(pattern[q, :m]):
      peq[t] |= one << np.uint64(i)
    top = one << np.uint64(m - 1)
    pv, mv = np.full(n, ~np.uint64(0)), np.zeros(n, np.uint64)
    score = np.full(n, m, np.int64)
    for j in range(int(text_len.max())):
      active = j < text_len
      eq = peq[text[:, j]]
      xv = eq | mv
      xh = (((eq & pv) + pv) ^ pv) | eq
      ph = mv | ~(xh | pv)
      mh = pv & xh
      score += active * (((ph & top) != 0).astype(np.int64) - ((mh & top) != 0))
      ph = (ph << one) | one
      mh = mh << one
      pv = np.where(active, mh | ~(xv | ph), pv)
      mv = np.where(active, ph & xv, mv)
    best[q] = score.min()
  return best


def levenshtein(a, b) -> int:
  row = list(range(len(b) + 1))
  for i, x in enumerate(a):
    prev, row[0] = row[0], i + 1
    for j, y in enumerate(b):
      prev, row[j + 1] = row[j + 1], min(row[j + 1] + 1, row[j] + 1, prev + (x != y))
  return row[-1]


def multiset_share(queries: np.ndarray, pool: np.ndarray) -> float:
  """Share of query rows whose token multiset (PAD ignored) is that of some pool row."""
  key = lambda r: tuple(sorted(r[r != vocab.PAD].tolist()))  # noqa: E731
  seen = {key(r) for r in pool}
  return float(np.mean([key(r) in seen for r in queries]))


#: The held-out groups and how each is drawn: (split of the queries, families of the
#: queries (None: all), families of the training pool (None: all)). Held-out families
#: are compared with the contexts of the training families (those that carry trait
#: reward); their own situations are in the standard mixture by design.
GROUPS = {
  "test (i.i.d.)": ("test", None, None),
  "heldout_domains": ("heldout_domains", None, None),
  "heldout_formats": ("heldout_formats", None, None),
  "heldout_families": ("test", "heldout", "training"),
}


def heldout_overlap(config, num_train: int = 15_000, num_queries: int = 300) -> dict:
  """The leak measures of every held-out group (`GROUPS`) against training contexts.

  Returns:
    {group: {"raw_share", "abstract_share", "raw_median_ed", "abstract_median_ed",
    "abstract_ed": [num_queries] nearest-neighbour edit distances}}; edit distances
    against a uniform half of the training sample (the shares against all of it).
  """
  from alignment_rl.language import schema

  fam = {
    "heldout": {int(f) for f in schema.HELDOUT_FAMILIES},
    "training": {int(f) for f in schema.TRAINING_FAMILIES},
  }
  pools: dict = {}
  out = {}
  for group, (split, query_fams, pool_fams) in GROUPS.items():
    if pool_fams not in pools:
      pools[pool_fams] = records(config, "train", num_train, fam.get(pool_fams))["context"]
    train = pools[pool_fams]
    queries = records(config, split, num_queries, fam.get(query_fams))["context"]
    pool = train[: num_train // 2]
    row = {}
    for name, f in (("raw", lambda x: x), ("abstract", abstract)):
      row[f"{name}_share"] = multiset_share(f(queries), f(train))
      ed = nn_edit_distance(f(queries), f(pool))
      row[f"{name}_median_ed"] = float(np.median(ed))
      if name == "abstract":
        row["abstract_ed"] = [int(x) for x in ed]
    out[group] = row
  return out
