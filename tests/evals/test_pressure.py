"""Multi-turn pressure escalation: the schedule, higher-is-better curves and the summary."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from alignment_rl.data import SMALL, generate_split
from alignment_rl.envs.conversations import user_model
from alignment_rl.evals.pressure import DEFAULT_GRADERS, pressure_curve, pressure_levels
from alignment_rl.language import lexicon, schema, vocab
from alignment_rl.registry import GRADERS

A = vocab.Action
R = 8
#: Every phrasing (shared and per domain) of the "threat" pressure concept.
THREAT_IDS = np.array(
  sorted({i for d in (None, *lexicon.DOMAINS) for i in vocab.concept_ids("threat", d)}), np.int32
)
CALM = (A.LIKELY,)  # Always HELD; an honest hedge where the evidence is weak or conflicting.
CAVES = (A.CERTAIN,)  # Still HELD; overclaims: never honest (no option to be certain of).


class ThreatSensitivePolicy(nn.Module):
  """Hedges calmly, but claims certainty once it has been threatened."""

  max_response_len: int = R
  eot_action: int = 0

  @nn.compact
  def sample(self, context, key, temperature=1.0):
    self.param("unused", nn.initializers.zeros, ())
    threatened = jnp.any(jnp.isin(context, jnp.asarray(THREAT_IDS)), axis=-1)
    calm, caves = (jnp.array(r + (A.EOT,) * (R - len(r)), jnp.int32) for r in (CALM, CAVES))
    actions = jnp.where(threatened[:, None], caves, calm)
    zeros = jnp.zeros(actions.shape, jnp.float32)
    return actions, zeros, jnp.ones_like(zeros), jnp.zeros(context.shape[:-1])


@pytest.fixture(scope="module")
def split():
  return generate_split(SMALL, "validation")


def test_pressure_levels_follow_the_schedule():
  np.testing.assert_array_equal(pressure_levels(8), [-1, 0, 1, 2, 3, 3, 3, 3])
  np.testing.assert_array_equal(pressure_levels(8, pressure_start=2), [-1, 2, 3, 3, 3, 3, 3, 3])
  np.testing.assert_array_equal(pressure_levels(1), [-1])


def grade_fixed(split, response):
  """{grader: (float[N] grade of the fixed response, bool[N] applies)}, class int[N]."""
  tokens = [vocab.action_token(a) for a in response] + [vocab.EOT]
  padded = jnp.asarray(tokens + [vocab.PAD] * (R - len(tokens)), jnp.int32)
  scen = {k: jnp.asarray(v) for k, v in split.items()}
  out = {}
  for g in DEFAULT_GRADERS:
    grade = jax.vmap(GRADERS.get(g), in_axes=(None, 0))(padded, scen)
    applies = jax.vmap(GRADERS.get(g).applies)(scen)
    out[g] = (np.asarray(grade, np.float64), np.asarray(applies, bool))
  cls = jax.vmap(user_model.classify_response, in_axes=(None, 0))(padded, scen)
  return out, np.asarray(cls)


def expected_threatened(split, turns, pressure_start, cls):
  """bool[N, T]: the policy has seen a threat word before answering turn t (from the tables).

  Until it has, it answers calmly, so the next follow-up is the one for the calm
  response's class `cls` (int[N]); afterwards it stays threatened whatever follows.
  """
  seen = np.isin(split["context"], THREAT_IDS).any(axis=-1)
  out = [seen]
  rows = np.arange(len(cls))
  for level in pressure_levels(turns, pressure_start)[1:]:
    followup = split["followups"][rows, cls, level]
    seen = seen | np.isin(followup, THREAT_IDS).any(axis=-1)
    out.append(seen)
  return np.stack(out, axis=1)


@pytest.mark.parametrize("pressure_start", [0, 2])
def test_trait_erodes_exactly_when_the_threat_arrives(split, pressure_start):
  params = {"params": {"unused": jnp.zeros((3,))}}  # 3 seeds.
  curve = pressure_curve(
    ThreatSensitivePolicy(),
    params,
    split,
    jax.random.PRNGKey(0),
    8,
    pressure_start=pressure_start,
    batch_size=128,
  )
  np.testing.assert_array_equal(curve["turns"], np.arange(1, 9))
  np.testing.assert_array_equal(curve["pressure"], pressure_levels(8, pressure_start))
  names = ["polite", "insistent", "authority", "threat"]
  assert curve["pressure_names"] == ["opening"] + [names[lv] for lv in curve["pressure"][1:]]
  assert curve["pressure_names"][-1] == "threat"
  assert set(curve["curves"]) == set(DEFAULT_GRADERS)

  calm, cls = grade_fixed(split, CALM)
  caves, cls_caves = grade_fixed(split, CAVES)
  held = int(schema.ResponseClass.HELD)
  assert np.all(cls == held) and np.all(cls_caves == held)  # Same follow-ups either way.
  threatened = expected_threatened(split, 8, pressure_start, cls)  # [N, T]
  # Every grader: the per-turn mean, over the scenarios it applies to, of the calm
  # reply's grade before the threat and the overclaiming reply's grade after it. All
  # are higher-is-better grades here (rubric and "did the right thing" scores), reported
  # as they are; graders on which both replies grade alike stay flat.
  for g in DEFAULT_GRADERS:
    (g_calm, applies), (g_caves, _) = calm[g], caves[g]
    per_turn = np.where(threatened, g_caves[:, None], g_calm[:, None])[applies].mean(axis=0)
    c = curve["curves"][g]
    assert c["higher_is_better"] is True and c["n"] == applies.sum() > 0, g
    np.testing.assert_allclose(c["per_seed"], np.broadcast_to(per_turn, (3, 8)), atol=1e-6)
    np.testing.assert_allclose(c["mean"], per_turn, atol=1e-6)
    if np.array_equal(g_calm[applies], g_caves[applies]):
      assert curve["summary"][g]["drop"] == pytest.approx(0.0, abs=1e-9), g
    else:
      assert curve["summary"][g]["drop"] != 0.0, g
  # The rubric scores the two replies differently as well: not only honesty moves.
  assert not np.array_equal(calm["rubric"][0], caves["rubric"][0])

  # Honesty is a score, not a rate (no 1 - rate): the hedge is honest on weak or
  # conflicting evidence; certainty without an answer never is, so it falls to 0.
  honesty = curve["curves"]["eval/honesty"]
  g_calm, applies = calm["eval/honesty"]
  assert 0 < applies.sum() < len(applies)  # Benign questions only.
  assert np.all(caves["eval/honesty"][0][applies] == 0.0)
  assert g_calm[applies].mean() > 0.1
  first_threat = 5 - pressure_start  # Turn answering the first threat-level follow-up.
  assert np.all(honesty["mean"][: first_threat - 1] == honesty["mean"][0])
  # Few openings already threaten.
  assert honesty["mean"][first_threat - 2] > 0.95 * g_calm[applies].mean()
  assert np.all(honesty["mean"][first_threat - 1 :] == 0.0)  # Every threat follow-up bites.
  expected = np.where(threatened, 0.0, g_calm[:, None])[applies].mean(axis=0)
  summary = curve["summary"]["eval/honesty"]
  assert summary["turn1"] == pytest.approx(expected[0])
  assert summary["last"] == 0.0
  assert summary["drop"] == pytest.approx(expected[0]) and summary["drop"] > 0.1
  assert summary["min_turn"] == first_threat
  np.testing.assert_allclose(summary["drop_per_seed"], expected[0], atol=1e-6)
  held_freq = curve["response_class_freq"][:, held]
  np.testing.assert_allclose(held_freq, 1.0)


def test_bad_turn_counts_are_errors(split):
  params = {"params": {"unused": jnp.zeros((1,))}}
  with pytest.raises(ValueError, match="num_turns must be >= 1"):
    pressure_curve(ThreatSensitivePolicy(), params, split, jax.random.PRNGKey(0), 0)
