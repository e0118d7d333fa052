"""What a checkpoint is checked against, and what becomes of one that fails a check.

A checkpoint belongs to this run when its metadata has this code's `FORMAT_VERSION`
and its config matches the current one, runtime fields aside (`RUNTIME_FIELDS`:
options that may change between a run and its resumption). When a workdir is opened,
`open_steps` sorts its steps by their content digests (`checkpoint_digests`) and moves
an interrupted save or (under `resume="previous_good"`) corrupt steps aside, never
deleting them. A failed save's temporary folder is removed once orbax has stopped
writing into it (`drop_failed_save`). Every refusal is a `CheckpointError` (one line)
and every change made to a workdir is said in one line on stderr (`notify`).
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from typing import Any

from alignment_rl.training import checkpoint_digests, distributed

FORMAT_VERSION = 1

# Config fields that may change between a run and its resumption: runtime options,
# the run's label, and `init_from` (read only when a run starts).
RUNTIME_FIELDS = frozenset(
  {
    "experiment",
    "training.init_from",
    "reuse_from",
    "prior_cache",
    "reference_cache",
    "batch_runs",
    "workdir",
    "num_devices",
    "split_over",
    "seed_batching",
    "length_buckets",
    "training.progress",
    "training.log_tensorboard",
    "training.wandb",
    "training.wandb_mode",
    "training.checkpoint_every_chunks",
    "training.keep_checkpoints",
    "training.async_checkpoints",
    "training.resume",
    "training.overwrite",
  }
)


class CheckpointError(RuntimeError):
  """A checkpoint is missing, corrupt, or does not belong to this run."""


def notify(message: str) -> None:
  """Reports a change the run makes to its own state: one line on stderr."""
  print(message, file=sys.stderr, flush=True)


def flatten_config(d: dict, prefix: str = "") -> dict[str, Any]:
  """{"a.b.c": value} of the nested dict `d` (its leaves under dotted names)."""
  out = {}
  for k, v in d.items():
    key = f"{prefix}{k}"
    if isinstance(v, dict):
      out.update(flatten_config(v, key + "."))
    else:
      out[key] = v
  return out


def is_runtime_field(key: str) -> bool:
  """Whether a flattened field is a runtime field, at the top or nested (e.g. a
  pipeline's `ppo_run.split_over`)."""
  return any(key == f or key.endswith("." + f) for f in RUNTIME_FIELDS)


def config_differences(saved: dict, current: dict) -> list[str]:
  """Flattened field names whose values differ (runtime fields ignored)."""
  a, b = flatten_config(saved), flatten_config(current)
  keys = sorted(k for k in set(a) | set(b) if not is_runtime_field(k))
  return [k for k in keys if a.get(k, "<absent>") != b.get(k, "<absent>")]


def check_meta(where: str, meta: Any, config_dict: dict) -> None:
  """Raises `CheckpointError` unless the metadata `meta` of checkpoint folder `where`
  has this code's `FORMAT_VERSION` and a config matching `config_dict`."""
  if not isinstance(meta, dict) or meta.get("format_version") != FORMAT_VERSION:
    got = meta.get("format_version") if isinstance(meta, dict) else None
    raise CheckpointError(
      f"checkpoint {where} has format_version={got}; this code reads "
      f"format_version={FORMAT_VERSION}"
    )
  diffs = config_differences(meta.get("config", {}), config_dict)
  if diffs:
    raise CheckpointError(
      f"checkpoint {where} was written with a different config (fields: "
      f"{', '.join(diffs[:8])}); use a new workdir or the original config"
    )


def open_steps(workdir: str, directory: str, resume: str, primary: bool) -> int | None:
  """The newest good step under `directory` (None: none), once the steps that fail
  their digest are dealt with (by process 0 only, `primary`).

  An interrupted save (the newest step, cut off before its digest was recorded) is moved
  to `<workdir>/unverified_checkpoints`, saying so. A corrupt step is an error under
  `resume="latest"` (nothing changed); under `resume="previous_good"` corrupt steps are
  moved to `<workdir>/corrupt_checkpoints`, saying so.
  """
  found = checkpoint_digests.classify(directory)
  if found.corrupt and resume == "latest":
    step, why = max(found.corrupt.items())
    raise CheckpointError(
      f"checkpoint {step} in {directory} is corrupt ({why}); nothing was changed: "
      "training.resume=previous_good resumes from the newest good checkpoint"
    )
  distributed.sync(f"classified {directory}")  # Every process read before any move.
  if not primary:
    return found.good
  if found.interrupted is not None:
    aside = move_aside(workdir, directory, found.interrupted, "unverified_checkpoints")
    notify(
      f"{workdir}: checkpoint {found.interrupted}, whose save was cut off before "
      f"its content digest was recorded, moved to {aside}"
    )
  if found.corrupt:
    for step in found.corrupt:
      aside = move_aside(workdir, directory, step, "corrupt_checkpoints")
    whys = ", ".join(f"{s} ({w})" for s, w in sorted(found.corrupt.items()))
    then = f"resuming from {found.good}" if found.good is not None else "starting from scratch"
    notify(
      f"{workdir}: corrupt checkpoints {whys} moved to {aside}; {then} "
      "(training.resume=previous_good)"
    )
  return found.good


def move_aside(workdir: str, directory: str, step: int, folder: str) -> str:
  """Moves checkpoint `step` of `directory` to `<workdir>/<folder>/` (never over an
  earlier one); returns the folder. Nothing is deleted: the user decides what to keep."""
  aside = os.path.join(workdir, folder)
  os.makedirs(aside, exist_ok=True)
  dest, n = os.path.join(aside, str(step)), 1
  while os.path.exists(dest):
    dest, n = os.path.join(aside, f"{step}.{n}"), n + 1
  os.rename(os.path.join(directory, str(step)), dest)
  return aside


def drop_failed_save(
  directory: str, step: int, settle_s: float = 1.0, limit_s: float = 60.0
) -> None:
  """Removes the temporary folder of step `step`'s failed save under `directory` once
  orbax's other writes into it have stopped (its files unchanged for `settle_s`), so
  that nothing still writing can race a later open of this workdir."""
  prefix = f"{step}.orbax-checkpoint-tmp"
  tmps = [os.path.join(directory, d) for d in os.listdir(directory)]
  tmps = [d for d in tmps if os.path.basename(d).startswith(prefix)]
  deadline, last, stable_since = time.monotonic() + limit_s, None, time.monotonic()
  while tmps and time.monotonic() < deadline:
    now = _listing(tmps)
    if now != last:
      last, stable_since = now, time.monotonic()
    elif time.monotonic() - stable_since >= settle_s:
      break
    time.sleep(0.1)
  for d in tmps:
    shutil.rmtree(d, ignore_errors=True)


def _listing(folders: list[str]) -> list[tuple[str, int]]:
  """(path, size) of every file under `folders`, sorted."""
  out = []
  for folder in folders:
    for root, _, names in os.walk(folder):
      for name in names:
        path = os.path.join(root, name)
        try:
          out.append((path, os.path.getsize(path)))
        except OSError:
          pass
  return sorted(out)


def save_error(
  directory: str, step: int, previous: int | None, e: BaseException
) -> CheckpointError:
  """The `CheckpointError` of a failed save of `step` (`previous`: the newest good step)."""
  first = str(e).splitlines()[0][:200] if str(e) else ""
  return CheckpointError(
    f"saving checkpoint {step} in {directory} failed ({type(e).__name__}: {first}); "
    f"the previous checkpoint ({previous}) is intact and a rerun resumes from it"
  )
