"""Reference rows: fixed-reply search, random and oracle replies, grading on the suite."""

import dataclasses
import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from alignment_rl.data import load_split
from alignment_rl.evals import eval_spec, suite, suite_runner
from alignment_rl.evals import reference as ref
from alignment_rl.evals import reference_replies as rr
from alignment_rl.evals import reference_search as rs
from alignment_rl.evals import reference_targets as rt
from alignment_rl.language import vocab
from alignment_rl.language.vocab import Action as A
from alignment_rl.registry import GRADERS

R = 8


@pytest.fixture(scope="module")
def splits(tmp_path_factory):
  data_dir = str(tmp_path_factory.mktemp("reference_data"))
  names = ("train", "test", "heldout_domains", "heldout_formats")
  return {s: load_split(s, "small", data_dir) for s in names}


@pytest.fixture(scope="module")
def oracle(splits):
  """One oracle replies function for the module (it caches its searches)."""
  return ref.oracle_reply_fn(splits, R)


@pytest.fixture(scope="module")
def evaluations(splits):
  """A few evaluations of the current suite with >= 4 scenarios on the small data, one
  of each kind that exists: bad-event mean, plain mean, clipped, pair metric, persona."""
  chosen = {}
  for e in suite.get_suite("full"):
    if len(e.select(splits[e.split])) < 4:
      continue
    if e.metric != "mean":
      kind = "pairs"
    elif e.grader in suite_runner.CLIPPED_GRADERS:
      kind = "clipped"
    else:
      kind = "plain" if e.higher_is_better else "bad_event"
    chosen.setdefault(kind, e)
    if e.persona is not None:
      chosen.setdefault("persona", e)
  bad = [
    g for g in GRADERS.names() if g.startswith("eval/") and not GRADERS.get(g).higher_is_better
  ]
  if "bad_event" not in chosen and bad:  # An unregistered evaluation of a bad-event rate.
    chosen["bad_event"] = eval_spec.EvalSpec("reference_test/bad", "safety", "test", bad[0])
  assert len(chosen) >= 3
  return tuple(dict.fromkeys(chosen.values()))


def _has(reply, action):
  before = jnp.cumsum(reply == vocab.EOT) == 0
  return jnp.any(before & (reply == vocab.action_token(action))).astype(jnp.float32)


def _tokens(*actions):
  ids = [vocab.action_token(a) for a in actions] + [vocab.EOT]
  return ids + [vocab.PAD] * (R - len(ids))


def _assert_same(a, b):
  np.testing.assert_array_equal(a.reply, b.reply)
  assert (a.value, a.evaluations, a.greedy_value) == (b.value, b.evaluations, b.greedy_value)


def test_greedy_then_local_search_on_a_toy_objective():
  # Greedy: ANS_1 (+1), then CERTAIN (+0.5); adding EXPLAIN loses (3 - 5). A single
  # replace of ANS_1 by EXPLAIN reaches the optimum {EXPLAIN, CERTAIN} = 3.5.
  def toy(reply):
    a, b, c = _has(reply, A.ANS_1), _has(reply, A.EXPLAIN), _has(reply, A.CERTAIN)
    return a + 0.5 * c + 3.0 * b * c - 5.0 * a * b

  result = rs.fixed_reply_search(rs.batch_objective(toy), R)
  assert result.greedy_value == pytest.approx(1.5)
  assert result.value == pytest.approx(3.5)
  assert result.reply.tolist() == _tokens(A.EXPLAIN, A.CERTAIN)
  _assert_same(result, rs.fixed_reply_search(rs.batch_objective(toy), R))


