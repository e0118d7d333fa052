"""Orbax checkpoints of the whole runner state, with the config in their metadata.

Each checkpoint step holds two items: `state` (the runner pytree: parameters,
optimizer state, environment state, PRNG keys) and `meta` (JSON: format
version, the run's config, the update count), and, once orbax has committed it,
a content digest of its files (`checkpoint_digests`). Saves are asynchronous and
atomic (orbax writes to a temporary folder and renames it on commit); steps beyond
`keep` are deleted only after the newest step's digest is recorded, so a good step
always remains. Restoring checks the digest, the format version and that the stored
config matches the current one (`checkpoint_checks`), so a run never silently
continues from a damaged checkpoint or another run's checkpoint. The finished run's
parameters are written apart, to `<workdir>/params` (`save_final_params`).
"""

from __future__ import annotations

import json
import os

import jax
import orbax.checkpoint as ocp

from alignment_rl.training import checkpoint_checks, checkpoint_digests, distributed
from alignment_rl.training.checkpoint_checks import (
  FORMAT_VERSION,
  RUNTIME_FIELDS,
  CheckpointError,
  config_differences,
  is_runtime_field,
  notify,
)

__all__ = [
  "FORMAT_VERSION",
  "RESUME_MODES",
  "RUNTIME_FIELDS",
  "CheckpointError",
  "Checkpointer",
  "config_differences",
  "is_runtime_field",
  "load_final_params",
  "notify",
  "save_final_params",
]

RESUME_MODES = ("latest", "previous_good")


class Checkpointer:
  """Saves and restores runner states under `<workdir>/checkpoints`.

  Opening it checks the steps' content digests from the newest down
  (`checkpoint_checks.open_steps`). An interrupted save (the newest step, cut off
  before its digest was recorded) is moved to `<workdir>/unverified_checkpoints`,
  saying so. A corrupt newest step is an error under `resume="latest"`; under
  `resume="previous_good"` corrupt steps are moved to `<workdir>/corrupt_checkpoints`
  and the newest good one is used, saying so.
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
    self._latest = checkpoint_checks.open_steps(self.workdir, self.directory, resume, self._primary)
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
      raise checkpoint_checks.save_error(self.directory, step, self._latest, e) from e
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
      if self._primary:
        checkpoint_checks.drop_failed_save(self.directory, step)
      raise checkpoint_checks.save_error(self.directory, step, self._latest, e) from e
    self._latest = step

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
    checkpoint_checks.check_meta(where, meta, self.config_dict)
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
