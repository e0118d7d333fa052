"""Metric sinks: JSON lines (always) and TensorBoard (optional), process 0 only."""

from __future__ import annotations

import json
import math
import os
from typing import Any

import jax
import numpy as np


def _to_json(value: Any):
  arr = np.asarray(value)
  if arr.ndim == 0:
    v = arr.item()
    return None if isinstance(v, float) and not math.isfinite(v) else v
  return [_to_json(x) for x in arr]


class MetricsWriter:
  """Appends one JSON object per line to `<workdir>/metrics.jsonl`.

  Each record holds `update`, `env_steps` and, for every metric, its mean over
  seeds and the per-seed values under `<name>/per_seed`. Resuming a run first
  drops lines past the restored update, so the file never holds two records for
  one update.
  """

  def __init__(self, workdir: str, tensorboard: bool = False):
    self.active = jax.process_index() == 0
    self.path = os.path.join(workdir, "metrics.jsonl")
    self._tb = None
    if self.active and tensorboard:
      try:
        from flax.metrics import tensorboard as flax_tb

        self._tb = flax_tb.SummaryWriter(os.path.join(workdir, "tensorboard"))
      except ImportError:  # TensorBoard needs TensorFlow; JSON lines still work.
        self._tb = None

  def truncate_after(self, update: int) -> list[dict[str, Any]]:
    """Keeps only records with `update <= update` (used when resuming); returns them."""
    if not self.active or not os.path.exists(self.path):
      return []
    with open(self.path, encoding="utf-8") as f:
      records = [json.loads(line) for line in f if line.strip()]
    kept = [r for r in records if r["update"] <= update]
    tmp = self.path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
      f.writelines(json.dumps(r) + "\n" for r in kept)
    os.replace(tmp, self.path)
    return kept

  def write(self, update: int, env_steps: int, metrics: dict[str, Any]) -> None:
    if not self.active:
      return
    record: dict[str, Any] = {"update": int(update), "env_steps": int(env_steps)}
    for name, value in sorted(metrics.items()):
      arr = np.asarray(value, np.float64)
      record[name] = _to_json(seed_mean(arr))
      if arr.ndim:
        record[f"{name}/per_seed"] = _to_json(arr)
      if self._tb is not None:
        self._tb.scalar(name, float(arr.mean()), update)
    with open(self.path, "a", encoding="utf-8") as f:
      f.write(json.dumps(record) + "\n")

  def close(self) -> None:
    if self._tb is not None:
      self._tb.flush()


def seed_mean(value) -> float:
  """The mean over seeds as logged (float64), also what the trainer's history holds."""
  return float(np.asarray(value, np.float64).mean())


def seed_means(record: dict[str, Any]) -> dict[str, Any]:
  """A record without its per-seed values: `update` and every metric's seed mean."""
  return {k: v for k, v in record.items() if k != "env_steps" and not k.endswith("/per_seed")}


def read_metrics(workdir: str) -> list[dict[str, Any]]:
  """Reads `<workdir>/metrics.jsonl` into a list of records."""
  with open(os.path.join(workdir, "metrics.jsonl"), encoding="utf-8") as f:
    return [json.loads(line) for line in f if line.strip()]
