"""The content-addressed prior cache: stored once, hit by the next experiment, refused
when its files no longer match their digest, keyed by config and source code."""

import json
import os

import pytest

from alignment_rl.training import digest
from experiments.pipelines import prior_cache

PRIOR = {"experiment": "a", "seed": 0, "imitation": {"num_steps": 10}, "training": {}}


def _finished_prior(path, payload=b"weights"):
  os.makedirs(os.path.join(path, "params"))
  with open(os.path.join(path, "params", "blob"), "wb") as f:
    f.write(payload)
  with open(os.path.join(path, "summary.json"), "w") as f:
    json.dump({"steps": 10}, f)
  with open(os.path.join(path, "config.json"), "w") as f:
    json.dump(PRIOR, f)


def test_folder_digest_hand_case_and_sensitivity(tmp_path):
  import hashlib

  (tmp_path / "d").mkdir()
  (tmp_path / "d" / "x").write_bytes(b"ab")
  want = hashlib.sha256(b"x\0ab\0").hexdigest()
  assert digest.folder_digest(str(tmp_path / "d")) == want
  (tmp_path / "d" / "x").write_bytes(b"ac")
  assert digest.folder_digest(str(tmp_path / "d")) != want
  with pytest.raises(FileNotFoundError, match="not a folder"):
    digest.folder_digest(str(tmp_path / "missing"))


def test_second_experiment_hits_the_cache(tmp_path):
  root = prior_cache.cache_root(str(tmp_path / "exp_a"))
  assert root == str(tmp_path / ".prior_cache")
  _finished_prior(tmp_path / "exp_a" / "prior")
  assert prior_cache.fetch(str(tmp_path / "exp_a" / "prior"), PRIOR, root) is None
  entry = prior_cache.store(str(tmp_path / "exp_a" / "prior"), PRIOR, root)
  assert entry and os.path.isfile(os.path.join(entry, prior_cache.DIGEST_FILE))
  assert prior_cache.store(str(tmp_path / "exp_a" / "prior"), PRIOR, root) is None  # Once.
  # Another experiment (another label: a runtime field) with the same prior config.
  other = {**PRIOR, "experiment": "b"}
  dest = str(tmp_path / "exp_b" / "prior")
  assert prior_cache.fetch(dest, other, root) == entry
  assert open(os.path.join(dest, "params", "blob"), "rb").read() == b"weights"
  # The copy's origin is the run that trained it (fine-tuning reuse matches on it).
  from experiments.pipelines import reuse

  assert reuse.origin(dest) == os.path.abspath(tmp_path / "exp_a" / "prior")
  # A different prior config is a different key: a miss.
  changed = {**PRIOR, "seed": 1}
  assert prior_cache.fetch(str(tmp_path / "exp_c" / "prior"), changed, root) is None
  assert prior_cache.cache_key(changed) != prior_cache.cache_key(PRIOR)
  # So is another floating-point order: seeds batched otherwise (a runtime field, yet
  # it changes the imitated weights' last bits), or another backend or JAX version.
  in_turn = {**PRIOR, "seed_batching": "map"}
  assert prior_cache.fetch(str(tmp_path / "exp_d" / "prior"), in_turn, root) is None
  assert prior_cache.cache_key({**PRIOR, "num_devices": 2}) != prior_cache.cache_key(PRIOR)
  # The conv encoder's length buckets off or on (also a runtime field that sets the order).
  assert prior_cache.cache_key({**PRIOR, "length_buckets": 0}) != prior_cache.cache_key(PRIOR)


def test_corrupt_entry_is_refused_and_nothing_is_copied(tmp_path):
  root = str(tmp_path / ".prior_cache")
  _finished_prior(tmp_path / "a" / "prior")
  entry = prior_cache.store(str(tmp_path / "a" / "prior"), PRIOR, root)
  with open(os.path.join(entry, "params", "blob"), "r+b") as f:
    f.write(b"W")  # One flipped byte.
  dest = tmp_path / "b" / "prior"
  with pytest.raises(prior_cache.PriorCacheError, match="do not match their digest"):
    prior_cache.fetch(str(dest), PRIOR, root)
  assert not dest.exists()


def test_key_includes_the_source_digest(tmp_path, monkeypatch):
  before = prior_cache.cache_key(PRIOR)
  monkeypatch.setattr(digest, "source_digest", lambda: "0" * 64)
  assert prior_cache.cache_key(PRIOR) != before


def test_the_key_holds_the_backend_and_jax_versions(monkeypatch):
  import jax

  key = prior_cache.cache_key(PRIOR)
  assert digest.execution_digest() == {
    "backend": jax.default_backend(),
    "jax": jax.__version__,
    "jaxlib": __import__("jaxlib").__version__,
  }
  monkeypatch.setattr(digest, "execution_digest", lambda: {"backend": "gpu", "jax": "9.9"})
  assert prior_cache.cache_key(PRIOR) != key
