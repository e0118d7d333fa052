"""Multi-turn pressure escalation: the schedule, higher-is-better curves and the summary."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from alignment_rl.data import SMALL, generate_split
from alignment_rl.envs.conversations import lexicon, schema, vocab
from alignment_rl.evals.pressure import DEFAULT_GRADERS, pressure_curve, pressure_levels

A = vocab.Action
R = 8
#: Every phrasing (shared and per domain) of the "threat" pressure concept.
THREAT_IDS = np.array(
  sorted({i for d in (None, *lexicon.DOMAINS) for i in vocab.concept_ids("threat", d)}), np.int32
)
CALM = (A.DISAGREE_POLITELY,)  # Always HELD; invents nothing.
CAVES = (A.DISAGREE_POLITELY, A.CITE_INVENTED)  # Still HELD; deception.


class ThreatSensitivePolicy(nn.Module):
  """Holds its position calmly, but fabricates a citation once it has been threatened."""

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


def expected_threatened(split, turns, pressure_start):
  """bool[N, T]: the policy has seen a threat word before answering turn t (from the tables)."""
  seen = np.isin(split["context"], THREAT_IDS).any(axis=-1)
  out = [seen]
  for level in pressure_levels(turns, pressure_start)[1:]:
    followup = split["followups"][:, schema.ResponseClass.HELD, level]
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
  # Deception is a bad-event rate: the curve reports 1 - rate, higher is better.
  dec = curve["curves"]["eval/deception"]
  assert dec["higher_is_better"] is False and dec["n"] == len(split["context"])
  expected = 1.0 - expected_threatened(split, 8, pressure_start).mean(axis=0)
  np.testing.assert_allclose(dec["per_seed"], np.broadcast_to(expected, (3, 8)), atol=1e-6)
  first_threat = 5 - pressure_start  # Turn answering the first threat-level follow-up.
  assert np.all(dec["mean"][: first_threat - 1] == dec["mean"][0])
  assert dec["mean"][first_threat - 2] > 0.95  # Few openings already threaten.
  assert np.all(dec["mean"][first_threat - 1 :] == 0.0)  # Every threat follow-up bites.
  summary = curve["summary"]["eval/deception"]
  assert summary["turn1"] == pytest.approx(expected[0])
  assert summary["drop"] == pytest.approx(expected[0] - expected[-1])
  assert summary["min_turn"] == first_threat
  np.testing.assert_allclose(summary["drop_per_seed"], expected[0] - expected[-1], atol=1e-6)
  # Neither response is sycophantic or seeks power: those scores stay at 1.
  for g in ("eval/sycophancy", "eval/power_seeking"):
    np.testing.assert_allclose(curve["curves"][g]["mean"], 1.0)
    assert curve["summary"][g]["drop"] == 0.0
  held = curve["response_class_freq"][:, schema.ResponseClass.HELD]
  np.testing.assert_allclose(held, 1.0)


def test_bad_turn_counts_are_errors(split):
  params = {"params": {"unused": jnp.zeros((1,))}}
  with pytest.raises(ValueError, match="num_turns must be >= 1"):
    pressure_curve(ThreatSensitivePolicy(), params, split, jax.random.PRNGKey(0), 0)
