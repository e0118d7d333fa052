"""Orbax checkpoints of the whole runner state, with the config in their metadata.

Each checkpoint step holds two items: `state` (the runner pytree: parameters,
optimizer state, environment state, PRNG keys) and `meta` (JSON: format
version, the run's config, the update count). Saves are asynchronous and
atomic (orbax writes to a temporary folder and renames it on commit), and the
manager keeps the last `keep` steps. Restoring checks the format version and
that the stored config matches the current one, so a run never silently
continues from another run's checkpoint.
"""

from __future__ import annotations

import json
import os
from typing import Any

import jax
import orbax.checkpoint as ocp

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
    "training.checkpoint_every_chunks",
    "training.keep_checkpoints",
    "training.async_checkpoints",
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


class Checkpointer:
  """Saves and restores runner states under `<workdir>/checkpoints`."""

  def __init__(self, workdir: str, config_dict: dict, keep: int = 3, async_save: bool = True):
    self.directory = os.path.abspath(os.path.join(workdir, "checkpoints"))
    self.config_dict = json.loads(json.dumps(config_dict))  # Normalise tuples to lists.
    options = ocp.CheckpointManagerOptions(
      max_to_keep=keep,
      create=True,
      enable_async_checkpointing=async_save,
      cleanup_tmp_directories=True,
    )
    self.manager = ocp.CheckpointManager(
      self.directory, options=options, item_names=("state", "meta")
    )

  def latest_step(self) -> int | None:
    return self.manager.latest_step()

  def save(self, step: int, runner) -> None:
    meta = {
      "format_version": FORMAT_VERSION,
      "config": self.config_dict,
      "update": int(step),
    }
    self.manager.save(
      step,
      args=ocp.args.Composite(state=ocp.args.StandardSave(runner), meta=ocp.args.JsonSave(meta)),
    )

  def restore(self, step: int, target):
    """Restores `step` into the structure, shapes and shardings of `target`."""
    where = os.path.join(self.directory, str(step))
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
    self.manager.wait_until_finished()

  def close(self) -> None:
    self.manager.wait_until_finished()
    self.manager.close()


def save_final_params(workdir: str, params) -> None:
  """Writes the finished run's parameters to `<workdir>/params` (atomic)."""
  path = os.path.abspath(os.path.join(workdir, "params"))
  if os.path.exists(path):
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
