"""Generator checks: schema, mixture counts, observability, pairs, determinism, formats."""

import dataclasses
import hashlib

import numpy as np
import pytest

from alignment_rl.data import FULL, SMALL, generate_split
from alignment_rl.data import generator as gen
from alignment_rl.data.phrasing import HELDOUT_TEMPLATES, TRAIN_TEMPLATES, heldout_phrasings
from alignment_rl.language import lexicon, personas, schema, vocab
from alignment_rl.language.schema import Evidence, Family, PlantedError


def digest(arrays):
  h = hashlib.sha256()
  for k in sorted(arrays):
    h.update(k.encode() + arrays[k].tobytes() + str(arrays[k].dtype).encode())
  return h.hexdigest()


def test_schema_shapes_and_dtypes(small_splits):
  for split, arrays in small_splits.items():
    assert sorted(arrays) == sorted(schema.FIELDS)
    n = SMALL.size(split)
    for name, field in schema.FIELDS.items():
      assert arrays[name].shape == (n,) + field.shape and arrays[name].dtype == field.dtype
    np.testing.assert_array_equal(arrays["index"], np.arange(n))


def test_full_config_sizes():
  assert FULL.size("train") >= 50_000
  assert all(FULL.size(s) >= 5_000 for s in schema.SPLITS)


def test_family_by_domain_counts(small_splits):
  for split, arrays in small_splits.items():
    counts = np.zeros((len(Family), len(lexicon.DOMAINS)), np.int64)
    np.add.at(counts, (arrays["family"], arrays["domain"]), 1)
    np.testing.assert_array_equal(counts, gen.expected_counts(SMALL, split))
    np.testing.assert_array_equal(counts.sum(1), gen.family_counts(SMALL, split))
    domains = {lexicon.DOMAINS[d] for d in np.unique(arrays["domain"])}
    assert domains == set(gen.SPLIT_SETUP[split][0]), split
  train = small_splits["train"]
  assert set(np.unique(train["family"])) == set(range(len(Family)))
  everyday = np.mean(train["family"] == Family.EVERYDAY)
  assert everyday == pytest.approx(SMALL.standard_fraction, abs=0.01)


def test_traits_metadata_covers_all_traits(small_splits):
  covered = {t for traits in schema.FAMILY_TRAITS.values() for t in traits}
  assert covered == set(schema.Trait) and set(schema.FAMILY_TRAITS) == set(Family)
  a = small_splits["train"]
  for f, traits in schema.FAMILY_TRAITS.items():
    rows = a["traits"][a["family"] == f]
    assert (rows[:, list(traits)] == 1).all() and rows.sum(1).max() == len(traits)
    assert (a["primary_trait"][a["family"] == f] == traits[0]).all()


def test_observations_use_only_observable_tokens(small_splits):
  assert schema.OBSERVATION_FIELDS == ("context", "context_len", "followups", "followup_len")
  eval_persona = {int(t) for t in personas.EVAL_HARMFUL_PERSONAS.ravel()} | {
    int(t) for t in personas.EVAL_HELPFUL_PERSONAS.ravel()
  }
  eval_only = eval_persona - {int(t) for t in personas.TRAIN_PERSONAS.ravel()}
  for arrays in small_splits.values():
    for field in ("context", "followups"):
      tokens = arrays[field]
      assert tokens.min() >= 0 and tokens.max() < vocab.VOCAB_SIZE
      assert not np.isin(tokens, list(eval_only)).any()
    for ctx, n in zip(arrays["context"], arrays["context_len"], strict=True):
      assert ctx[0] == vocab.BOS and ctx[n - 1] == vocab.ASSISTANT and (ctx[n:] == 0).all()
      body = ctx[schema.PERSONA_SLOT[1] : n]
      assert (body != vocab.PAD).all()
      # Response tokens only inside an assistant turn: <assistant> ... <eot>.
      inside = False
      for t in body[:-1]:
        if t == vocab.ASSISTANT:
          inside = True
        elif inside and t == vocab.EOT:
          inside = False
        else:
          assert vocab.is_response_token(np.array(t)) == inside, vocab.render(ctx)
    fu, lens = arrays["followups"], arrays["followup_len"]
    assert (fu[..., 0] == vocab.USER).all()
    last = np.take_along_axis(fu, (lens - 1)[..., None], axis=-1)[..., 0]
    assert (last == vocab.ASSISTANT).all()
    assert not vocab.is_response_token(fu).any()


def test_persona_slot_holds_training_personas_only(small_splits):
  rows = {tuple(r) for r in personas.TRAIN_PERSONAS.tolist()}
  a = small_splits["train"]
  slot = a["context"][:, schema.PERSONA_SLOT[0] : schema.PERSONA_SLOT[1]]
  for s, p in zip(slot, a["persona"], strict=True):
    assert (p < 0 and (s == vocab.PAD).all()) or tuple(s.tolist()) in rows
  assert (a["persona"] >= 0).any() and (a["persona"] < 0).any()


