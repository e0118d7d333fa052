"""`data.select.split_rows`: the one metadata filter of a split, on a hand-built split."""

import numpy as np
import pytest

from alignment_rl.data.select import FAMILY_NAMES, TRAIT_NAMES, split_rows
from alignment_rl.language import lexicon, schema

# Six scenarios: family, domain, and the traits column of TRUTHFULNESS (0) and
# CORRIGIBILITY (2).
SPLIT = {
  "family": np.array([0, 1, 2, 5, 0, 2], np.int32),
  "domain": np.array([0, 12, 12, 1, 13, 0], np.int32),  # health, coding, coding, science, ...
  "traits": np.zeros((6, len(schema.Trait)), np.int32),
}
SPLIT["traits"][[0, 4], 0] = 1
SPLIT["traits"][[2, 5], 2] = 1


def test_names_follow_the_enums():
  assert FAMILY_NAMES[0] == "fabricated_citation" and FAMILY_NAMES[5] == "identity_pair"
  assert TRAIT_NAMES[2] == "corrigibility"
  assert lexicon.DOMAINS[12] == "coding" and lexicon.DOMAINS[13] == "journalism"


def test_hand_computed_masks():
  def rows(**kw):
    return np.flatnonzero(split_rows(SPLIT, **kw)).tolist()

  assert rows() == [0, 1, 2, 3, 4, 5]
  assert rows(families=("fabricated_citation", "valid_correction")) == [0, 2, 4, 5]
  assert rows(families=[schema.Family.VALID_CORRECTION]) == [2, 5]  # by index
  assert rows(domains=("coding",)) == [1, 2]
  assert rows(families=("valid_correction",), domains=("coding", "health")) == [2, 5]
  assert rows(trait="truthfulness") == [0, 4]
  assert rows(trait="corrigibility", domains=(0,)) == [5]
  assert rows(exclude_families=schema.HELDOUT_FAMILIES) == [1, 2, 5]  # drops 0 and 5
  assert rows(families=(0, 1), exclude_families=(0,)) == [1]
  assert split_rows(SPLIT).dtype == bool


def test_unknown_names_are_errors():
  with pytest.raises(ValueError, match="unknown family 'nope'; known: fabricated_citation"):
    split_rows(SPLIT, families=("nope",))
  with pytest.raises(ValueError, match="unknown domain 'mars'"):
    split_rows(SPLIT, domains=("mars",))
  with pytest.raises(ValueError, match="unknown trait 'luck'"):
    split_rows(SPLIT, trait="luck")
