"""Path arguments checked before a run writes anything: the workdir and the folders a
config reads (`data_dir`, `training.init_from`, `reuse_from`, evaluated checkpoints).

Nothing here creates, opens for writing or deletes anything.
"""

from __future__ import annotations

import os

from experiments.config_schema.fields import ConfigError

_WRITABLE = os.W_OK | os.X_OK


def _existing_ancestor(path: str) -> str:
  parent = os.path.dirname(os.path.abspath(path))
  while not os.path.lexists(parent) and os.path.dirname(parent) != parent:
    parent = os.path.dirname(parent)
  return parent


def check_workdir(path: str, field: str = "--workdir") -> None:
  """A workdir is a writable folder, or a new path whose nearest folder is writable."""
  if os.path.lexists(path) and not os.path.isdir(path):
    raise ConfigError(field, path, "a folder or a new path (this is a file)")
  if os.path.isdir(path):
    if not os.access(path, _WRITABLE):
      raise ConfigError(field, path, "a writable folder (this folder is not writable)")
    return
  parent = _existing_ancestor(path)
  if not os.path.isdir(parent):
    raise ConfigError(field, path, f"a path under folders ({parent!r} is a file)")
  if not os.access(parent, _WRITABLE):
    raise ConfigError(field, path, f"a path in a writable folder ({parent!r} is not writable)")


def check_data_dir(path: str, field: str) -> None:
  """'' (the default cache) or a folder, existing or new; never a file."""
  if not path:
    return
  if os.path.lexists(path) and not os.path.isdir(path):
    raise ConfigError(field, path, "'' or a folder (this is a file)")
  if not os.path.isdir(_existing_ancestor(path)):
    raise ConfigError(field, path, "'' or a folder (a parent of it is a file)")


def check_run_folder(path: str, field: str) -> None:
  """An existing folder of a run (a checkpoint to start from or to evaluate)."""
  if not os.path.lexists(path):
    raise ConfigError(field, path, "the folder of a finished run (there is no such path)")
  if not os.path.isdir(path):
    raise ConfigError(field, path, "the folder of a finished run (this is a file)")
