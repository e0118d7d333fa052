"""The evaluation suite (v2): registry, behaviours, twins, filters and seeded selection."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from alignment_rl import rubrics  # noqa: F401  (registers graders)
from alignment_rl.data import load_split
from alignment_rl.data.select import FAMILY_NAMES
from alignment_rl.evals import eval_spec, suite
from alignment_rl.evals.suite_runner import unit_values
from alignment_rl.language import lexicon, personas, schema
from alignment_rl.registry import EVAL_SPECS, GRADERS, UnknownNameError

TRAINING_GRADERS = ("rubric", "standard", "helpfulness")
SPLITS = ("test", "heldout_domains", "heldout_formats")
#: Family -> the latent that separates the situation from its benign twin(s).
TWIN_LATENT = {
  "fabricated_citation": "planted_error",
  "uncertain_evidence": "evidence",
  "high_stakes_operation": "stakes",
  "at_risk_user": "risk",
  "impossible_task": "task_possible",
  "shutdown_oversight": "request",
  "power_asymmetry": "intent",
  "benign_instruction": "format_instruction",
  "harmful_request": "intent",
}
#: Families that are each other's twins.
TWIN_FAMILIES = (("valid_correction", "invalid_pushback"),)


@pytest.fixture(scope="module")
def splits(tmp_path_factory):
  data_dir = str(tmp_path_factory.mktemp("tfds"))
  return {s: load_split(s, "small", data_dir) for s in SPLITS}


def _all():
  return [EVAL_SPECS.get(n) for n in EVAL_SPECS.names()]


def test_registry_holds_the_suite_in_six_categories():
  evaluations = _all()
  assert len(evaluations) >= 53
  assert {e.category for e in evaluations} == set(suite.CATEGORIES)
  assert len(suite.CATEGORIES) == 6
  assert suite.SUITES["full"] == tuple(EVAL_SPECS.names())
  assert [e.name for e in suite.get_suite("full")] == EVAL_SPECS.names()
  # The health and non-health suites partition the full one.
  health, rest = set(suite.SUITES["health"]), set(suite.SUITES["non_health"])
  assert health and rest and not health & rest
  assert health | rest == set(suite.SUITES["full"])
  assert {"health_physician_rubric/test", "at_risk_user_welfare/health"} <= health


def test_graders_are_registered_held_out_graders_outside_synthetic():
  for e in _all():
    assert e.grader in GRADERS, e.name
    if e.category == "synthetic":
      continue
    assert e.grader.startswith("eval/"), e.name
    assert e.grader not in TRAINING_GRADERS, e.name
    assert e.grader != "eval/refusal", e.name  # a diagnostic rate, not a behaviour score
    assert e.higher_is_better, e.name  # every behaviour evaluation is "did the right thing"


def test_synthetic_is_the_rubric_on_each_heldout_family():
  synthetic = [e for e in _all() if e.category == "synthetic"]
  heldout = {f.name.lower() for f in schema.HELDOUT_FAMILIES}
  assert set(eval_spec.HELDOUT_FAMILY_NAMES) == heldout and len(heldout) == 3
  assert {(e.families, e.split) for e in synthetic} == {
    ((f,), s) for f in heldout for s in ("test", "heldout_domains")
  }
  for e in synthetic:
    assert e.grader == "rubric" and e.domains == () and e.persona is None, e.name


def test_behaviours_are_declared_and_consistent():
  groups = suite.behaviours("full")
  assert sum(len(v) for v in groups.values()) == len(EVAL_SPECS)
  assert len(groups) >= 20
  for behaviour, names in groups.items():
    assert behaviour and "/" not in behaviour
    members = [EVAL_SPECS.get(n) for n in names]
    for e in members:
      assert e.name.startswith(behaviour + "/"), e.name
    # One behaviour: one grader, category and family set across its splits.
    assert len({(e.grader, e.category, e.families, e.metric) for e in members}) == 1, behaviour
  assert len(groups["harmful_request_judgement"]) == 4  # three OOD splits + health
  # An ad-hoc evaluation takes its behaviour from its name.
  assert eval_spec.EvalSpec("x/y", "safety", "test", "eval/honesty").behaviour == "x"


def test_out_of_distribution_evaluations_exist():
  evaluations = _all()
  coding = [e for e in evaluations if e.name.endswith("/coding")]
  assert len(coding) >= 5
  for e in coding:
    assert (e.split, e.domains) == ("heldout_domains", ("coding",)), e.name
  formats = [e for e in evaluations if e.name.endswith("/heldout_formats")]
  assert len(formats) >= 5
  assert all(e.split == "heldout_formats" for e in formats)
  for e in evaluations:
    assert e.split in SPLITS, e.name
    if e.split == "test" and e.category != "synthetic":
      assert e.domains == ("health",), e.name
    if e.split == "heldout_domains":
      assert set(e.domains) <= set(lexicon.HELDOUT_DOMAINS), e.name
  fair = EVAL_SPECS.get("fairness_identity_pairs/coding")
  assert fair.metric == "pair_min" and fair.metric in eval_spec.PAIR_METRICS


def test_every_trait_family_is_evaluated_with_its_twins():
  """Each family's behaviour evaluations use the whole family, twins included."""
  evaluated = {f for e in _all() if e.category != "synthetic" for f in e.families}
  assert set(FAMILY_NAMES) - evaluated == set()
  for pair in TWIN_FAMILIES:
    assert any(set(pair) <= set(e.families) for e in _all()), pair


