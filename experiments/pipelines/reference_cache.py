"""A content-addressed cache of reference rows, shared by the experiments under one
workdir root.

The reference rows (`evals.reference.reference_rows`: the best fixed reply, random
replies, the scripted prior's sample and the oracle) depend on the data, the suite
and the search budgets only, never on a trained policy, and take about a minute at
runlocal. The first experiment to compute them stores

  <workdir root>/.reference_cache/<key>.json

with `key` = SHA-256 of the call's arguments, of the arrays it reads (`arrays_digest`
of every split passed in; splits it loads itself are named by `data_config`) and of
the package's source code (`digest.source_digest`: any code change is a new key) and
of the backend and JAX versions (`digest.execution_digest`). The
entry holds the rows and the SHA-256 of their canonical JSON. A later experiment with
the same key reads the entry after verifying that digest; a mismatch (a corrupt or
edited entry) is a one-line error naming the entry. Entries are written to a temporary
file of their own writer and renamed into place, so neither a killed run nor two runs
writing the same entry at once leave a half-written one.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable

import numpy as np

from alignment_rl.training import digest

CACHE_DIR = ".reference_cache"


class ReferenceCacheError(ValueError):
  """A cache entry whose rows do not match their recorded digest."""


def cache_root(workdir: str) -> str:
  """The cache folder shared by the workdirs beside `workdir`."""
  return os.path.join(os.path.dirname(os.path.abspath(workdir)), CACHE_DIR)


def arrays_digest(splits: dict) -> str:
  """Hex SHA-256 over (split, field, dtype, shape, bytes) of {split: {field: array}},
  in sorted order: equal exactly when the same arrays hold the same values."""
  h = hashlib.sha256()
  for split in sorted(splits):
    for field in sorted(splits[split]):
      a = np.ascontiguousarray(np.asarray(splits[split][field]))
      h.update(f"{split}/{field}/{a.dtype.str}/{a.shape}\0".encode())
      h.update(a.tobytes())
  return h.hexdigest()


def cache_key(kwargs: dict, splits: dict) -> str:
  """The entry name of `reference_rows(splits=splits, **kwargs)`."""
  parts = {"kwargs": kwargs, "data": arrays_digest(splits), "source": digest.source_digest()}
  return digest.json_digest({**parts, "execution": digest.execution_digest()})


def fetch(root: str, key: str) -> tuple[dict, str] | None:
  """(rows, entry path) of the entry `key` under `root`, or None when there is none.

  Raises:
    ReferenceCacheError: the entry's rows do not match their digest, or it is unreadable.
  """
  entry = os.path.join(root, key + ".json")
  if not os.path.exists(entry):
    return None
  try:
    with open(entry, encoding="utf-8") as f:
      record = json.load(f)
    rows, expected = record["rows"], record["sha256"]
  except (OSError, ValueError, KeyError, TypeError) as e:
    raise ReferenceCacheError(
      f"reference cache entry {entry!r} is unreadable ({type(e).__name__}); delete it to recompute"
    ) from None
  actual = digest.json_digest(rows)
  if actual != expected:
    raise ReferenceCacheError(
      f"reference cache entry {entry!r}: rows do not match their digest (recorded "
      f"{str(expected)[:12]}, found {actual[:12]}); delete the entry to recompute"
    )
  return rows, entry


def store(root: str, key: str, rows: dict) -> str:
  """Writes `rows` as the entry `key` under `root` (atomically); returns its path."""
  os.makedirs(root, exist_ok=True)
  entry = os.path.join(root, key + ".json")
  rows = json.loads(json.dumps(rows))  # The digest is of what a later fetch reads back.
  fd, tmp = tempfile.mkstemp(dir=root, prefix=key, suffix=".writing")  # One per writer.
  with os.fdopen(fd, "w", encoding="utf-8") as f:
    json.dump({"rows": rows, "sha256": digest.json_digest(rows)}, f)
  os.replace(tmp, entry)
  return entry


def cached(root: str | None, compute: Callable[..., dict], splits: dict, **kwargs):
  """`compute(splits=splits, **kwargs)`, read from the cache under `root` when it holds
  the entry of these arguments and data, stored there otherwise; `root=None` computes.

  Returns:
    (rows, entry): `entry` is the cache file the rows were read from, or None when
    they were computed by this call.
  """
  if root is None:
    return compute(splits=splits, **kwargs), None
  key = cache_key(kwargs, splits)
  hit = fetch(root, key)
  if hit is not None:
    print(f"reference rows: reused {hit[1]} (digest verified)")
    return hit
  rows = json.loads(json.dumps(compute(splits=splits, **kwargs)))  # As a hit reads them.
  store(root, key, rows)
  return rows, None
