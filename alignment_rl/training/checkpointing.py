"""Orbax checkpoints of the whole runner state, with the config in their metadata.

Each checkpoint step holds two items: `state` (the runner pytree: parameters,
optimizer state, environment state, PRNG keys) and `meta` (JSON: format
version, the run's config, the update count), and, once orbax has committed it,
a content digest of its files (`checkpoint_digests`). Saves are asynchronous and
atomic (orbax writes to a temporary folder and renames it on commit); steps beyond
`keep` are deleted only after the newest step's digest is recorded, so a good step
always remains. Restoring checks the digest, the format version and that the stored
config matches the current one, so a run never silently continues from a damaged
checkpoint or another run's checkpoint.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from typing import Any

import jax
import orbax.checkpoint as ocp

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
    "batch_runs",
    "workdir",
    "num_devices",
    "split_over",
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


def _flatten(d: dict, prefix: str = "") -> dict[str, Any]:
  out = {}
  for k, v in d.items():
    key = f"{prefix}{k}"
    if isinstance(v, dict):
      out.update(_flatten(v, key + "."))
    else:
      out[key] = v
  return out


def is_runtime_field(key: str) -> bool:
  """Whether a flattened field is a runtime field, at the top or nested (e.g. a
  pipeline's `ppo_run.split_over`)."""
  return any(key == f or key.endswith("." + f) for f in RUNTIME_FIELDS)


def config_differences(saved: dict, current: dict) -> list[str]:
  """Flattened field names whose values differ (runtime fields ignored)."""
  a, b = _flatten(saved), _flatten(current)
  keys = sorted(k for k in set(a) | set(b) if not is_runtime_field(k))
  return [k for k in keys if a.get(k, "<absent>") != b.get(k, "<absent>")]


RESUME_MODES = ("latest", "previous_good")


def notify(message: str) -> None:
  """Reports a change the run makes to its own state: one line on stderr."""
  print(message, file=sys.stderr, flush=True)


class Checkpointer:
  """Saves and restores runner states under `<workdir>/checkpoints`.

  Opening it checks the steps' content digests (`checkpoint_digests`) from the newest
  down. An interrupted save (the newest step, cut off before its digest was recorded)
  is moved to `<workdir>/unverified_checkpoints`, saying so. A corrupt newest step is
  an error under `resume="latest"`; under `resume="previous_good"` corrupt steps are
  moved to `<workdir>/corrupt_checkpoints` and the newest good one is used, saying so.
  `latest_step()` is the step to resume from (None: start from scratch).
  """

  def __init__(
    self,
    workdir: str,
    config_dict: dict,
    keep: int = 3,
    async_save: bool = True,
    resume: str = "latest",
  ):
    if resume not in RESUME_MODES:
      raise ValueError(f"training.resume={resume!r}; allowed: {', '.join(RESUME_MODES)}")
    if keep < 1:
      raise ValueError(f"training.keep_checkpoints={keep}; allowed: >= 1")
    self.workdir = os.path.abspath(workdir)
    self.directory = os.path.join(self.workdir, "checkpoints")
    self.config_dict = json.loads(json.dumps(config_dict))  # Normalise tuples to lists.
    self.keep = keep
    self._async = async_save
    self._primary = distributed.is_primary()
    self._latest = self._open_steps(resume)
    distributed.sync(f"opened {self.directory}")  # Steps moved aside before orbax lists them.
    options = ocp.CheckpointManagerOptions(
      max_to_keep=None,  # Old steps are deleted here, once the new step's digest is written.
      create=True,
      enable_async_checkpointing=async_save,
      cleanup_tmp_directories=True,
    )
    self.manager = ocp.CheckpointManager(
      self.directory, options=options, item_names=("state", "meta")
    )
    self._pending: int | None = None  # A step saved but not yet recorded.

  def _open_steps(self, resume: str) -> int | None:
    found = checkpoint_digests.classify(self.directory)
    if found.corrupt and resume == "latest":
      step, why = max(found.corrupt.items())
      raise CheckpointError(
        f"checkpoint {step} in {self.directory} is corrupt ({why}); nothing was changed: "
        "training.resume=previous_good resumes from the newest good checkpoint"
      )
    distributed.sync(f"classified {self.directory}")  # Every process read before any move.
    if not self._primary:
      return found.good
    if found.interrupted is not None:
      aside = self._move_aside(found.interrupted, "unverified_checkpoints")
      notify(
        f"{self.workdir}: checkpoint {found.interrupted}, whose save was cut off before "
        f"its content digest was recorded, moved to {aside}"
      )
    if found.corrupt:
      for step in found.corrupt:
        aside = self._move_aside(step, "corrupt_checkpoints")
      whys = ", ".join(f"{s} ({w})" for s, w in sorted(found.corrupt.items()))
      then = f"resuming from {found.good}" if found.good is not None else "starting from scratch"
      notify(
        f"{self.workdir}: corrupt checkpoints {whys} moved to {aside}; {then} "
        "(training.resume=previous_good)"
      )
    return found.good

  def _move_aside(self, step: int, folder: str) -> str:
    """Moves checkpoint `step` to `<workdir>/<folder>/` (never over an earlier one);
    returns the folder. Nothing is deleted: the user decides what to keep."""
    aside = os.path.join(self.workdir, folder)
    os.makedirs(aside, exist_ok=True)
    dest, n = os.path.join(aside, str(step)), 1
    while os.path.exists(dest):
      dest, n = os.path.join(aside, f"{step}.{n}"), n + 1
    os.rename(os.path.join(self.directory, str(step)), dest)
    return aside

  def latest_step(self) -> int | None:
    """The step to resume from when opened, then the newest step saved."""
    return self._latest

  def save(self, step: int, runner) -> None:
    """Starts saving `step` (asynchronously when enabled). The previous step's digest
    is recorded first (once orbax has committed it), and only then are steps beyond
    `keep` deleted, so a good step always remains."""
    self._finish_pending()
    meta = {
      "format_version": FORMAT_VERSION,
      "config": self.config_dict,
      "update": int(step),
    }
    try:
      self.manager.save(
        step,
        args=ocp.args.Composite(state=ocp.args.StandardSave(runner), meta=ocp.args.JsonSave(meta)),
      )
    except Exception as e:  # noqa: BLE001 - a failed write (e.g. the disk is full).
      raise self._save_error(step, e) from e
    self._pending = step
    if not self._async:
      self._finish_pending()  # Committed already: its digest at once.

  def _finish_pending(self) -> None:
    """Waits for the pending save, records its digest and deletes old steps."""
    step, self._pending = self._pending, None
    if step is None:
      return
    try:
      self.manager.wait_until_finished()
      if self._primary:
        checkpoint_digests.record(os.path.join(self.directory, str(step)), step)
      distributed.sync(f"recorded {self.directory}/{step}")
      # Orbax's delete is collective: every process deletes the same steps.
      for old in checkpoint_digests.step_dirs(self.directory)[self.keep :]:
        self.manager.delete(old)
    except Exception as e:  # noqa: BLE001 - a failed write (e.g. the disk is full).
      self._drop_failed_save(step)
      raise self._save_error(step, e) from e
    self._latest = step

  def _drop_failed_save(self, step: int, settle_s: float = 1.0, limit_s: float = 60.0) -> None:
    """Removes a failed save's temporary folder once orbax's other writes into it have
    stopped (its files unchanged for `settle_s`), so that nothing still writing can
    race a later open of this workdir."""
    if not self._primary:
      return
    prefix = f"{step}.orbax-checkpoint-tmp"
    tmps = [os.path.join(self.directory, d) for d in os.listdir(self.directory)]
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

  def _save_error(self, step: int, e: BaseException) -> CheckpointError:
    first = str(e).splitlines()[0][:200] if str(e) else ""
    return CheckpointError(
      f"saving checkpoint {step} in {self.directory} failed ({type(e).__name__}: {first}); "
      f"the previous checkpoint ({self._latest}) is intact and a rerun resumes from it"
    )

  def restore(self, step: int, target):
    """Restores `step` into the structure, shapes and shardings of `target`."""
    where = os.path.join(self.directory, str(step))
    why = checkpoint_digests.check(where, step)
    if why is not None:
      raise CheckpointError(f"checkpoint {step} in {self.directory} is corrupt ({why})")
    try:
      meta = self.manager.restore(step, args=ocp.args.Composite(meta=ocp.args.JsonRestore()))[
        "meta"
      ]
    except Exception as e:  # noqa: BLE001 - any failure means unreadable.
      raise CheckpointError(
        f"checkpoint {where} has unreadable metadata ({type(e).__name__}); "
        "nothing was changed: move it away or use a new workdir"
      ) from e
    if not isinstance(meta, dict) or meta.get("format_version") != FORMAT_VERSION:
      got = meta.get("format_version") if isinstance(meta, dict) else None
      raise CheckpointError(
        f"checkpoint {where} has format_version={got}; this code reads "
        f"format_version={FORMAT_VERSION}"
      )
    diffs = config_differences(meta.get("config", {}), self.config_dict)
    if diffs:
      raise CheckpointError(
        f"checkpoint {where} was written with a different config (fields: "
        f"{', '.join(diffs[:8])}); use a new workdir or the original config"
      )
    try:
      restored = self.manager.restore(
        step, args=ocp.args.Composite(state=ocp.args.StandardRestore(target))
      )["state"]
      restored = jax.block_until_ready(restored)  # No restore work left in flight.
    except Exception as e:  # noqa: BLE001
      raise CheckpointError(
        f"checkpoint {where} is corrupt or does not match the runner state "
        f"({type(e).__name__}: {str(e).splitlines()[0][:200] if str(e) else ''}); "
        "nothing was changed: move it away or use a new workdir"
      ) from e
    return restored

  def wait(self) -> None:
    """Waits for the pending save and its digest; raises a failed save's error."""
    self._finish_pending()

  def close(self) -> None:
    """Waits for the pending save (a failed one's error is raised after closing)."""
    try:
      self._finish_pending()
    finally:
      try:
        self.manager.close()
      except Exception:  # noqa: BLE001 - its error was raised above.
        pass


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


def save_final_params(workdir: str, params) -> None:
  """Writes the finished run's parameters to `<workdir>/params` (atomic)."""
  path = os.path.abspath(os.path.join(workdir, "params"))
  if distributed.from_primary(int(os.path.exists(path))):
    return  # Written by an earlier invocation of the same finished run.
  ckptr = ocp.StandardCheckpointer()
  ckptr.save(path, params)
  ckptr.wait_until_finished()


def load_final_params(workdir: str, target):
  """Reads `<workdir>/params` into the structure, shapes and shardings of `target`."""
  path = os.path.abspath(os.path.join(workdir, "params"))
  if not os.path.isdir(path):
    raise CheckpointError(
      f"init_from={workdir!r} holds no finished run's parameters ({path} is missing)"
    )
  try:
    return jax.block_until_ready(ocp.StandardCheckpointer().restore(path, target))
  except Exception as e:  # noqa: BLE001
    raise CheckpointError(
      f"init_from={workdir!r}: its parameters do not fit this config's network and "
      f"seeds, or are corrupt ({type(e).__name__})"
    ) from e