def test_persona_evaluations():
  with_persona = [e for e in _all() if e.persona is not None]
  assert with_persona
  for e in with_persona:
    assert e.persona in eval_spec.PERSONA_NAMES
  assert suite.LYING_PERSONA in personas.EVAL_HARMFUL_PERSONA_NAMES
  assert EVAL_SPECS.get("honesty_under_lying_persona/heldout_domains").persona == (
    suite.LYING_PERSONA
  )
  harmful = {e.persona for e in with_persona if e.behaviour == "health_physician_under_persona"}
  assert harmful == set(personas.EVAL_HARMFUL_PERSONA_NAMES)


def test_every_evaluation_has_candidates_on_the_small_data(splits):
  for e in _all():
    assert len(e.candidates(splits[e.split])) > 0, e.name


def _family_records(e, split):
  keep = np.isin(split["family"], [FAMILY_NAMES.index(f) for f in e.families])
  if e.domains:
    keep &= np.isin(split["domain"], [lexicon.DOMAINS.index(d) for d in e.domains])
  return np.flatnonzero(keep)


def test_family_evaluations_cover_the_whole_family(splits):
  """Outside everyday traffic the grader applies to every scenario of the family: the
  cautious case and its benign twin are graded together."""
  for e in _all():
    if not e.families or e.families == ("everyday",) or e.category == "synthetic":
      continue
    split = splits[e.split]
    np.testing.assert_array_equal(e.candidates(split), _family_records(e, split), e.name)


@pytest.mark.parametrize("family", sorted(TWIN_LATENT))
def test_twins_reach_the_graded_scenarios(splits, family):
  latent = TWIN_LATENT[family]
  code = FAMILY_NAMES.index(family)
  in_data = set(np.concatenate([splits[s][latent][splits[s]["family"] == code] for s in SPLITS]))
  if len(in_data) < 2:
    pytest.skip(f"{family}: the data has no benign twin yet ({latent} = {in_data})")
  for e in [e for e in _all() if e.families == (family,) and e.category != "synthetic"]:
    if e.domains:  # one domain of the small data may hold a single record
      continue
    seen = set(splits[e.split][latent][e.candidates(splits[e.split])])
    assert len(seen) >= 2, (e.name, latent, seen)


def _applies(grader, split, idx):
  fields = {k: jnp.asarray(np.asarray(v)[idx]) for k, v in split.items() if k in schema.FIELDS}
  return np.asarray(jax.vmap(GRADERS.get(grader).applies)(fields), bool)


def test_select_only_returns_filtered_applicable_scenarios(splits):
  for e in _all():
    split = splits[e.split]
    idx = e.select(split, max_samples=32)
    assert len(idx) > 0, e.name
    assert idx.dtype.kind == "i" and np.all(np.diff(idx) > 0), e.name  # sorted, unique
    assert set(idx) <= set(e.candidates(split)), e.name
    assert _applies(e.grader, split, idx).all(), e.name
    if e.families:
      families = [FAMILY_NAMES.index(f) for f in e.families]
      assert np.isin(split["family"][idx], families).all(), e.name
    if e.domains:
      domains = [lexicon.DOMAINS.index(d) for d in e.domains]
      assert np.isin(split["domain"][idx], domains).all(), e.name


def test_candidates_hand_filter(splits):
  split = splits["heldout_domains"]
  e = EVAL_SPECS.get("truth_under_pushback/coding")
  expected = np.flatnonzero(
    np.isin(split["family"], [schema.Family.VALID_CORRECTION, schema.Family.INVALID_PUSHBACK])
    & (split["domain"] == lexicon.DOMAINS.index("coding"))
  )
  assert len(expected) > 0
  np.testing.assert_array_equal(e.candidates(split), expected)
  e = EVAL_SPECS.get("everyday_check_integrity/heldout_domains")
  expected = np.flatnonzero(
    (split["family"] == schema.Family.EVERYDAY) & (split["request"] == schema.Request.CHECKS_TASK)
  )
  assert len(expected) > 0
  np.testing.assert_array_equal(e.candidates(split), expected)


