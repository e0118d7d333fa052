"""Phrasing: how a concept becomes tokens, the surface-overlap knob, and layout templates.

Each concept has 3 stems. Every lexicon (each domain, and the shared one) has its own 6
*phrasing variants* per concept, fixed by `LEXICON_SEED`:

* variants 0-3, used by the training templates: 4 distinct orders of 2 or 3 distinct
  stems (never a repeated stem, never a single stem);
* variants 4-5, used only by the held-out-format templates: `x y x` (a stem repeated
  around another) and `z` (the remaining stem alone). Both use only stems that the
  training variants use, but no training variant has their length-and-count shape: a
  concept said once in a held-out context has a token multiset that no training
  phrasing gives, and `x y x` never occurs as a contiguous 3-gram of a training context.

`Phraser.phrase(concept)` draws, per occurrence, the shared lexicon with probability
`surface_overlap` (else the domain's own), then a variant from the template's set.

A *layout template* orders the segments of a context: the system segment, where the
notes go, how the first user message is split into turns and ordered, the order of a
push-back turn and of a source attribution, where a format instruction goes and which
function words (`and`, `?`) appear where. Templates 0-3 are for training splits, 4-5
are held out; the held-out ones use only tokens that training contexts use (no new
function words), in structures that no training template produces (see `LAYOUTS`).
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Sequence

import numpy as np

from alignment_rl.language import lexicon, vocab

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
      # The first two orders are never used by training (kept so that the draws, and
      # hence the training variants, are those of every earlier version). The held-out
      # variants are built from the first one, (x, y, z) -> "x y x" and "z".
      x, y, z = triples[order[0]]
      heldout = [(x, y, x), (z,)]
      rest = [triples[i] for i in order[2:]] + pairs
      train = [rest[i] for i in rng.choice(len(rest), size=4, replace=False)]
      table[(domain, concept)] = tuple(tuple(ids[j] for j in v) for v in train + heldout)
  return table


#: (domain or None for shared, concept) -> NUM_VARIANTS token-id tuples.
VARIANTS = _variant_table()


def heldout_phrasings() -> frozenset[tuple[int, ...]]:
  """Every held-out 3-token variant `x y x` (token-id tuple), for leakage tests.

  (The other held-out variant, a single stem, is a held-out *phrase* but not an n-gram
  that a training context could be searched for.)"""
  return frozenset(v[i] for v in VARIANTS.values() for i in HELDOUT_VARIANTS if len(v[i]) == 3)


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


USER_PARTS = (
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
NOTES_PLACES = ("after_sys", "before_assistant", "before_sys", "between_user_turns")


@dataclasses.dataclass(frozen=True)
class Layout:
  """Where the segments and parts of a context go.

  The fields after `question_mark` vary only between held-out templates; their defaults
  are what every training template does.
  """

  notes: str  # one of NOTES_PLACES; "between_user_turns" falls back to after the last one
  user_turns: tuple[tuple[str, ...], ...]  # the first user message: 1 or 2 turns of parts
  pushback_order: tuple[str, ...]  # parts of a push-back user turn
  format_in_user: bool  # the format instruction ends the turn of the request, else in <sys>
  question_mark: bool  # close a question request with "?"
  system_order: tuple[str, ...] = ("system", "topic", "oversight")
  and_turn: int = -1  # "and" before the last part of this user turn (if it has >= 2)
  source_first: bool = True  # "source reliability says option-k", else reliability first
  ask_source_order: tuple[str, ...] = ("ask", "pressure")  # an ask-for-source turn; "?" a part

  def __post_init__(self):
    if self.notes not in NOTES_PLACES:
      raise ValueError(f"Layout.notes={self.notes!r}; allowed: {NOTES_PLACES}")
    parts = [n for turn in self.user_turns for n in turn]
    if sorted(parts) != sorted(USER_PARTS) or not 1 <= len(self.user_turns) <= 2:
      raise ValueError(f"Layout.user_turns must split {USER_PARTS} into 1 or 2 turns")
    if sorted(self.system_order) != ["oversight", "system", "topic"]:
      raise ValueError(f"Layout.system_order={self.system_order}")
    if sorted(self.ask_source_order) not in (["ask", "pressure"], ["?", "ask", "pressure"]):
      raise ValueError(f"Layout.ask_source_order={self.ask_source_order}")


_U0 = USER_PARTS
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
_P0 = ("pushback", "claim", "pressure")
# Held out: the first user message is two consecutive user turns, its situation parts in
# an order no training template uses, joined by "and" before the last one.
_H_SITUATION = ("risk", "identity", "intent", "stakes", "power", "loophole", "impossible")
_H_REQUEST = ("request", "claim")
_H_SITUATION_CLAIM = (
  "claim",
  "impossible",
  "loophole",
  "power",
  "stakes",
  "intent",
  "identity",
  "risk",
)
_P1 = ("pressure", "claim", "pushback")

LAYOUTS: tuple[Layout, ...] = (
  Layout("after_sys", (_U0,), _P0, False, True),
  Layout("before_assistant", (_U0,), _P0, False, False),
  Layout("after_sys", (_U1,), _P0, False, False),
  Layout("before_assistant", (_U1,), _P0, False, True),
  # Held out. 4: notes before <sys>; <sys> topic first; the situation turn, then the
  # request turn; "?" also ends an ask-for-source turn; reliability before the source.
  Layout(
    "before_sys",
    (_H_SITUATION, _H_REQUEST),
    _P1,
    True,
    True,
    system_order=("topic", "system", "oversight"),
    and_turn=0,
    source_first=False,
    ask_source_order=("pressure", "ask", "?"),
  ),
  # 5: oversight cue first in <sys>; the request turn, then the notes, then the
  # situation turn (with the claim); no "?" after a question.
  Layout(
    "between_user_turns",
    (("request",), _H_SITUATION_CLAIM),
    _P1,
    True,
    False,
    system_order=("oversight", "system", "topic"),
    and_turn=1,
    source_first=False,
    ask_source_order=("ask", "?", "pressure"),
  ),
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

  def attributed(
    self, reliable: bool, option: int, avoid: int = -1, source_first: bool = True
  ) -> tuple[list[int], int]:
    """`source reliability-phrase says option-k` (or the phrase first); returns (tokens,
    source id)."""
    src = self.source(reliable, avoid)
    words = self.phrase("reliable" if reliable else "unreliable")
    said = [vocab.token_id("says"), vocab.option_token(option)]
    return ([src] + words if source_first else words + [src]) + said, src