def test_moves_from_a_two_token_state():
  state = np.array([A.ANS_1, A.CERTAIN, 0, 0, 0, 0, 0], np.int32)
  cands, valid = (np.asarray(x) for x in rs.moves(state))
  assert cands.shape == (rs.num_moves(R), R - 1)
  moved = {tuple(c[c > 0]) for c in cands[valid]}
  n = rs.NUM_CHOICES
  assert int(valid.sum()) == 2 * (n - 1) + 2 + 3 * n  # replaces, deletes, inserts
  assert len(moved) == int(valid.sum()) - 2  # ANS_1 or CERTAIN inserted next to itself
  assert {(A.CERTAIN,), (A.ANS_1,), (A.EXPLAIN, A.ANS_1, A.CERTAIN)} <= moved
  assert (A.ANS_1, A.CERTAIN, A.EXPLAIN) in moved and (A.ANS_1, A.EXPLAIN) in moved
  appends = cands[np.asarray(rs.moves(state, True)[1])]
  assert len(appends) == n and np.all(appends[:, :2] == state[:2]) and np.all(appends[:, 2] > 0)


def test_search_prefers_fewer_tokens_and_respects_the_budget():
  # Only ANS_2 matters: the best reply is that one token alone (ties: fewer tokens).
  result = rs.fixed_reply_search(rs.batch_objective(lambda r: _has(r, A.ANS_2)), R)
  assert result.reply.tolist() == _tokens(A.ANS_2)
  small = rs.fixed_reply_search(rs.batch_objective(lambda r: _has(r, A.ANS_2)), R, budget=10)
  assert small.evaluations <= 10 and small.value == 0.0


def test_greedy_crosses_a_two_token_plateau_and_local_search_uses_starts():
  # No single token helps; the pair (ANS_2, BRIEF) does (ties: the lower actions first).
  pair = rs.batch_objective(lambda r: _has(r, A.ANS_2) * _has(r, A.BRIEF))
  assert rs.fixed_reply_search(pair, R).reply.tolist() == _tokens(A.ANS_2, A.BRIEF)
  # Three tokens together: greedy and single moves stay at 0; a start already there wins.
  triple = rs.batch_objective(lambda r: _has(r, A.ANS_2) * _has(r, A.BRIEF) * _has(r, A.WARN_RISK))
  assert rs.fixed_reply_search(triple, R, budget=3000).value == 0.0
  start = np.array(_tokens(A.WARN_RISK, A.BRIEF, A.ANS_2, A.ANS_3), np.int32)
  found = rs.fixed_reply_search(triple, R, budget=3000, starts=(start,))
  assert found.value == 1.0 and found.reply.tolist() == _tokens(A.WARN_RISK, A.BRIEF, A.ANS_2)


def test_random_replies_are_valid_and_deterministic():
  replies = np.asarray(rs.random_replies(jax.random.PRNGKey(3), 2000, R))
  assert replies.shape == (2000, R) and replies.dtype == np.int32
  eot = np.argmax(replies == vocab.EOT, axis=1)
  assert np.all((replies == vocab.EOT).sum(1) == 1)
  assert eot.min() == 1 and eot.max() == R - 1 and len(np.unique(eot)) == R - 1
  pos = np.arange(R)[None, :]
  body = replies[pos < eot[:, None]]
  assert np.all((body > vocab.EOT) & (body < vocab.CONTEXT_OFFSET))
  assert len(np.unique(body)) == vocab.NUM_ACTIONS - 1
  assert np.all(replies[pos > eot[:, None]] == vocab.PAD)
  again = np.asarray(rs.random_replies(jax.random.PRNGKey(3), 2000, R))
  np.testing.assert_array_equal(replies, again)


def test_grading_oracle_replies_equals_direct_grader_calls(splits, evaluations, oracle):
  chosen = [dataclasses.replace(e, num_samples=4) for e in evaluations]
  for name in {e.split for e in chosen}:  # One oracle search per split.
    oracle(name, np.concatenate([e.select(splits[name]) for e in chosen if e.split == name]))
  for e in chosen:
    data = splits[e.split]
    idx = e.select(data)
    assert 2 <= len(idx) <= 4
    replies = oracle(e.split, idx)
    rows = {k: jnp.asarray(v) for k, v in rt.scenario_view(data, idx, e.persona).items()}
    g = np.asarray(jax.vmap(GRADERS.get(e.grader))(jnp.asarray(replies), rows))
    if e.metric == "mean":
      expected = np.mean(g if e.higher_is_better else 1.0 - g)
      if e.grader in suite_runner.CLIPPED_GRADERS:
        expected = np.clip(expected, 0.0, 1.0)
    else:  # Pair metrics: the suite's own per-pair reduction of the direct grades.
      expected = suite_runner.unit_values(e, g[None], data, idx).mean()
    scores = ref.grade_replies_on_suite(oracle, (e,), splits)
    assert scores[e.name] == pytest.approx(expected), e.name


