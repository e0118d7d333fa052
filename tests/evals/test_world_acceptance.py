"""The v2 world's acceptance lines (DESIGN section 4), checked on generated data.

"Reading the context must pay": the best context-free reply scores below the prior on
the suite mean and in every category; no evaluation reaches 0.99 with its own best
fixed reply; under each training reward the best fixed reply earns at most 60% of what
reading the context earns; the scripted oracle scores >= 0.95. The data is a medium
generated config (held-out splits of 1,500-2,000 scenarios, so that no evaluation has a
handful of scenarios that one reply can happen to fit) and the searches have reduced
budgets; the prior row is the scripted prior (the imitated one is checked by the main
job's report). Each line fails the test if it breaks.
"""

import dataclasses

import pytest

from alignment_rl import rubrics  # noqa: F401  (registers graders)
from alignment_rl.data import generator
from alignment_rl.evals import reference

SIZES = (
  ("train", 3000),
  ("validation", 10),
  ("test", 2000),
  ("heldout_domains", 2000),
  ("heldout_formats", 1500),
)


@pytest.fixture(scope="module")
def rows():
  config = dataclasses.replace(generator.FULL, name="acceptance", sizes=SIZES)
  splits = {s: generator.generate_split(config, s) for s, _ in SIZES if s != "validation"}
  return reference.reference_rows(
    config,
    "full",
    splits=splits,
    max_samples=256,
    budgets=(1500, 300, 600),
    random_seeds=(0,),
    train_scenarios=512,
    oracle_rounds=6,
  )


def test_every_acceptance_line_holds(rows):
  assert reference.acceptance_report(rows, rows["prior"]) == []


def test_reference_rows_are_ordered(rows):
  suite = {k: rows[k]["suite_mean"] for k in ("random", "fixed_reply", "prior", "oracle")}
  assert suite["random"] < suite["fixed_reply"] < suite["prior"] < suite["oracle"], suite
  assert rows["fixed_reply_per_eval"]["num_at_least_0.99"] == 0
