"""Content digests: of a folder of files (a run's saved parameters, a cache entry)
and of this package's source code.

`folder_digest(path)` is the SHA-256 of every file's relative path and bytes, in
sorted path order, so two folders have equal digests exactly when they hold the same
files with the same contents (names included). `source_digest()` is the same over
the package's `.py` files: a key part for caches of computed results, so that a
change to the code that computes them (graders, data generation, training) never
serves a stale entry.
"""

from __future__ import annotations

import functools
import hashlib
import os

_CHUNK = 1 << 20


def folder_digest(path: str, exclude: tuple[str, ...] = ()) -> str:
  """Hex SHA-256 over (relative path, bytes) of every file under `path`, sorted;
  top-level names in `exclude` are skipped. Raises FileNotFoundError if `path` is
  not a folder."""
  if not os.path.isdir(path):
    raise FileNotFoundError(f"digest: {path!r} is not a folder")
  h = hashlib.sha256()
  files = []
  for root, dirs, names in os.walk(path):
    dirs.sort()
    for name in names:
      rel = os.path.relpath(os.path.join(root, name), path)
      if rel.split(os.sep)[0] not in exclude:
        files.append(rel)
  for rel in sorted(files):
    h.update(rel.replace(os.sep, "/").encode() + b"\0")
    with open(os.path.join(path, rel), "rb") as f:
      while chunk := f.read(_CHUNK):
        h.update(chunk)
    h.update(b"\0")
  return h.hexdigest()


@functools.cache
def source_digest() -> str:
  """Hex SHA-256 of the `alignment_rl` package's Python sources (cached per process)."""
  package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
  h = hashlib.sha256()
  for root, dirs, names in os.walk(package):
    dirs[:] = sorted(d for d in dirs if d != "__pycache__")
    for name in sorted(n for n in names if n.endswith(".py")):
      full = os.path.join(root, name)
      h.update(os.path.relpath(full, package).replace(os.sep, "/").encode() + b"\0")
      with open(full, "rb") as f:
        h.update(f.read() + b"\0")
  return h.hexdigest()


def execution_digest() -> dict:
  """What besides the code sets a computation's floating-point results: the default
  backend and the JAX and jaxlib versions (a key part for caches of computed results)."""
  import jax
  import jaxlib

  return {"backend": jax.default_backend(), "jax": jax.__version__, "jaxlib": jaxlib.__version__}


def json_digest(obj) -> str:
  """Hex SHA-256 of `obj` as canonical JSON (sorted keys, no spaces)."""
  import json

  text = json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)
  return hashlib.sha256(text.encode()).hexdigest()
