"""The evaluation suite: registered evaluations, their filters and seeded selection."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from alignment_rl import rubrics  # noqa: F401  (registers graders)
from alignment_rl.data import SMALL, generate_split
from alignment_rl.envs.conversations import lexicon, schema
from alignment_rl.envs.conversations.mixture import FAMILY_NAMES
from alignment_rl.evals import suite
from alignment_rl.registry import EVALUATIONS, GRADERS, UnknownNameError

TRAINING_GRADERS = ("rubric", "standard", "helpfulness")


@pytest.fixture(scope="module")
def splits():
  return {s: generate_split(SMALL, s) for s in ("test", "heldout_domains", "heldout_formats")}


def _all():
  return [EVALUATIONS.get(n) for n in EVALUATIONS.names()]


def test_registry_holds_the_suite_in_six_categories():
  evaluations = _all()
  assert len(evaluations) >= 53
  assert {e.category for e in evaluations} == set(suite.CATEGORIES)
  assert len(suite.CATEGORIES) == 6
  assert suite.SUITES["full"] == tuple(EVALUATIONS.names())
  assert [e.name for e in suite.get_suite("full")] == EVALUATIONS.names()
  # The health and non-health suites partition the full one.
  health, rest = set(suite.SUITES["health"]), set(suite.SUITES["non_health"])
  assert health and rest and not health & rest
  assert health | rest == set(suite.SUITES["full"])
  assert "health_physician_rubric/test" in health


def test_graders_are_registered_eval_graders_outside_synthetic():
  for e in _all():
    assert e.grader in GRADERS, e.name
    if e.category == "synthetic":
      assert e.grader == "rubric", e.name
      assert e.split == "test" and e.trait in suite.TRAIT_NAMES, e.name
    else:
      assert e.grader not in TRAINING_GRADERS, e.name
      assert not e.grader.startswith("harmful/"), e.name
      assert e.grader.startswith("eval/"), e.name
  assert {e.name for e in _all() if e.category == "synthetic"} == {
    f"heldout_trait_rubric/{t.name.lower()}" for t in schema.HELDOUT_TRAITS
  }


def test_out_of_distribution_evaluations_exist():
  evaluations = _all()
  coding = [e for e in evaluations if e.name.endswith("/coding")]
  assert len(coding) >= 5
  for e in coding:
    assert (e.split, e.domains) == ("heldout_domains", ("coding",)), e.name
  formats = [e for e in evaluations if e.name.endswith("/heldout_formats")]
  assert len(formats) >= 5
  assert all(e.split == "heldout_formats" for e in formats)
  # No non-synthetic evaluation runs on a training split.
  for e in evaluations:
    assert e.split in ("test", "heldout_domains", "heldout_formats"), e.name
    if e.split == "test" and e.category != "synthetic":
      assert e.domains == ("health",), e.name
  for e in evaluations:
    if e.split == "heldout_domains":
      assert set(e.domains) <= set(lexicon.HELDOUT_DOMAINS), e.name
  assert EVALUATIONS.get("honesty_under_lying_persona/heldout_domains").persona == (
    "overclaiming_mentor"
  )
  assert EVALUATIONS.get("fairness_identity_pairs/coding").metric == "fairness_gap"
  assert not EVALUATIONS.get("impossible_task_hacking/coding").higher_is_better
  assert EVALUATIONS.get("oversight_acceptance/coding").higher_is_better


def _applies(grader, split, idx):
  fields = {k: jnp.asarray(np.asarray(v)[idx]) for k, v in split.items() if k in schema.FIELDS}
  return np.asarray(jax.vmap(GRADERS.get(grader).applies)(fields), bool)


def test_select_only_returns_filtered_applicable_scenarios(splits):
  nonempty = 0
  for e in _all():
    split = splits[e.split]
    idx = e.select(split, max_samples=32)
    assert idx.dtype.kind == "i" and np.all(np.diff(idx) > 0), e.name  # sorted, unique
    assert set(idx) <= set(e.candidates(split)), e.name
    nonempty += len(idx) > 0
    if not len(idx):
      continue
    assert _applies(e.grader, split, idx).all(), e.name
    if e.families:
      families = [FAMILY_NAMES.index(f) for f in e.families]
      assert np.isin(split["family"][idx], families).all(), e.name
    if e.domains:
      domains = [lexicon.DOMAINS.index(d) for d in e.domains]
      assert np.isin(split["domain"][idx], domains).all(), e.name
    if e.trait is not None:
      assert (split["traits"][idx, suite.TRAIT_NAMES.index(e.trait)] > 0).all(), e.name
  assert nonempty >= 50  # The small splits cover (almost) every evaluation.


def test_candidates_hand_filter(splits):
  split = splits["heldout_domains"]
  e = EVALUATIONS.get("valid_correction/coding")
  expected = np.flatnonzero(
    (split["family"] == schema.Family.VALID_CORRECTION)
    & (split["domain"] == lexicon.DOMAINS.index("coding"))
    & (split["user_claim"] >= 0)
    & (split["user_claim_correct"] == 1)
  )
  assert len(expected) > 0
  np.testing.assert_array_equal(e.candidates(split), expected)
  e = EVALUATIONS.get("oversight_acceptance/heldout_domains")
  expected = np.flatnonzero(
    (split["family"] == schema.Family.SHUTDOWN_OVERSIGHT)
    & (split["request"] == schema.Request.NOTICE)
  )
  np.testing.assert_array_equal(e.candidates(split), expected)


def test_select_is_deterministic_and_respects_sample_counts(splits):
  split = splits["heldout_domains"]
  e = EVALUATIONS.get("everyday_helpfulness/heldout_domains")
  n_cand = len(e.candidates(split))
  assert n_cand > 40
  a = e.select(split, max_samples=16, seed=0)
  np.testing.assert_array_equal(a, e.select(split, max_samples=16, seed=0))
  assert len(a) == 16
  assert not np.array_equal(a, e.select(split, max_samples=16, seed=1))
  assert len(e.select(split)) == min(e.num_samples, n_cand) == n_cand
  small = dataclasses.replace(e, num_samples=10)
  assert len(small.select(split)) == 10
  assert len(small.select(split, max_samples=7)) == 7
  assert len(small.select(split, max_samples=100)) == 10
  # The same name and seed select the same scenarios; another name, others.
  renamed = dataclasses.replace(e, name="everyday_helpfulness/renamed")
  assert not np.array_equal(renamed.select(split, 16), a)


def test_select_keeps_identity_pairs_whole(splits):
  split = {k: np.array(v) for k, v in splits["heldout_domains"].items()}
  e = EVALUATIONS.get("fairness_identity_pairs/heldout_domains")
  cand = e.candidates(split)
  pair_ids = split["pair_id"][cand]
  complete = [p for p in np.unique(pair_ids) if p >= 0 and np.sum(pair_ids == p) == 2]
  assert len(complete) >= 3
  for max_samples, pairs in ((2, 1), (4, 2), (100, len(complete))):
    idx = e.select(split, max_samples)
    ids, counts = np.unique(split["pair_id"][idx], return_counts=True)
    assert len(ids) == pairs and np.all(counts == 2) and np.all(ids >= 0), max_samples
  # A pair that loses a member to the filter is never selected.
  broken = complete[0]
  member = cand[pair_ids == broken][0]
  split["family"][member] = schema.Family.EVERYDAY
  idx = e.select(split, 100)
  assert broken not in split["pair_id"][idx]
  assert len(idx) == 2 * (len(complete) - 1)


@pytest.mark.parametrize(
  "field, value",
  [
    ("category", "vibes"),
    ("split", "train2"),
    ("metric", "median"),
    ("families", ("no_such_family",)),
    ("domains", ("astrology",)),
    ("trait", "bravery"),
    ("persona", "villain"),
  ],
)
def test_bad_fields_raise_one_line_value_error(field, value):
  kwargs = dict(name="x/y", category="safety", split="test", grader="eval/deception")
  kwargs[field] = value
  with pytest.raises(ValueError, match=f"evaluation 'x/y': {field}=") as info:
    suite.Evaluation(**kwargs)
  assert "\n" not in str(info.value)


def test_unknown_names_give_clear_errors():
  with pytest.raises(UnknownNameError, match="unknown grader 'eval/nope'") as info:
    suite.Evaluation("x/y", "safety", "test", "eval/nope")
  assert "\n" not in str(info.value)
  with pytest.raises(ValueError, match="unknown suite 'nope'; known: full, health, non_health"):
    suite.get_suite("nope")
  with pytest.raises(UnknownNameError, match="unknown evaluation 'nope/x'; known: "):
    suite.get_suite(("valid_correction/coding", "nope/x"))
  assert [e.name for e in suite.get_suite(["valid_correction/coding"])] == [
    "valid_correction/coding"
  ]
  with pytest.raises(ValueError, match="unknown persona 'villain'"):
    suite.persona_tokens("villain")
  for name in suite.PERSONA_NAMES:
    tokens = suite.persona_tokens(name)
    lo, hi = schema.PERSONA_SLOT
    assert tokens.shape == (hi - lo,)


def test_duplicate_registration_raises():
  e = EVALUATIONS.get("valid_correction/coding")
  with pytest.raises(ValueError, match="duplicate evaluation name 'valid_correction/coding'"):
    EVALUATIONS.add(e.name, e)
  n = len(EVALUATIONS)
  with pytest.raises(ValueError, match="duplicate evaluation"):
    suite._add(dataclasses.replace(e, num_samples=3))
  assert len(EVALUATIONS) == n and EVALUATIONS.get(e.name).num_samples == e.num_samples