def test_identity_pairs_differ_only_in_identity_tokens(small_splits):
  identity_ids = {vocab.identity_token(i) for i in range(len(lexicon.IDENTITY_WORDS))}
  for arrays in small_splits.values():
    idx = np.flatnonzero(arrays["family"] == Family.IDENTITY_PAIR)
    assert len(idx) % 2 == 0 and len(idx) > 0
    for i, j in zip(idx[::2], idx[1::2], strict=True):
      assert j == i + 1 and arrays["pair_id"][i] == arrays["pair_id"][j] >= 0
      assert arrays["identity"][i] ^ 1 == arrays["identity"][j]
      diff = np.flatnonzero(arrays["context"][i] != arrays["context"][j])
      assert len(diff) == 1
      assert {arrays["context"][i][diff[0]], arrays["context"][j][diff[0]]} <= identity_ids
      for name in schema.FIELDS:
        if name not in ("context", "identity", "index"):
          np.testing.assert_array_equal(arrays[name][i], arrays[name][j], err_msg=name)
    others = arrays["family"] != Family.IDENTITY_PAIR
    assert (arrays["pair_id"][others] == -1).all()


def test_same_seed_and_version_give_identical_bytes(small_splits):
  again = generate_split(SMALL, "train")
  assert digest(again) == digest(small_splits["train"])
  other = generate_split(dataclasses.replace(SMALL, seed=1), "train")
  assert digest(other) != digest(again)


def test_heldout_formats_never_appear_in_training_splits(small_splits):
  grams = heldout_phrasings()
  lengths = {len(g) for g in grams}
  assert lengths == {3}

  def found(arrays):
    tokens = np.concatenate(
      [arrays["context"], arrays["followups"].reshape(len(arrays["context"]), -1)], axis=1
    )
    windows = np.lib.stride_tricks.sliding_window_view(tokens, 3, axis=1).reshape(-1, 3)
    return {tuple(w) for w in np.unique(windows, axis=0).tolist()} & grams

  for split in ("train", "validation", "test", "heldout_domains"):
    assert set(np.unique(small_splits[split]["template"])) <= set(TRAIN_TEMPLATES)
    assert not found(small_splits[split]), split
  assert set(np.unique(small_splits["heldout_formats"]["template"])) <= set(HELDOUT_TEMPLATES)
  assert found(small_splits["heldout_formats"])


def _concept_tokens(domain):
  return {i for c in lexicon.CONCEPTS for i in vocab.concept_ids(c, domain)}


@pytest.mark.parametrize("overlap", [0.0, 1.0])
def test_surface_overlap_controls_shared_phrasing(overlap):
  cfg = dataclasses.replace(SMALL, surface_overlap=overlap)
  a = generate_split(cfg, "validation")
  shared = _concept_tokens(None)
  for ctx, d in zip(a["context"], a["domain"], strict=True):
    own = vocab.domain_token_ids(lexicon.DOMAINS[d])
    other = set().union(
      *(vocab.domain_token_ids(x) for x in lexicon.DOMAINS if x != lexicon.DOMAINS[d])
    )
    toks = set(ctx.tolist())
    assert not toks & other  # never another domain's words
    if overlap == 0.0:
      assert not toks & shared and toks & own
    else:
      assert not toks & _concept_tokens(lexicon.DOMAINS[d]) and toks & shared


def test_surface_overlap_half_shares_about_half(small_splits):
  a = small_splits["train"]
  shared = np.isin(a["context"], list(_concept_tokens(None))).sum()
  own = sum(
    np.isin(a["context"][a["domain"] == d], list(_concept_tokens(x))).sum()
    for d, x in enumerate(lexicon.DOMAINS)
  )
  assert shared / (shared + own) == pytest.approx(SMALL.surface_overlap, abs=0.05)


def test_rubrics_and_latents_are_consistent(small_splits):
  for a in small_splits.values():
    n, pts = a["num_criteria"], a["crit_points"]
    assert ((n >= 3) & (n <= 8)).all() and (np.abs(pts) <= 10).all()
    used = np.arange(schema.MAX_CRITERIA)[None] < n[:, None]
    assert ((pts > 0) & used).any(1).all()
    assert (pts[~used] == 0).all() and (a["crit_pred"][~used] == 0).all()
    assert (a["crit_id"][~used] == -1).all() and (a["crit_id"][used] >= 0).all()
    claim = a["user_claim"] >= 0
    np.testing.assert_array_equal(
      a["user_claim_correct"][claim], a["user_claim"][claim] == a["true_answer"][claim]
    )
    strong_notes = (a["evidence"] == Evidence.STRONG) & (a["has_notes"] == 1)
    assert (a["notes_answer"][strong_notes] == a["true_answer"][strong_notes]).all()
    for ctx, k in zip(a["context"][strong_notes], a["true_answer"][strong_notes], strict=True):
      assert vocab.option_token(k) in ctx
    wrong = a["planted_error"] == PlantedError.WRONG_ANSWER
    assert (a["prior_answer"][wrong] != a["true_answer"][wrong]).all()
    planted = (a["context"] == vocab.EOT).any(1)
    np.testing.assert_array_equal(planted, a["prior_answer"] >= 0)


def test_unknown_split_is_a_clear_error():
  with pytest.raises(ValueError, match="unknown split 'dev'; known: train"):
    generate_split(SMALL, "dev")
  with pytest.raises(ValueError, match="surface_overlap must be in"):
    dataclasses.replace(SMALL, surface_overlap=1.5)
