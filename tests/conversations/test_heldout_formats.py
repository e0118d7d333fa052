"""The held-out-format split is held out from a bag-of-tokens (and an ordered) reader.

Held-out templates recombine trained tokens in new shapes (phrasings `x y x` and `z`,
a split first user message, notes and system parts moved, `and` and `?` in new
places). Checked on records of the FULL config (the first records of each split's
seeded schedule, which are a uniform sample): (a) no held-out token is new; (b) almost
no held-out context has the token multiset of a training context; (c) held-out
contexts are several edits from their nearest training context; (d) for contrast, the
i.i.d. `test` split is much closer to `train` on every measure.

Measures are computed on raw token ids and on *abstracted* ids, where the content
words that every scenario draws afresh (topic, entity, source names, options, identity
words) become one placeholder per kind and a domain's concept stems become the shared
ones. Raw identity is rare even between i.i.d. splits (two scenarios seldom draw the
same topic, entity and options), so the abstracted measures are the ones that show
whether a held-out context is a *format* the model has seen.
"""

import functools

import numpy as np
import pytest

from alignment_rl.data import FULL, generate_split, phrasing, render
from alignment_rl.data.overlap import (
  abstract,
  levenshtein,
  multiset_share,
  nn_edit_distance,
  records,
)
from alignment_rl.data.spec import new_spec
from alignment_rl.language import schema, vocab
from alignment_rl.language.schema import Family

NUM_TRAIN, NUM_QUERIES = 15_000, 300


@functools.cache
def split_sample(split: str) -> dict[str, np.ndarray]:
  return records(FULL, split, NUM_TRAIN if split == "train" else NUM_QUERIES)