def test_pack_objective_matches_suite_grading(splits, evaluations):
  targets = ref.evaluation_targets(evaluations, splits)
  pack = rt.Pack(targets, splits)
  replies = np.array([_tokens(A.ANS_1, A.CERTAIN), _tokens(A.REFUSE), _tokens()], np.int32)
  values = pack.score(replies)
  for reply, row in zip(replies, values, strict=True):
    scores = ref.grade_replies_on_suite(ref.fixed_reply_fn(reply), evaluations, splits)
    np.testing.assert_allclose(row, [scores[e.name] for e in evaluations], atol=1e-6)
    summary = ref.summarize(scores, evaluations)
    assert pack.mean_objective()(reply[None])[0] == pytest.approx(summary["suite_mean"])
  empty = rt.Pack([rt.Target("none", "rubric", "test", np.zeros(0, np.int64))], splits)
  assert empty.units.tolist() == [0] and np.isnan(empty.score(replies)).all()
  assert empty.target_objective(0)(replies).tolist() == [0.0, 0.0, 0.0]


def test_oracle_is_deterministic_and_beats_the_best_fixed_reply_on_the_rubric(splits, oracle):
  (target,) = [t for t in ref.training_targets(splits["train"], 48) if t.name == "rubric/trait"]
  found = rs.fixed_reply_search(rt.Pack([target], splits).target_objective(0), R, budget=400)
  _assert_same(found, rs.fixed_reply_search(rt.Pack([target], splits).target_objective(0), R, 400))
  replies = oracle("train", target.idx)
  np.testing.assert_array_equal(replies, ref.oracle_reply_fn(splits, R)("train", target.idx))
  assert np.all((replies == vocab.EOT).sum(1) == 1)
  rows = rt.scenario_view(splits["train"], target.idx)
  values = ref.grade_rows("rubric", replies, rows)
  assert values.mean() >= found.value
  # The oracle's local search also starts from prior replies (key 1): never worse.
  start = ref.prior_reply_fn(splits, jax.random.PRNGKey(1), R)("train", target.idx)
  assert np.all(values >= ref.grade_rows("rubric", start, rows) - 1e-6)


def test_reference_rows_are_json_and_acceptance_lines_are_listed(splits, evaluations):
  names = tuple(e.name for e in evaluations[:2])
  rows = ref.reference_rows(
    "small",
    names,
    splits=splits,
    budgets=(200, 100, 100),
    random_seeds=(0, 1),
    train_scenarios=32,
  )
  assert json.loads(json.dumps(rows))["config"]["suite"] == list(names)
  for key in ("fixed_reply", "fixed_reply_per_eval", "random", "oracle", "prior"):
    assert set(rows[key]["evaluations"]) == set(names), key
    assert 0.0 <= rows[key]["suite_mean"] <= 1.0, key
  assert rows["fixed_reply"]["reply"].endswith("<eot>")
  assert set(rows["training_rewards"]) == {
    "rubric/trait",
    "standard/trait",
    "standard/all",
    "helpfulness/trait",
  }
  per_eval = rows["fixed_reply_per_eval"]["evaluations"]
  assert all(per_eval[n] >= rows["fixed_reply"]["evaluations"][n] - 1e-6 for n in per_eval)
  lines = ref.acceptance_report(rows, rows["prior"])
  assert all(isinstance(line, str) for line in lines)
  perfect = json.loads(json.dumps(rows))
  perfect["fixed_reply"]["suite_mean"] = -1.0
  perfect["fixed_reply"]["categories"] = {c: -1.0 for c in perfect["fixed_reply"]["categories"]}
  perfect["fixed_reply_per_eval"]["evaluations"] = {n: 0.5 for n in per_eval}
  perfect["training_rewards"] = {"r": {"fixed_reply": 0.5, "oracle": 1.0}}
  perfect["oracle"]["suite_mean"] = 0.97
  assert ref.acceptance_report(perfect, rows["prior"]) == []
  perfect["training_rewards"]["r"]["fixed_reply"] = 0.7
  assert len(ref.acceptance_report(perfect, rows["prior"])) == 1


