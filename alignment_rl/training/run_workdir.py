"""The same-run rule of a training workdir, and what a run replaces or removes there.

A workdir records its run's config in `config.json`. Opened again with a config that
matches it (runtime fields aside, `checkpointing.RUNTIME_FIELDS`), it is the same run:
the trainer resumes from the newest good checkpoint, or restarts from scratch when
there is none. A workdir recorded with another config is refused (one line) unless
`training.overwrite=True`; then the old run's files are replaced, but only once the new
run has been built and starts (`replace_old_run`), so a run that fails to start never
destroys the old one. Every change is said in one line.
"""

from __future__ import annotations

import json
import os
import shutil

from alignment_rl.training.checkpointing import CheckpointError, config_differences, notify

CONFIG_FILE = "config.json"
# What a training run writes in its workdir (besides the lock file).
RUN_FILES = (
  "checkpoints",
  "corrupt_checkpoints",
  "metrics.jsonl",
  "params",
  "summary.json",
  "tensorboard",
  "wandb",
  CONFIG_FILE,
)
# Outputs of a finished run: stale once the run trains again.
FINAL_OUTPUTS = ("params", "summary.json")


def recorded_differences(workdir: str, config_dict: dict, overwrite: bool) -> list[str]:
  """The config fields in which the run recorded in `workdir` differs from
  `config_dict` ([] for the same run or a workdir without a recorded run). Raises
  `CheckpointError` for another run's workdir unless `overwrite`."""
  path = os.path.join(workdir, CONFIG_FILE)
  if not os.path.exists(path):
    return []
  try:
    with open(path, encoding="utf-8") as f:
      saved = json.load(f)
    if not isinstance(saved, dict):
      raise ValueError("not a JSON object")
    diffs = config_differences(saved, json.loads(json.dumps(config_dict)))
  except (OSError, ValueError) as e:
    if overwrite:
      return [f"<unreadable {CONFIG_FILE}>"]
    raise CheckpointError(
      f"workdir {workdir!r} has an unreadable {CONFIG_FILE} ({type(e).__name__}); nothing "
      "was changed: use a new workdir or training.overwrite=True"
    ) from e
  if diffs and not overwrite:
    raise CheckpointError(
      f"workdir {workdir!r} holds a run of another config (fields: {', '.join(diffs[:8])}); "
      "nothing was changed: use a new workdir, the original config, or "
      "training.overwrite=True"
    )
  return diffs


def replace_old_run(workdir: str, diffs: list[str]) -> None:
  """Removes the old run's files (`training.overwrite=True`), saying so."""
  removed = [name for name in RUN_FILES if os.path.lexists(os.path.join(workdir, name))]
  for name in removed:
    _remove(os.path.join(workdir, name))
  notify(
    f"{workdir}: replaced the run of another config (fields: {', '.join(diffs[:8])}; "
    f"removed {', '.join(removed) or 'nothing'}) because training.overwrite=True"
  )


def remove_final_outputs(workdir: str) -> None:
  """Removes a finished run's outputs before the run trains again, saying so."""
  stale = [name for name in FINAL_OUTPUTS if os.path.lexists(os.path.join(workdir, name))]
  for name in stale:
    _remove(os.path.join(workdir, name))
  if stale:
    notify(f"{workdir}: removed stale {', '.join(stale)} (the run trains again)")


def write_config(workdir: str, config_dict: dict) -> None:
  """Records the run's config (atomically: a kill leaves the old file or the new)."""
  path = os.path.join(workdir, CONFIG_FILE)
  with open(path + ".tmp", "w", encoding="utf-8") as f:
    json.dump(config_dict, f, indent=2)
    f.flush()
    os.fsync(f.fileno())
  os.replace(path + ".tmp", path)


def _remove(path: str) -> None:
  if os.path.isdir(path) and not os.path.islink(path):
    shutil.rmtree(path)
  else:
    os.remove(path)
