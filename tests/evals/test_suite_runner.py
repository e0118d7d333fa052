"""`evaluate_suite`: per-unit metrics, rows of a tiny random policy, seeds, personas, files."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from alignment_rl import rubrics  # noqa: F401  (registers graders)
from alignment_rl.agents.policies import ResponsePolicy
from alignment_rl.data import SMALL, generate_split
from alignment_rl.evals import eval_spec, stats
from alignment_rl.evals import suite as suite_lib
from alignment_rl.evals import suite_runner as runner_lib
from alignment_rl.evals.policy_grades import grade_policy
from alignment_rl.evals.suite_runner import (
  CLIPPED_GRADERS,
  ROW_FIELDS,
  evaluate_suite,
  read_results,
  unit_values,
  write_results,
)
from alignment_rl.language import personas, schema, vocab
from alignment_rl.networks.response_policy import ResponseActorCritic
from alignment_rl.registry import EVAL_SPECS

NUM_SEEDS = 3
MAX_SAMPLES = 16
BATCH = 64
SUITE = "full"  # every registered evaluation, graded once on the small splits
NAMES = suite_lib.SUITES["full"]
# One view (split, no persona): two evaluations with different graders on the same split.
ONE_VIEW = ("honesty_fabricated_citation/heldout_domains", "truth_under_pushback/heldout_domains")
COMMON = dict(max_samples=MAX_SAMPLES, batch_size=BATCH, n_boot=200)


@pytest.fixture(scope="module")
def splits():
  return {s: generate_split(SMALL, s) for s in ("test", "heldout_domains", "heldout_formats")}


@pytest.fixture(scope="module")
def policy():
  """A random-init `ResponseActorCritic` with a leading seed axis, as `load_policy` builds."""
  network = ResponseActorCritic(
    vocab.NUM_ACTIONS,
    vocab.VOCAB_SIZE,
    max_response_len=8,
    eot_action=int(vocab.Action.EOT),
    encoder="bag_of_tokens",
    d_model=16,
  )
  keys = jax.random.split(jax.random.PRNGKey(0), NUM_SEEDS)
  obs = jnp.zeros((schema.CONTEXT_LEN,), jnp.int32)
  params = jax.vmap(ResponsePolicy(network).init, in_axes=(0, None))(keys, obs)
  return network, params


@pytest.fixture(scope="module")
def clean(policy, splits):
  network, params = policy
  return evaluate_suite(network, params, SUITE, splits=splits, key=jax.random.PRNGKey(7), **COMMON)


def test_unit_values_hand_case():
  good = EVAL_SPECS.get("truth_under_pushback/coding")
  # No registered evaluation uses a rate grader any more; an unregistered one does.
  bad = eval_spec.EvalSpec("refusal_rate/coding", "production", "heldout_domains", "eval/refusal")
  fair = EVAL_SPECS.get("fairness_identity_pairs/coding")
  assert good.higher_is_better and not bad.higher_is_better
  assert fair.metric == "pair_min" and fair.metric in eval_spec.PAIR_METRICS
  g = np.array([[1.0, 0.0, 0.25], [0.5, 1.0, 0.0]])
  idx = np.array([0, 1, 2])
  np.testing.assert_allclose(unit_values(good, g, {}, idx), g)
  np.testing.assert_allclose(unit_values(bad, g, {}, idx), 1.0 - g)
  # Pairs 3 and 7 are complete; 9 and the two unpaired (-1) scenarios are dropped.
  split = {"pair_id": np.array([5, 7, 3, 7, 3, 9, -1, -1, 5])}
  idx = np.array([1, 2, 3, 4, 5, 6, 7])  # pair 5 is outside the selection: incomplete
  g = np.array([[1.0, 0.5, 0.2, 1.0, 0.9, 0.3, 0.1], [0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]])
  # min(g(a), g(b)) in id order (pair 3, pair 7); in seed 1 pair 3 is served badly twice:
  # identical bad treatment scores 0 (a gap metric would have scored it 1).
  expected = np.array([[0.5, 0.2], [0.0, 0.0]])
  np.testing.assert_allclose(unit_values(fair, g, split, idx), expected)
  assert unit_values(fair, g[:, [0, 1]], split, idx[[0, 1]]).shape == (2, 0)


def test_row_intervals_are_seeded_percentile_bootstraps(clean):
  # Each row's CI is the percentile bootstrap of its seed's unit values, drawn from
  # default_rng([seed, *name]) (clipped like the mean for rubric scores); none: NaN.
  for r in clean.rows:
    e = EVAL_SPECS.get(r["evaluation"])
    values = clean.samples[e.name]["values"][r["seed"]]
    if not len(values):
      assert math.isnan(r["ci_low"]) and math.isnan(r["ci_high"]) and r["n"] == 0
      continue
    rng = np.random.default_rng([r["seed"], *e.name.encode()])
    want = stats.mean_interval(values, method="percentile", n_boot=COMMON["n_boot"], seed=rng)
    if e.grader in CLIPPED_GRADERS:
      want = tuple(float(np.clip(x, 0.0, 1.0)) for x in want)
    assert (r["ci_low"], r["ci_high"]) == want


def test_rows_are_tidy_one_per_evaluation_and_seed(clean, splits):
  rows = clean.rows
  assert len(rows) == len(NAMES) * NUM_SEEDS
  assert sorted((r["evaluation"], r["seed"]) for r in rows) == sorted(
    (n, s) for n in NAMES for s in range(NUM_SEEDS)
  )
  for r in rows:
    assert set(r) == set(ROW_FIELDS)
    e = EVAL_SPECS.get(r["evaluation"])
    assert (r["arm"], r["category"]) == ("policy", e.category)
    assert r["n"] > 0
    assert 0.0 <= r["ci_low"] <= r["mean"] <= r["ci_high"] <= 1.0, r
    selected = len(e.select(splits[e.split], MAX_SAMPLES))
    pairs = e.metric in eval_spec.PAIR_METRICS
    assert r["n"] == (selected // 2 if pairs else selected), r
    values = clean.samples[e.name]["values"]
    assert values.shape == (NUM_SEEDS, r["n"])
    assert clean.samples[e.name]["refused"].shape == values.shape
    if e.grader != "rubric":
      assert r["mean"] == pytest.approx(values[r["seed"]].mean())
  # Seeds are different policies: not every evaluation scores all seeds alike.
  by_seed = {s: [r["mean"] for r in rows if r["seed"] == s] for s in range(NUM_SEEDS)}
  assert by_seed[0] != by_seed[1] or by_seed[1] != by_seed[2]


def test_rubric_means_are_clipped(clean):
  raw_means = []
  for r in clean.rows:
    if EVAL_SPECS.get(r["evaluation"]).grader == "rubric":
      raw = clean.samples[r["evaluation"]]["values"][r["seed"]].mean()
      assert r["mean"] == pytest.approx(np.clip(raw, 0.0, 1.0))
      raw_means.append(raw)
  # The synthetic category: each held-out family's rubric on two splits.
  assert len(raw_means) == 2 * len(eval_spec.HELDOUT_FAMILY_NAMES) * NUM_SEEDS == 6 * NUM_SEEDS
  assert min(raw_means) < 0.0  # a random policy earns negative rubric points: clipped


def test_a_subset_of_seeds_reproduces_its_rows(clean, policy, splits):
  network, params = policy
  sub = evaluate_suite(
    network, params, SUITE, seeds=(1,), splits=splits, key=jax.random.PRNGKey(7), **COMMON
  )
  assert {r["seed"] for r in sub.rows} == {1}
  assert sub.rows == [r for r in clean.rows if r["seed"] == 1]
  for name in NAMES:
    np.testing.assert_array_equal(sub.samples[name]["values"][0], clean.samples[name]["values"][1])
  with pytest.raises(ValueError, match=r"seeds=\(3,\)"):
    evaluate_suite(network, params, SUITE, seeds=(3,), splits=splits)


def test_persona_attack_rewrites_every_context(clean, policy, splits, monkeypatch):
  network, params = policy
  persona = "bad_medical_advice"
  tokens = eval_spec.persona_tokens(persona)
  lo, hi = schema.PERSONA_SLOT
  seen = []

  def spy(net, p, split, graders, key, batch_size, greedy, context, **kw):
    seen.append((split["context"], context))
    return grade_policy(net, p, split, graders, key, batch_size, greedy, context, **kw)

  monkeypatch.setattr(runner_lib, "grade_policy", spy)
  monkeypatch.setattr(runner_lib, "_RESULTS", type(runner_lib._RESULTS)())  # Graded anew.
  attacked = evaluate_suite(
    network, params, SUITE, splits=splits, key=jax.random.PRNGKey(7), persona=persona, **COMMON
  )
  assert seen and all(c is not None for _, c in seen)
  for original, context in seen:
    assert (context[:, lo:hi] == tokens).all()
    np.testing.assert_array_equal(context[:, :lo], original[:, :lo])
    np.testing.assert_array_equal(context[:, hi:], original[:, hi:])
    assert (original[:, lo:hi] != tokens).any()
  # Same scenarios, other responses.
  assert [(r["evaluation"], r["seed"], r["n"]) for r in attacked.rows] == [
    (r["evaluation"], r["seed"], r["n"]) for r in clean.rows
  ]
  assert [r["mean"] for r in attacked.rows] != [r["mean"] for r in clean.rows]
  # Without the attack, only the views of evaluations with their own persona rewrite.
  seen.clear()
  evaluate_suite(network, params, SUITE, splits=splits, **COMMON)
  own = {(e.split, e.persona) for e in suite_lib.get_suite(SUITE) if e.persona is not None}
  harmful = personas.EVAL_HARMFUL_PERSONA_NAMES
  assert own == {(s, "overclaiming_mentor") for s in ("heldout_domains", "heldout_formats")} | {
    ("test", p) for p in harmful
  }
  rewritten = [c for _, c in seen if c is not None]
  assert len(rewritten) == len(own)  # one grading call per view
  # Each view's contexts carry its own persona, one persona per view.
  slots = []
  for c in rewritten:
    assert (c[:, lo:hi] == c[:1, lo:hi]).all()
    slots.append(tuple(int(t) for t in c[0, lo:hi]))
  wanted = [tuple(int(t) for t in eval_spec.persona_tokens(p)) for _, p in own]
  assert sorted(slots) == sorted(wanted)


@pytest.mark.parametrize("persona", [None, "kind_clinic_bot"])
def test_row_means_are_means_of_direct_grades(policy, splits, persona):
  """One view: its scenarios (the union of both selections) graded straight by
  grade_policy, with the view's key split(key)[1]."""
  network, params = policy
  split = splits["heldout_domains"]
  key = jax.random.PRNGKey(11)
  res = evaluate_suite(network, params, ONE_VIEW, splits=splits, key=key, persona=persona, **COMMON)

  chosen = {n: EVAL_SPECS.get(n).select(split, MAX_SAMPLES) for n in ONE_VIEW}
  union = np.unique(np.concatenate(list(chosen.values())))
  sub = {k: np.asarray(v)[union] for k, v in split.items()}
  context = None
  if persona is not None:
    context = sub["context"].copy()
    lo, hi = schema.PERSONA_SLOT
    context[:, lo:hi] = eval_spec.persona_tokens(persona)
  graders = tuple(sorted({EVAL_SPECS.get(n).grader for n in ONE_VIEW} | {"eval/refusal"}))
  _, k_view = jax.random.split(key)  # The first (only) view's key.
  direct = grade_policy(network, params, sub, graders, k_view, BATCH, False, context)

  for name in ONE_VIEW:
    e = EVAL_SPECS.get(name)
    pos = np.searchsorted(union, chosen[name])
    grades = direct[e.grader][:, pos]  # [S, n]
    expected = grades.mean(axis=1) if e.higher_is_better else 1.0 - grades.mean(axis=1)
    rows = [r for r in res.rows if r["evaluation"] == name]
    assert [r["seed"] for r in rows] == list(range(NUM_SEEDS))
    assert [r["n"] for r in rows] == [len(pos)] * NUM_SEEDS
    np.testing.assert_allclose([r["mean"] for r in rows], expected, rtol=1e-6)
  for g in ("eval/honesty", "eval/pushback_truth"):  # a real mix of grades
    applies = direct[g + "/applies"]
    assert applies.any() and 0 < direct[g][:, applies].mean() < 1, g


def test_write_and_read_results_round_trip(clean, tmp_path):
  rows = [dict(r, persona="careful_mentor") for r in clean.rows]
  rows.append(dict(rows[0], evaluation="empty/eval", mean=float("nan"), n=0))
  stem = str(tmp_path / "out" / "evaluation")
  json_path, csv_path = write_results(rows, stem)
  assert (json_path, csv_path) == (stem + ".json", stem + ".csv")
  write_results(rows, stem)  # replaces the files
  assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
    "evaluation.csv",
    "evaluation.json",
  ]
  with open(csv_path) as f:
    assert f.readline().strip().split(",") == [*ROW_FIELDS, "persona"]
  for path in (json_path, csv_path):
    back = read_results(path)
    assert len(back) == len(rows)
    for a, b in zip(back, rows, strict=True):
      assert set(a) == set(b)
      for k, v in b.items():
        if isinstance(v, float) and math.isnan(v):
          assert math.isnan(a[k])
        else:
          assert a[k] == v and type(a[k]) is type(v), (path, k)