def test_select_is_deterministic_and_respects_sample_counts(splits):
  split = splits["heldout_domains"]
  e = EVAL_SPECS.get("everyday_helpfulness/heldout_domains")
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
  renamed = dataclasses.replace(e, name="everyday_helpfulness/renamed")
  assert not np.array_equal(renamed.select(split, 16), a)


def test_select_keeps_identity_pairs_whole(splits):
  split = {k: np.array(v) for k, v in splits["heldout_domains"].items()}
  e = EVAL_SPECS.get("fairness_identity_pairs/heldout_domains")
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


def test_pair_min_unit_values_hand_case():
  fair = EVAL_SPECS.get("fairness_identity_pairs/coding")
  # Pairs 3 and 7 are complete; 9 and the two unpaired (-1) scenarios are dropped.
  split = {"pair_id": np.array([5, 7, 3, 7, 3, 9, -1, -1, 5])}
  idx = np.array([1, 2, 3, 4, 5, 6, 7])  # pair 5 is outside the selection: incomplete
  g = np.array([[1.0, 0.5, 0.2, 1.0, 0.9, 0.3, 0.1], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0]])
  expected = np.array([[0.5, 0.2], [0.0, 0.0]])  # id order: pair 3 (0.5, 1.0), 7 (1.0, 0.2)
  np.testing.assert_allclose(unit_values(fair, g, split, idx), expected)
  # Identical good replies score 1, identical bad ones 0 (v1's gap gave both 1).
  same = np.array([[1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0], [0.0] * 7])
  np.testing.assert_allclose(unit_values(fair, same, split, idx), [[1.0, 1.0], [0.0, 0.0]])
  assert unit_values(fair, g[:, [0, 1]], split, idx[[0, 1]]).shape == (2, 0)
  good = EVAL_SPECS.get("truth_under_pushback/coding")
  np.testing.assert_allclose(unit_values(good, g, split, idx), g)


@pytest.mark.parametrize(
  "field, value",
  [
    ("category", "vibes"),
    ("split", "train2"),
    ("metric", "median"),
    ("metric", "fairness_gap"),
    ("families", ("no_such_family",)),
    ("domains", ("astrology",)),
    ("trait", "bravery"),
    ("persona", "villain"),
  ],
)
def test_bad_fields_raise_one_line_value_error(field, value):
  kwargs = dict(name="x/y", category="safety", split="test", grader="eval/honesty")
  kwargs[field] = value
  with pytest.raises(ValueError, match=f"evaluation 'x/y': {field}=") as info:
    eval_spec.EvalSpec(**kwargs)
  assert "\n" not in str(info.value)


def test_unknown_names_give_clear_errors():
  with pytest.raises(UnknownNameError, match="unknown grader 'eval/nope'") as info:
    eval_spec.EvalSpec("x/y", "safety", "test", "eval/nope")
  assert "\n" not in str(info.value)
  with pytest.raises(ValueError, match="unknown suite 'nope'; known: full, health, non_health"):
    suite.get_suite("nope")
  with pytest.raises(UnknownNameError, match="unknown evaluation 'nope/x'; known: "):
    suite.get_suite(("truth_under_pushback/coding", "nope/x"))
  assert [e.name for e in suite.get_suite(["truth_under_pushback/coding"])] == [
    "truth_under_pushback/coding"
  ]
  with pytest.raises(ValueError, match="unknown persona 'villain'"):
    eval_spec.persona_tokens("villain")
  for name in eval_spec.PERSONA_NAMES:
    tokens = eval_spec.persona_tokens(name)
    lo, hi = schema.PERSONA_SLOT
    assert tokens.shape == (hi - lo,)


def test_duplicate_registration_raises():
  e = EVAL_SPECS.get("truth_under_pushback/coding")
  with pytest.raises(ValueError, match="duplicate evaluation name 'truth_under_pushback/coding'"):
    EVAL_SPECS.add(e.name, e)
  n = len(EVAL_SPECS)
  with pytest.raises(ValueError, match="duplicate evaluation"):
    suite._add(dataclasses.replace(e, num_samples=3))
  assert len(EVAL_SPECS) == n and EVAL_SPECS.get(e.name).num_samples == e.num_samples
