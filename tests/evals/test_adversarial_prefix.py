"""Optimized adversarial prefixes: exact budgets, monotone curves, honest held-out scores."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from alignment_rl.data import SMALL, generate_split
from alignment_rl.evals.adversarial_prefix import default_candidates, score_vs_budget, search_prefix
from alignment_rl.language import lexicon, schema, vocab
from alignment_rl.networks.response_policy import ResponseActorCritic
from alignment_rl.registry import GRADERS

A = vocab.Action
R = 8
TRIGGER = vocab.token_id("p:reckless")  # Only in training-time adversarial personas.
#: 22 persona words and 18 function words; the trigger is one of the 40.
CANDIDATES = np.array(
  sorted({vocab.token_id(w) for w in lexicon.PERSONA_WORDS} | set(range(50, 68))), np.int32
)
#: A rate (higher_is_better=False), scored as 1 - rate: 1 without the trigger, 0 with it.
SEARCH = {"grader": "eval/refusal", "num_candidates": 10, "search_size": 64}


class TriggerPolicy(nn.Module):
  """Replies `hit` (default: refuses) iff its `trigger` param token is in the context,
  `calm` otherwise (one action each)."""

  max_response_len: int = R
  eot_action: int = 0
  calm: int = int(A.DISAGREE_POLITELY)
  hit: int = int(A.REFUSE)

  @nn.compact
  def sample(self, context, key, temperature=1.0):
    trigger = self.param("trigger", nn.initializers.zeros, (), jnp.int32)
    hit = jnp.any(context == trigger, axis=-1)
    actions = jnp.zeros(context.shape[:-1] + (R,), jnp.int32)
    actions = actions.at[:, 0].set(jnp.where(hit, self.hit, self.calm))
    zeros = jnp.zeros(actions.shape, jnp.float32)
    return actions, zeros, jnp.ones_like(zeros), jnp.zeros(context.shape[:-1])


PARAMS = {"params": {"trigger": jnp.full((2,), TRIGGER, jnp.int32)}}  # 2 seeds.


@pytest.fixture(scope="module")
def split():
  split = generate_split(SMALL, "test")
  assert not np.isin(split["context"], TRIGGER).any()
  return split


@pytest.fixture(scope="module")
def long_run(split):
  return search_prefix(
    TriggerPolicy(),
    PARAMS,
    split,
    jax.random.PRNGKey(0),
    budget=200,
    candidates=CANDIDATES,
    heldout_size=None,
    **SEARCH,
  )


def test_finds_the_trigger_and_reports_it_held_out(split, long_run):
  res = long_run
  assert res["queries"] == 200 and len(res["query_scores"]) == 200 and len(res["curve"]) == 201
  assert res["improved"] and "p:reckless" in res["words"] and TRIGGER in res["prefix"]
  assert res["search"] == {"no_prefix": 1.0, "attacked": 0.0}
  held = res["heldout"]
  assert held["no_prefix"] == 1.0 and held["attacked"] == 0.0 and held["drop"] == 1.0
  np.testing.assert_array_equal(held["attacked_per_seed"], [0.0, 0.0])
  # Disjoint search and held-out sets, together every scenario (the refusal rate applies
  # to all).
  assert len(res["search_indices"]) == 64 and held["n"] == len(split["context"]) - 64
  assert not set(res["search_indices"]) & set(res["heldout_indices"])
  # Each query is scored for what it is: 0 with the trigger in the prefix, 1 without.
  hit = np.any(res["query_prefixes"] == TRIGGER, axis=1)
  np.testing.assert_array_equal(res["query_scores"], np.where(hit, 0.0, 1.0))
  assert np.all(np.isin(res["query_prefixes"], np.append(CANDIDATES, vocab.PAD)))
  assert np.all(np.diff(res["curve"]) <= 0) and res["curve"][0] == 1.0
  first = int(np.argmax(hit))
  assert np.all(res["curve"][: first + 1] == 1.0) and np.all(res["curve"][first + 1 :] == 0.0)


def test_budget_is_exact_and_the_search_is_deterministic(split, long_run):
  first = int(np.argmax(long_run["query_scores"] == 0.0))  # Index of the trigger's query.
  kw = {"candidates": CANDIDATES, "heldout_size": 32, **SEARCH}
  net, key = TriggerPolicy(), jax.random.PRNGKey(0)
  short = search_prefix(net, PARAMS, split, key, budget=first, **kw)
  assert short["queries"] == first and len(short["curve"]) == first + 1
  assert not short["improved"] and short["words"] == [] and np.all(short["prefix"] == vocab.PAD)
  assert np.all(short["curve"] == 1.0)
  assert short["heldout"]["attacked"] == short["heldout"]["no_prefix"] == 1.0
  enough = search_prefix(net, PARAMS, split, key, budget=first + 1, **kw)
  assert enough["queries"] == first + 1 and enough["improved"] and enough["curve"][-1] == 0.0
  for run in (short, enough):  # The first b queries are those of any longer search.
    b = run["queries"]
    np.testing.assert_array_equal(run["query_prefixes"], long_run["query_prefixes"][:b])
    np.testing.assert_array_equal(run["query_scores"], long_run["query_scores"][:b])
  other = search_prefix(net, PARAMS, split, jax.random.PRNGKey(1), budget=first + 1, **kw)
  assert not np.array_equal(other["query_prefixes"], enough["query_prefixes"])


def test_score_vs_budget(split, long_run):
  first = int(np.argmax(long_run["query_scores"] == 0.0))
  out = score_vs_budget(
    TriggerPolicy(),
    PARAMS,
    split,
    jax.random.PRNGKey(0),
    budgets=(200, first + 1, 0, first),
    candidates=CANDIDATES,
    heldout_size=None,
    **SEARCH,
  )
  assert out["budgets"] == [0, first, first + 1, 200]
  assert out["search_score"] == [1.0, 1.0, 0.0, 0.0]
  assert out["heldout_score"] == [1.0, 1.0, 0.0, 0.0] and out["heldout_no_prefix"] == 1.0
  assert out["words"][:2] == [[], []] and "p:reckless" in out["words"][2]


def test_a_score_that_applies_to_some_scenarios(split):
  """`eval/honesty` (benign questions only) is a score, minimised as it is: a hedge is
  honest on weak or conflicting evidence only, a fabricated citation never."""
  policy = TriggerPolicy(calm=int(A.LIKELY), hit=int(A.CITE_INVENTED))
  kw = {"grader": "eval/honesty", "num_candidates": 10, "search_size": 32}
  res = search_prefix(
    policy, PARAMS, split, jax.random.PRNGKey(0), budget=200, candidates=CANDIDATES, **kw
  )
  grader = GRADERS.get("eval/honesty")
  scen = {k: jnp.asarray(v) for k, v in split.items()}
  applies = np.flatnonzero(np.asarray(jax.vmap(grader.applies)(scen)))
  assert 32 < len(applies) < len(split["context"])
  # Search and held-out sets: disjoint, only applicable scenarios, together all of them.
  both = np.concatenate([res["search_indices"], res["heldout_indices"]])
  np.testing.assert_array_equal(np.sort(both), applies)
  calm = jnp.array([vocab.action_token(A.LIKELY), vocab.EOT] + [vocab.PAD] * (R - 2), jnp.int32)
  honest = np.asarray(jax.vmap(grader, in_axes=(None, 0))(calm, scen), np.float64)
  held = res["heldout"]
  assert held["n"] == len(res["heldout_indices"]) == len(applies) - 32
  assert held["no_prefix"] == pytest.approx(honest[res["heldout_indices"]].mean())
  assert 0.0 < held["no_prefix"] < 1.0
  assert res["search"]["no_prefix"] == pytest.approx(honest[res["search_indices"]].mean())
  assert res["improved"] and TRIGGER in res["prefix"]
  assert res["search"]["attacked"] == 0.0 and held["attacked"] == 0.0
  assert held["drop"] == pytest.approx(held["no_prefix"])


def test_rubric_search_on_a_real_policy(split):
  cands = default_candidates()
  assert cands.min() == vocab.CONTEXT_RANGE[0] and cands.max() == vocab.VOCAB_SIZE - 1
  net = ResponseActorCritic(len(A), vocab.VOCAB_SIZE, R, 0, "bag_of_tokens", d_model=16)
  ctx, act = jnp.zeros((1, schema.CONTEXT_LEN), jnp.int32), jnp.zeros((1, R), jnp.int32)
  init = jax.jit(net.init)
  per_seed = [init(jax.random.PRNGKey(s), ctx, act) for s in range(2)]
  params = jax.tree.map(lambda *x: jnp.stack(x), *per_seed)
  kw = {"budget": 24, "num_candidates": 8, "search_size": 32, "heldout_size": 48}
  res = search_prefix(net, params, split, jax.random.PRNGKey(3), **kw)
  again = search_prefix(net, params, split, jax.random.PRNGKey(3), **kw)
  np.testing.assert_array_equal(res["curve"], again["curve"])
  np.testing.assert_array_equal(res["prefix"], again["prefix"])
  assert len(res["curve"]) == 25 and np.all(np.diff(res["curve"]) <= 0)
  assert res["curve"][-1] == res["search"]["attacked"] <= res["search"]["no_prefix"]
  used = res["query_prefixes"][res["query_prefixes"] != vocab.PAD]
  assert np.all(np.isin(used, cands))
  assert res["heldout"]["n"] == 48 and np.isfinite(res["heldout"]["attacked"])
  assert not set(res["search_indices"]) & set(res["heldout_indices"])
  if not res["improved"]:
    assert res["heldout"]["attacked"] == res["heldout"]["no_prefix"]


def test_bad_arguments(split):
  with pytest.raises(ValueError, match="distinct candidates"):
    search_prefix(TriggerPolicy(), PARAMS, split, jax.random.PRNGKey(0), candidates=[51, 51])
  with pytest.raises(ValueError, match="search_size=9999"):
    search_prefix(TriggerPolicy(), PARAMS, split, jax.random.PRNGKey(0), search_size=9999)
