"""Wall time per pipeline phase, with the XLA compilation time spent inside each.

  timer = PhaseTimer()
  with timer.phase("imitation"):
    ...
  timer.table()  # {"imitation": {"wall_s": 81.2, "compile_s": 9.4}, ..., "total": ...}

Compilation time is JAX's own measurement of backend compilation (the
`/jax/core/compile/backend_compile_duration` monitoring event), summed over every
compilation that finishes while a phase is open; a program found in the persistent
compilation cache costs its (much shorter) load instead.
"""

from __future__ import annotations

import contextlib
import time

import jax

_COMPILE_EVENT = "/jax/core/compile/backend_compile_duration"
_compile_s = [0.0]  # Process-wide running total (listeners cannot be unregistered).
_listening = [False]


def _on_duration(event: str, duration_secs: float, **_) -> None:
  if event == _COMPILE_EVENT:
    _compile_s[0] += float(duration_secs)


def compile_seconds() -> float:
  """Backend compilation seconds since the first `PhaseTimer` was made."""
  return _compile_s[0]


class PhaseTimer:
  """Records {phase: wall seconds, compile seconds}; phases may repeat (summed)."""

  def __init__(self):
    if not _listening[0]:
      jax.monitoring.register_event_duration_secs_listener(_on_duration)
      _listening[0] = True
    self._rows: dict[str, dict[str, float]] = {}
    self._start = time.perf_counter()
    self._compile0 = compile_seconds()

  @contextlib.contextmanager
  def phase(self, name: str):
    t0, c0 = time.perf_counter(), compile_seconds()
    try:
      yield
    finally:
      row = self._rows.setdefault(name, {"wall_s": 0.0, "compile_s": 0.0})
      row["wall_s"] += time.perf_counter() - t0
      row["compile_s"] += compile_seconds() - c0

  def table(self) -> dict[str, dict[str, float]]:
    """Every phase in order, then `total` (wall time since construction)."""
    rows = {k: {f: round(v, 2) for f, v in r.items()} for k, r in self._rows.items()}
    rows["total"] = {
      "wall_s": round(time.perf_counter() - self._start, 2),
      "compile_s": round(compile_seconds() - self._compile0, 2),
    }
    return rows
