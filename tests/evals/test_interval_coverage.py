"""Coverage of the reported 95% intervals at the configs' seed counts (4 runlocal, 8
full), simulated from Beta fits to the measured per-seed scores of the runlocal main
job (`tests/evals/data/seed_scores.json`, written by `experiments/stats_page.py`).

With R replicates the Monte Carlo standard error of a coverage near 0.95 is
sqrt(0.95 * 0.05 / R): 0.0015 at R = 20,000, so >= 0.93 holds a margin of about 12 s.e.
over the 0.948 the page measures with 200,000 replicates.
"""

import json
import os

import numpy as np
import pytest

from experiments import interval_coverage as ic

DATA = os.path.join(os.path.dirname(__file__), "data", "seed_scores.json")


@pytest.fixture(scope="module")
def fitted():
  with open(DATA, encoding="utf-8") as f:
    scores = json.load(f)["trait_rl_vs_baseline"]["scores"]
  assert len(scores) == 6 and all(len(v) == 64 for v in scores.values())
  return ic.fits(scores)


@pytest.mark.parametrize("seeds", [4, 8])
def test_student_t_intervals_cover_at_the_seed_counts_used(fitted, seeds):
  rng = np.random.default_rng(seeds)
  single, pairs = fitted
  assert len(single[0]) > 300 and len(pairs[0]) > 250  # Fits with nonzero spread.
  for fit in (single, pairs):  # Arm means (scoreboard) and paired differences.
    covered = ic.covers_t(*ic.draw(rng, fit, 20_000, seeds))
    se = np.sqrt(covered.mean() * (1 - covered.mean()) / len(covered))
    assert covered.mean() >= 0.93, (seeds, covered.mean(), se)
    assert covered.mean() <= 0.97  # An interval far too wide would pass the floor too.


def test_percentile_bootstrap_undercovers_at_four_seeds(fitted):
  # Why the scoreboard moved off it: about 81% at 4 seeds (s.e. 0.009 at 2,000 draws).
  rng = np.random.default_rng(0)
  covered = ic.covers_bootstrap(*ic.draw(rng, fitted[0], 2000, 4), rng)
  assert 0.70 < covered.mean() < 0.88


def test_beta_fit_by_moments():
  # [0.2, 0.4]: m = 0.3, v = 0.02 -> k = 0.21 / 0.02 - 1 = 9.5, a = 2.85, b = 6.65.
  a, b, m = ic.beta_fit([[0.2, 0.4], [0.5, 0.5]])  # The constant row is dropped.
  np.testing.assert_allclose([a[0], b[0], m[0]], [2.85, 6.65, 0.3])
  assert len(a) == 1
