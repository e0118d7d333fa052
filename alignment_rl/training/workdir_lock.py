"""One run per workdir at a time: an OS lock held for the run's life.

`WorkdirLock(workdir)` takes an exclusive `fcntl.flock` on `<workdir>/run.lock`
without waiting; a second launch into the same workdir (another process, or another
open of it in this one) gets `WorkdirBusyError`, one line. The kernel releases the
lock when its holder exits or is killed, so a killed run leaves no stale lock; the
(empty) lock file itself stays.
"""

from __future__ import annotations

import fcntl
import os

from alignment_rl.training.checkpointing import CheckpointError

LOCK_FILE = "run.lock"


class WorkdirBusyError(CheckpointError):
  """Another run holds the workdir."""


class WorkdirLock:
  """Holds `<workdir>/run.lock` until `release()` (or the process ends)."""

  def __init__(self, workdir: str):
    self.path = os.path.join(os.path.abspath(workdir), LOCK_FILE)
    self._fd: int | None = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
      fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
      os.close(self._fd)
      self._fd = None
      raise WorkdirBusyError(
        f"workdir {os.path.dirname(self.path)!r} is in use by another run (it holds "
        f"{LOCK_FILE}); wait for it to finish or use another workdir"
      ) from None

  def release(self) -> None:
    if self._fd is not None:
      fcntl.flock(self._fd, fcntl.LOCK_UN)
      os.close(self._fd)
      self._fd = None
