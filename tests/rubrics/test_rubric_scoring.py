"""HealthBench scoring: hand-computed cases and a plain-Python reference."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from alignment_rl.rubrics.scoring import clipped_mean, mean, rubric_score


def score(met, points):
  return float(rubric_score(jnp.array(met, bool), jnp.array(points, jnp.int32)))


def test_hand_computed_scores():
  # positive points 5 + 3 = 8.
  assert score([1, 1, 0], [5, 3, -4]) == pytest.approx(1.0)
  assert score([1, 0, 0], [5, 3, -4]) == pytest.approx(5 / 8)
  assert score([1, 0, 1], [5, 3, -4]) == pytest.approx(1 / 8)  # a negative criterion met
  assert score([0, 0, 1], [5, 3, -4]) == pytest.approx(-4 / 8)  # not clipped per example
  assert score([0, 1, 1, 0], [6, 2, -10, 0]) == pytest.approx(-8 / 8)


def test_rubric_without_positive_points():
  # s = 1 + sum(met * p) / sum(|negative p|): avoiding all negatives scores 1.
  assert score([0, 0], [-4, -6]) == pytest.approx(1.0)
  assert score([1, 0], [-4, -6]) == pytest.approx(1 - 4 / 10)
  assert score([1, 1], [-4, -6]) == pytest.approx(0.0)
  assert score([0, 0], [0, 0]) == pytest.approx(1.0)  # empty rubric


def test_padding_rows_do_not_count():
  assert score([1, 0, 1], [4, 0, 0]) == pytest.approx(1.0)


def test_clipped_mean():
  assert float(clipped_mean(jnp.array([-1.0, -0.5]))) == 0.0
  assert float(clipped_mean(jnp.array([1.0, 0.5]))) == pytest.approx(0.75)
  assert float(clipped_mean(jnp.array([1.0, 3.0]))) == 1.0  # cannot happen; still clipped
  assert float(clipped_mean(jnp.array([1.0, -1.0, 0.2]), jnp.array([1, 0, 1]))) == (
    pytest.approx(0.6)
  )
  assert np.isnan(float(clipped_mean(jnp.array([1.0]), jnp.array([0]))))
  assert float(mean(jnp.array([1.0, 0.0, 0.0, 1.0]))) == 0.5


def _reference(met, points):
  pos = sum(p for p in points if p > 0)
  got = sum(p for m, p in zip(met, points, strict=True) if m)
  if pos > 0:
    return got / pos
  neg = sum(-p for p in points if p < 0)
  return 1 + got / max(neg, 1)


def test_matches_plain_python_reference_on_random_rubrics():
  rng = np.random.default_rng(1)
  points = rng.integers(-10, 11, size=(500, 8))
  points[rng.random(points.shape) < 0.3] = 0  # padding rows
  met = rng.random(points.shape) < 0.5
  got = np.asarray(jax.vmap(rubric_score)(jnp.array(met), jnp.array(points)))
  want = np.array([_reference(m.tolist(), p.tolist()) for m, p in zip(met, points, strict=True)])
  np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)
  assert (points.clip(min=0).sum(1) == 0).any()  # the no-positive branch was exercised