@functools.cache
def leak_stats(split: str) -> dict[str, float]:
  train = split_sample("train")["context"]
  queries = split_sample(split)["context"]
  pool = train[: NUM_TRAIN // 2]  # the edit distance against a (uniform) half
  stats = {}
  for name, f in (("raw", lambda x: x), ("abstract", abstract)):
    stats[f"{name}_share"] = multiset_share(f(queries), f(train))
    stats[f"{name}_median_ed"] = float(np.median(nn_edit_distance(f(queries), f(pool))))
  print(f"{split} vs train: {stats}")
  return stats


def test_edit_distance_matches_the_textbook_dp():
  rng = np.random.default_rng(0)
  tokens = rng.integers(1, 6, (40, 64))
  for i in range(40):  # ragged, with PAD inside and after the end
    tokens[i, rng.integers(1, 64) :] = 0
    tokens[i, rng.integers(0, 64)] = 0
  tokens[0, :] = rng.integers(1, 6, 64)  # a full 64-token row
  got = nn_edit_distance(tokens[:8], tokens[8:])
  rows = [r[r != 0].tolist() for r in tokens]
  want = [min(levenshtein(q, p) for p in rows[8:]) for q in rows[:8]]
  np.testing.assert_array_equal(got, want)


def test_heldout_phrasings_use_only_trained_stems():
  for variants in phrasing.VARIANTS.values():
    train = {t for i in phrasing.TRAIN_VARIANTS for t in variants[i]}
    assert len(train) == 3
    held = [variants[i] for i in phrasing.HELDOUT_VARIANTS]
    assert {t for v in held for t in v} == train
    shapes = {tuple(sorted(np.unique(v, return_counts=True)[1])) for v in held}
    assert shapes == {(1, 2), (1,)}  # "x y x" and "z": no training variant's shape


def test_a_heldout_formats_use_no_new_token():
  train = split_sample("train")
  held = split_sample("heldout_formats")
  for field in ("context", "followups"):
    new = set(np.unique(held[field]).tolist()) - set(np.unique(train[field]).tolist())
    assert not new, (field, [vocab.TOKENS[t] for t in sorted(new)])


def test_b_c_d_heldout_formats_are_far_from_train_and_test_is_not():
  held, test = leak_stats("heldout_formats"), leak_stats("test")
  # (b) Every held-out context says its system phrase (and its request) once, in a
  # held-out phrasing: its multiset is never a training one, abstracted or not.
  assert held["raw_share"] < 0.05 and held["abstract_share"] < 0.05
  # (d) whereas a third to a half of the i.i.d. test contexts are, once abstracted.
  assert test["abstract_share"] > 0.15
  # (c) A held-out context needs at least one edit per phrase (>= 2 phrases) plus its
  # moved parts and new function words: the median is >= 5 edits from the nearest
  # training context (7 measured); the i.i.d. test split needs ~2 (content words
  # excepted), so the gap must be >= 3 edits, raw and abstracted.
  assert held["abstract_median_ed"] >= 5
  assert held["abstract_median_ed"] >= test["abstract_median_ed"] + 3
  assert held["raw_median_ed"] >= test["raw_median_ed"] + 2


def test_full_heldout_formats_split_fits_and_is_deterministic():
  a = generate_split(FULL, "heldout_formats")  # raises if any rendering is too long
  print(f"longest held-out context {a['context_len'].max()} of {schema.CONTEXT_LEN}")
  assert set(np.unique(a["template"])) == set(phrasing.HELDOUT_TEMPLATES)
  assert (a["followup_len"] <= schema.FOLLOWUP_LEN).all()
  b = split_sample("heldout_formats")
  np.testing.assert_array_equal(a["context"][:NUM_QUERIES], b["context"])


def _long_spec():
  """A question with every part of a first user message, a claim with a cited source,
  two notes, a planted answer, a push-back with the claim, oversight and a format."""
  s = new_spec(Family.EVERYDAY, phrasing.Draws(np.random.default_rng(0)))
  s.update(
    identity=0,
    risk=1,
    power=True,
    show_intent=True,
    loophole=1,
    task_possible=0,
    user_claim=2,
    claim_source="reliable",
    notes=[(True, 1), (False, 3)],
    planted=[1, 9],
    user2="pushback",
    pressure=1,
    oversight=1,
    format_instruction=1,
  )
  return s


class _LongestPhraser(phrasing.Phraser):
  """Says every concept with its longest variant of the template's set."""

  def phrase(self, concept):
    table = phrasing.VARIANTS[
      (None if self.draws.bernoulli(self.overlap) else self.domain, concept)
    ]
    return list(max((table[i] for i in self.variants), key=len))


@pytest.mark.parametrize("template", phrasing.HELDOUT_TEMPLATES)
def test_heldout_rendering_adds_at_most_three_tokens_to_the_longest_training_one(template):
  """So a held-out context fits whenever the same spec's training renderings fit."""
  spec = _long_spec()

  def length(t):
    d = phrasing.Draws(np.random.default_rng(1))
    p = _LongestPhraser("health", 0.5, t in phrasing.HELDOUT_TEMPLATES, d)
    return len(render.Renderer(spec, p, phrasing.LAYOUTS[t]).context())

  longest_train = max(length(t) for t in phrasing.TRAIN_TEMPLATES)
  assert longest_train < length(template) <= longest_train + 3


def test_training_templates_keep_their_v1_structure():
  for t in phrasing.TRAIN_TEMPLATES:
    layout = phrasing.LAYOUTS[t]
    assert len(layout.user_turns) == 1 and layout.and_turn == -1 and layout.source_first
    assert layout.notes in ("after_sys", "before_assistant") and not layout.format_in_user


def test_heldout_overlap_reports_every_group():
  """The figure's measures (`data.overlap.heldout_overlap`), on a small sample."""
  from alignment_rl.data.overlap import GROUPS, heldout_overlap

  stats = heldout_overlap(FULL, num_train=200, num_queries=10)
  assert set(stats) == set(GROUPS)
  for row in stats.values():
    assert len(row["abstract_ed"]) == 10 and 0.0 <= row["raw_share"] <= 1.0
  assert stats["heldout_formats"]["abstract_share"] == 0.0
