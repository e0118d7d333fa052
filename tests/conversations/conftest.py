"""Shared fixtures: the small-config splits, generated once per test session."""

import pytest

from alignment_rl.data import SMALL, generate_split
from alignment_rl.language import schema


@pytest.fixture(scope="session")
def small_splits():
  return {split: generate_split(SMALL, split) for split in schema.SPLITS}
