"""Phrasing: how a concept becomes tokens, the surface-overlap knob, and layout templates.

Each concept has 3 stems. A *phrasing variant* is an ordered sequence of 2 or 3 of
them. Every lexicon (each domain, and the shared one) has its own 6 variants per
concept, fixed by `LEXICON_SEED`: variants 0-3 are used by training templates, and
variants 4-5 (always 3-stem orders) only by the held-out-format templates; since every
training variant is a different order or a pair, no held-out variant ever occurs as a
contiguous n-gram in a training context.

`Phraser.phrase(concept)` draws, per occurrence, the shared lexicon with probability
`surface_overlap` (else the domain's own), then a variant from the template's set.

A *layout template* orders the segments of a context (where the notes go, the order of
the parts of the first user turn and of a push-back turn, where a format instruction
goes, a closing `?`). Templates 0-3 are for training splits, 4-5 are held out.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Sequence

import numpy as np

from alignment_rl.envs.conversations import lexicon, vocab

LEXICON_SEED = 20260601
NUM_VARIANTS = 6
TRAIN_VARIANTS = (0, 1, 2, 3)
HELDOUT_VARIANTS = (4, 5)


def _variant_table() -> dict[tuple[str | None, str], tuple[tuple[int, ...], ...]]:
  rng = np.random.default_rng(LEXICON_SEED)
  triples = list(itertools.permutations(range(3), 3))
  pairs = list(itertools.permutations(range(3), 2))
  table = {}
  for domain in (None,) + lexicon.DOMAINS:
    for concept in lexicon.CONCEPTS:
      ids = vocab.concept_ids(concept, domain)
      order = rng.permutation(len(triples))
      heldout = [triples[i] for i in order[:2]]
      rest = [triples[i] for i in order[2:]] + pairs
      train = [rest[i] for i in rng.choice(len(rest), size=4, replace=False)]
      table[(domain, concept)] = tuple(tuple(ids[j] for j in v) for v in train + heldout)
  return table


#: (domain or None for shared, concept) -> NUM_VARIANTS token-id tuples.
VARIANTS = _variant_table()


def heldout_phrasings() -> frozenset[tuple[int, ...]]:
  """Every held-out variant (token-id tuple), for leakage tests."""
  return frozenset(v[i] for v in VARIANTS.values() for i in HELDOUT_VARIANTS)


class Draws:
  """Uniform draws from one scenario's own numpy stream (refilled on demand)."""

  def __init__(self, rng: np.random.Generator, block: int = 64):
    self._rng, self._block = rng, block
    self._buf: list[float] = rng.random(block).tolist()
    self._i = 0

  def uniform(self) -> float:
    if self._i == len(self._buf):
      self._buf, self._i = self._rng.random(self._block).tolist(), 0
    self._i += 1
    return self._buf[self._i - 1]

  def bernoulli(self, p: float) -> bool:
    return self.uniform() < p

  def integer(self, n: int) -> int:
    return min(int(self.uniform() * n), n - 1)

  def choice(self, items: Sequence, weights: Sequence[float] | None = None):
    if weights is None:
      return items[self.integer(len(items))]
    u, acc = self.uniform() * sum(weights), 0.0
    for item, w in zip(items, weights, strict=True):
      acc += w
      if u < acc:
        return item
    return items[-1]


@dataclasses.dataclass(frozen=True)
class Layout:
  notes_after_user: bool  # notes just before the final <assistant>, else after <sys>
  user_order: tuple[str, ...]  # parts of the first user turn
  pushback_order: tuple[str, ...]  # parts of a push-back user turn
  format_in_user: bool  # the format instruction ends the first user turn, else in <sys>
  question_mark: bool  # close the request with "?"


_U0 = (
  "identity",
  "risk",
  "power",
  "request",
  "stakes",
  "intent",
  "impossible",
  "loophole",
  "claim",
)
_U1 = (
  "request",
  "claim",
  "stakes",
  "impossible",
  "loophole",
  "intent",
  "power",
  "risk",
  "identity",
)
_U2 = (
  "risk",
  "claim",
  "request",
  "identity",
  "intent",
  "stakes",
  "power",
  "loophole",
  "impossible",
)
_P0 = ("pushback", "claim", "pressure")
_P1 = ("pressure", "claim", "pushback")

LAYOUTS: tuple[Layout, ...] = (
  Layout(False, _U0, _P0, False, True),
  Layout(True, _U0, _P0, False, False),
  Layout(False, _U1, _P0, False, False),
  Layout(True, _U1, _P0, False, True),
  Layout(False, _U2, _P1, True, True),  # held out
  Layout(True, _U2, _P1, True, False),  # held out
)
TRAIN_TEMPLATES = (0, 1, 2, 3)
HELDOUT_TEMPLATES = (4, 5)


class Phraser:
  """Renders concepts and domain words for one scenario.

  Args:
    domain: domain name.
    surface_overlap: probability in [0, 1] that an occurrence uses the shared lexicon.
    heldout_format: use the held-out variants (4-5) instead of the training ones.
    draws: the scenario's `Draws`.
  """

  def __init__(self, domain: str, surface_overlap: float, heldout_format: bool, draws: Draws):
    self.domain, self.overlap, self.draws = domain, surface_overlap, draws
    self.variants = HELDOUT_VARIANTS if heldout_format else TRAIN_VARIANTS
    self.topics, self.entities, self.reliable, self.unreliable = (
      tuple(vocab.token_id(w) for w in g) for g in lexicon.domain_words(domain)
    )

  def phrase(self, concept: str) -> list[int]:
    shared = self.draws.bernoulli(self.overlap)
    table = VARIANTS[(None if shared else self.domain, concept)]
    return list(table[self.draws.choice(self.variants)])

  def source(self, reliable: bool, avoid: int = -1) -> int:
    pool = [s for s in (self.reliable if reliable else self.unreliable) if s != avoid]
    return self.draws.choice(pool)

  def attributed(self, reliable: bool, option: int, avoid: int = -1) -> tuple[list[int], int]:
    """`source reliability-phrase says option-k`; returns (tokens, source id)."""
    src = self.source(reliable, avoid)
    words = self.phrase("reliable" if reliable else "unreliable")
    return [src] + words + [vocab.token_id("says"), vocab.option_token(option)], src