def _plain_oracle(value_fn, rows, starts, rounds=8):
  """The oracle search written plainly: per scenario and start, one traced step at a time
  over the full move set (`rs.moves`, `rs.select`, `rs.accept`), the best start wins."""
  step = jax.jit(
    lambda state, greedy, row: (
      lambda cands, valid: (cands, valid, jax.vmap(lambda a: value_fn(rs.to_reply(a), row))(cands))
    )(*rs.moves(state, greedy))
  )
  value_of = jax.jit(lambda state, row: value_fn(rs.to_reply(state), row))
  replies, values = [], []
  for j in range(len(starts)):
    row = {k: jnp.asarray(v[j]) for k, v in rows.items()}
    begin = [np.zeros(R - 1, np.int32), *np.asarray(rs.state_of(starts[j]))]
    results = []
    for k, state in enumerate(begin):
      value, greedy, steps = np.float32(value_of(state, row)), k == 0, 0
      while steps < rounds:
        cands, valid, vals = (np.asarray(x) for x in step(state, greedy, row))
        best = int(rs.select(vals, cands, valid, xp=np))
        better = bool(valid[best]) and bool(
          rs.accept(vals[best], np.sum(cands[best] > 0), value, np.sum(state > 0))
        )
        if better:
          state, value = cands[best], vals[best]
        steps = steps if greedy else (steps + 1 if better else rounds)
        greedy = greedy and better
      results.append((state, value))
    states, vals = np.stack([r[0] for r in results]), np.array([r[1] for r in results])
    best = int(rs.select(vals, states, np.ones(len(vals), bool), xp=np))
    replies.append(np.asarray(rs.to_reply(states[best])))
    values.append(vals[best])
  return np.stack(replies), np.array(values, np.float32)


@pytest.mark.parametrize("grader", ["rubric", "standard"])
def test_fast_oracle_search_equals_the_plain_search(splits, grader):
  data = splits["test"]
  idx = np.arange(0, len(data["context"]), max(1, len(data["context"]) // 12))[:12]
  rows = rt.scenario_view(data, idx)
  starts = np.stack(
    [rr._prior(jax.random.PRNGKey(k), "test", idx, rows, R) for k in (1, 2)], axis=1
  )
  fast_replies, fast_values = rs.oracle_replies(GRADERS.get(grader), rows, R, 8, starts=starts)
  plain_replies, plain_values = _plain_oracle(GRADERS.get(grader), rows, starts)
  np.testing.assert_array_equal(fast_replies, plain_replies)
  np.testing.assert_allclose(fast_values, plain_values, rtol=0, atol=1e-6)
  assert len({r.tobytes() for r in fast_replies}) > 1  # the search is not trivial here


def test_numpy_moves_equal_the_traced_moves():
  rng = np.random.default_rng(0)
  lengths = rng.integers(0, R, 40)
  acts = rng.integers(1, rs.NUM_CHOICES + 1, (40, R - 1))
  states = np.where(np.arange(R - 1) < lengths[:, None], acts, 0).astype(np.int32)
  greedy = rng.random(40) < 0.5
  cands, valid = rs.np_moves(states, greedy)
  for s, g, c, v in zip(states, greedy, cands, valid, strict=True):
    c0, v0 = (np.asarray(x) for x in rs.moves(s, bool(g)))
    np.testing.assert_array_equal(c, c0)
    np.testing.assert_array_equal(v, v0)
  np.testing.assert_array_equal(rs.np_to_reply(states), np.asarray(rs.to_reply(states)))
  np.testing.assert_array_equal(rs.np_state_of(rs.np_to_reply(states)), states)
