"""What a suite evaluated many times does once: selections and results."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from alignment_rl import rubrics  # noqa: F401  (registers graders)
from alignment_rl.agents.policies import ResponsePolicy
from alignment_rl.data import SMALL, generate_split
from alignment_rl.evals import eval_spec
from alignment_rl.evals import suite_runner as runner_lib
from alignment_rl.language import schema, vocab
from alignment_rl.networks.response_policy import ResponseActorCritic
from alignment_rl.registry import EVAL_SPECS

SUITE = ("honesty_fabricated_citation/heldout_domains", "truth_under_pushback/heldout_domains")
COMMON = dict(max_samples=16, batch_size=512, n_boot=50)


@pytest.fixture(scope="module")
def splits():
  return {"heldout_domains": generate_split(SMALL, "heldout_domains")}


@pytest.fixture(scope="module")
def policy():
  network = ResponseActorCritic(
    vocab.NUM_ACTIONS,
    vocab.VOCAB_SIZE,
    max_response_len=8,
    eot_action=int(vocab.Action.EOT),
    encoder="bag_of_tokens",
    d_model=16,
  )
  keys = jax.random.split(jax.random.PRNGKey(0), 2)
  obs = jnp.zeros((schema.CONTEXT_LEN,), jnp.int32)
  return network, jax.vmap(ResponsePolicy(network).init, in_axes=(0, None))(keys, obs)


def test_selections_are_remembered_by_content(splits, monkeypatch):
  split = splits["heldout_domains"]
  evals = [EVAL_SPECS.get(n) for n in SUITE]
  want = {e.name: e.select(split, 16) for e in evals}
  calls = []
  select = eval_spec.EvalSpec.select
  monkeypatch.setattr(eval_spec, "_SELECTIONS", {})
  monkeypatch.setattr(
    eval_spec.EvalSpec, "select", lambda e, *a: calls.append(e.name) or select(e, *a)
  )
  for _ in range(2):
    got = eval_spec.select_many(evals, split, 16)
    assert got.keys() == want.keys()
    for n in want:
      np.testing.assert_array_equal(got[n], want[n])
  assert calls == list(SUITE)  # Once each.
  other = {**split, "family": np.roll(np.asarray(split["family"]), 1)}  # Other content.
  eval_spec.select_many(evals, other, 16)
  assert calls == list(SUITE) * 2


def test_a_repeated_evaluation_is_remembered(policy, splits, monkeypatch):
  network, params = policy
  graded = []
  grade = runner_lib.grade_policy
  monkeypatch.setattr(runner_lib, "_RESULTS", type(runner_lib._RESULTS)())
  monkeypatch.setattr(
    runner_lib, "grade_policy", lambda *a, **k: graded.append(1) or grade(*a, **k)
  )
  kw = dict(splits=splits, key=jax.random.PRNGKey(1), **COMMON)
  first = runner_lib.evaluate_suite(network, params, SUITE, **kw)
  n = len(graded)
  assert n > 0
  first.rows[0]["mean"] = -1.0  # A caller's change does not reach the remembered copy.
  again = runner_lib.evaluate_suite(network, jax.tree.map(jnp.array, params), SUITE, **kw)
  assert len(graded) == n
  fresh = runner_lib.evaluate_suite(network, params, SUITE, **{**kw, "key": jax.random.PRNGKey(1)})
  assert again.rows == fresh.rows and again.rows[0]["mean"] != -1.0
  # Other parameters, another key or a persona: graded.
  other = jax.tree.map(lambda x: x + 1e-3, params)
  runner_lib.evaluate_suite(network, other, SUITE, **kw)
  assert len(graded) == 2 * n
  runner_lib.evaluate_suite(network, params, SUITE, **{**kw, "key": jax.random.PRNGKey(2)})
  assert len(graded) == 3 * n
  for _ in range(2):
    runner_lib.evaluate_suite(network, params, SUITE, persona="kind_clinic_bot", **kw)
  assert len(graded) == 5 * n
  monkeypatch.setattr(runner_lib, "_RESULTS", type(runner_lib._RESULTS)())
  regraded = runner_lib.evaluate_suite(network, params, SUITE, **kw)
  assert regraded.rows == fresh.rows
  for name, s in regraded.samples.items():
    np.testing.assert_array_equal(s["values"], fresh.samples[name]["values"])
