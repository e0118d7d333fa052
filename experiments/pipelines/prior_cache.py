"""A content-addressed cache of imitated priors, shared by the experiments under one
workdir root.

Every experiment of the trait pipeline starts from the same imitated prior (same
seeds, data and network). The first experiment to imitate it stores a copy under

  <workdir root>/.prior_cache/<key>/

with `key` = SHA-256 of the prior's config (runtime fields dropped, except those that
set the floating-point order: `seed_batching`, `length_buckets`, `num_devices`,
`split_over`), of the
backend and JAX versions (`digest.execution_digest`) and of the package's source code
(`digest.source_digest`: any code change is a new key), and
`digest.json` = the SHA-256 of the copy's files (`digest.folder_digest`). A later
experiment whose prior has the same key copies the entry instead of imitating, after
verifying that digest; a mismatch (a corrupt or edited entry) is a one-line error
naming the entry, and nothing is copied. Copies go to a temporary folder and are
renamed into place, so a killed run never leaves a half-written entry or prior.
"""

from __future__ import annotations

import json
import os
import shutil

from alignment_rl.training import checkpoint_checks, checkpointing, digest
from experiments.pipelines import reuse

CACHE_DIR = ".prior_cache"
DIGEST_FILE = "digest.json"


class PriorCacheError(checkpointing.CheckpointError):
  """A cache entry whose files do not match its recorded digest."""


def cache_root(workdir: str) -> str:
  """The cache folder shared by the workdirs beside `workdir`."""
  return os.path.join(os.path.dirname(os.path.abspath(workdir)), CACHE_DIR)


def cache_key(prior_dict: dict) -> str:
  flat = checkpoint_checks.flatten_config(prior_dict)
  static = {k: v for k, v in flat.items() if not checkpointing.is_runtime_field(k)}
  # Runtime fields that set the floating-point order (how the seeds are batched, over
  # how many devices), and the backend and JAX versions, change the imitated weights
  # in their last bits, which RL then grows into another run: they are key parts too.
  order_fields = ("seed_batching", "length_buckets", "num_devices", "split_over")
  order = {k: flat.get(k) for k in order_fields}
  parts = {"config": static, "order": order, "execution": digest.execution_digest()}
  return digest.json_digest({**parts, "source": digest.source_digest()})


def _entry_digest(entry: str) -> str:
  return digest.folder_digest(entry, exclude=(DIGEST_FILE, reuse.RECORD))


def fetch(prior_dir: str, prior_dict: dict, root: str) -> str | None:
  """Copies the cached prior for `prior_dict` into `prior_dir` (when that does not
  exist and the cache has a finished entry); returns the entry, or None.

  Raises:
    PriorCacheError: the entry's files do not match its digest.
  """
  entry = os.path.join(root, cache_key(prior_dict))
  if os.path.exists(prior_dir) or not reuse.finished_prior(entry):
    return None
  try:
    with open(os.path.join(entry, DIGEST_FILE), encoding="utf-8") as f:
      expected = json.load(f)["sha256"]
  except (OSError, ValueError, KeyError):
    expected = "<missing>"
  actual = _entry_digest(entry)
  if actual != expected:
    raise PriorCacheError(
      f"prior cache entry {entry!r}: files do not match their digest (recorded "
      f"{expected[:12]}, found {actual[:12]}); delete the entry to imitate again"
    )
  reuse.copy_run(entry, prior_dir)
  print(f"prior: reused the cached imitation {entry} (digest verified)")
  return entry


def store(prior_dir: str, prior_dict: dict, root: str) -> str | None:
  """Adds the finished prior in `prior_dir` to the cache (if its key is not there
  yet); returns the new entry, or None."""
  entry = os.path.join(root, cache_key(prior_dict))
  if os.path.exists(entry) or not reuse.finished_prior(prior_dir):
    return None
  os.makedirs(root, exist_ok=True)
  tmp = entry + ".copying"
  shutil.rmtree(tmp, ignore_errors=True)
  shutil.copytree(prior_dir, tmp, ignore=shutil.ignore_patterns(reuse.RECORD))
  # The entry records where the prior was trained, so that a prior fetched from it has
  # that `reuse.origin` (fine-tuning stages of the same start model are then found).
  with open(os.path.join(tmp, reuse.RECORD), "w", encoding="utf-8") as f:
    json.dump({"source": reuse.origin(prior_dir)}, f)
  with open(os.path.join(tmp, DIGEST_FILE), "w", encoding="utf-8") as f:
    json.dump({"sha256": _entry_digest(tmp)}, f)
  os.replace(tmp, entry)
  return entry
