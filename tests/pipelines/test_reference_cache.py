"""The content-addressed reference-row cache: computed once, read back by the next
experiment, keyed by arguments, data and source code, refused when edited."""

import json
import os

import numpy as np
import pytest

from experiments.pipelines import reference_cache

SPLITS = {"test": {"context": np.arange(6, dtype=np.int32).reshape(2, 3), "x": np.zeros(2)}}


def _compute(calls):
  def compute(*, splits, budget, suite_name="full"):
    calls.append(budget)
    total = int(sum(a.sum() for s in splits.values() for a in s.values()))
    return {
      "fixed_reply": {"suite_mean": 0.25, "budget": budget, "total": total},
      "suite": suite_name,
    }

  return compute


def test_arrays_digest_sees_values_dtypes_and_names():
  import hashlib

  one = {"s": {"f": np.array([1, 2], np.int32)}}
  want = hashlib.sha256(b"s/f/<i4/(2,)\0" + np.array([1, 2], np.int32).tobytes()).hexdigest()
  assert reference_cache.arrays_digest(one) == want
  assert reference_cache.arrays_digest({"s": {"f": np.array([1, 3], np.int32)}}) != want
  assert reference_cache.arrays_digest({"s": {"f": np.array([1, 2], np.int64)}}) != want
  assert reference_cache.arrays_digest({"t": {"f": np.array([1, 2], np.int32)}}) != want


def test_second_experiment_reads_the_entry(tmp_path):
  root = reference_cache.cache_root(str(tmp_path / "exp_a"))
  assert root == str(tmp_path / ".reference_cache")
  calls = []
  rows, entry = reference_cache.cached(root, _compute(calls), SPLITS, budget=10)
  assert entry is None and calls == [10] and rows["fixed_reply"]["total"] == 15
  again, entry = reference_cache.cached(root, _compute(calls), SPLITS, budget=10)
  assert calls == [10] and again == rows  # Read back, not recomputed.
  assert entry == os.path.join(root, reference_cache.cache_key({"budget": 10}, SPLITS) + ".json")
  # Other arguments or other data: other keys, computed.
  reference_cache.cached(root, _compute(calls), SPLITS, budget=11)
  changed = {"test": {**SPLITS["test"], "x": np.ones(2)}}
  rows2, entry2 = reference_cache.cached(root, _compute(calls), changed, budget=10)
  assert calls == [10, 11, 10] and entry2 is None and rows2["fixed_reply"]["total"] == 17
  assert len(os.listdir(root)) == 3  # No temporary files left.
  # Other source code, or another backend or JAX version: other keys.
  from alignment_rl.training import digest

  key = reference_cache.cache_key({"budget": 10}, SPLITS)
  for name, value in (("source_digest", "edited"), ("execution_digest", {"backend": "gpu"})):
    with pytest.MonkeyPatch.context() as m:
      m.setattr(digest, name, lambda v=value: v)
      assert reference_cache.cache_key({"budget": 10}, SPLITS) != key
  assert reference_cache.cache_key({"budget": 10}, SPLITS) == key
  # No root: always computed, nothing stored.
  reference_cache.cached(None, _compute(calls), SPLITS, budget=10)
  assert calls == [10, 11, 10, 10] and len(os.listdir(root)) == 3


def test_an_edited_or_broken_entry_is_refused_with_its_name(tmp_path):
  root = str(tmp_path / ".reference_cache")
  calls = []
  reference_cache.cached(root, _compute(calls), SPLITS, budget=10)
  (entry,) = [os.path.join(root, n) for n in os.listdir(root)]
  with open(entry, encoding="utf-8") as f:
    record = json.load(f)
  record["rows"]["fixed_reply"]["suite_mean"] = 0.99  # Edited by hand.
  with open(entry, "w", encoding="utf-8") as f:
    json.dump(record, f)
  with pytest.raises(reference_cache.ReferenceCacheError, match="rows do not match their digest"):
    reference_cache.cached(root, _compute(calls), SPLITS, budget=10)
  with open(entry, "w", encoding="utf-8") as f:
    f.write('{"rows": {"fixed')  # Truncated.
  with pytest.raises(reference_cache.ReferenceCacheError, match=r"\.json' is unreadable"):
    reference_cache.cached(root, _compute(calls), SPLITS, budget=10)
  assert calls == [10]  # Nothing recomputed over a bad entry.
