"""Metrics: JSON lines (always), TensorBoard and W&B (optional, `scalar_sinks`); process 0."""

from __future__ import annotations

import json
import math
import os
from typing import Any

import numpy as np

from alignment_rl.training import distributed, scalar_sinks
from alignment_rl.training.checkpointing import CheckpointError, notify


class MetricsFileError(CheckpointError):
  """A line of metrics.jsonl other than a truncated last line is damaged."""


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
  drops lines past the restored update (restarting from scratch: every line) and a
  last line cut off by a kill, so the file never holds two records for one update.
  The seed means also go, tagged by the metric's name, to the sinks asked for
  (`scalar_sinks`: TensorBoard event files, a W&B run).
  """

  def __init__(
    self,
    workdir: str,
    tensorboard: bool = False,
    wandb: bool = False,
    wandb_mode: str = "offline",
    name: str = "train",
    config: dict | None = None,
  ):
    self.active = distributed.is_primary()
    self.path = os.path.join(workdir, "metrics.jsonl")
    self._sinks = []  # TensorBoard, W&B: `scalar_sinks`.
    if self.active:
      self._sinks = scalar_sinks.open_sinks(workdir, tensorboard, wandb, wandb_mode, name, config)

  @classmethod
  def for_run(cls, workdir: str, config, config_dict: dict | None = None) -> MetricsWriter:
    """The writer of a PPO run: its sinks as `config.training` asks."""
    t = config.training
    return cls(
      workdir,
      tensorboard=bool(t.get("log_tensorboard", False)),
      wandb=bool(t.get("wandb", False)),
      wandb_mode=t.get("wandb_mode", "offline"),
      name=config.get("experiment", "train"),
      config=config_dict,
    )

  def load(self) -> tuple[list[dict[str, Any]], int | None]:
    """Reads the records already written: (records, line number of a truncated last
    line or None). A killed run may leave its last line cut off; a damaged line
    anywhere else raises `MetricsFileError` naming the file and line."""
    if not self.active or not os.path.exists(self.path):
      return [], None
    return read_records(self.path)

  def truncate_after(self, update: int, loaded=None) -> list[dict[str, Any]]:
    """Keeps only records with `update <= update` (resuming; 0: restarting from
    scratch) and drops a truncated last line, rewriting the file atomically and saying
    so in one line when anything is dropped; returns the records kept."""
    records, cut_line = loaded if loaded is not None else self.load()
    if not self.active or not os.path.exists(self.path):
      return []
    kept = [r for r in records if r["update"] <= update]
    if len(kept) == len(records) and cut_line is None:
      return kept
    tmp = self.path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
      f.writelines(json.dumps(r) + "\n" for r in kept)
      f.flush()
      os.fsync(f.fileno())
    os.replace(tmp, self.path)
    if cut_line is not None:
      notify(f"{self.path}: repaired: dropped its truncated last line {cut_line} (a killed run's)")
    if len(kept) < len(records):
      why = f"after update {update}, the restored checkpoint" if update else "(restarting)"
      notify(f"{self.path}: dropped {len(records) - len(kept)} records {why}")
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
    with open(self.path, "a", encoding="utf-8") as f:
      f.write(json.dumps(record) + "\n")  # One write: a kill cuts at most this line.
    self.write_scalars(update, {k: seed_mean(v) for k, v in metrics.items()})

  def write_scalars(self, update: int, scalars: dict[str, float]) -> None:
    """Scalars for the sinks only (e.g. throughput, which depends on the machine and
    so stays out of `metrics.jsonl`)."""
    for sink in self._sinks if self.active else ():
      sink.write(update, scalars)

  def close(self) -> None:
    for sink in self._sinks:
      sink.close()


def seed_mean(value) -> float:
  """The mean over seeds as logged (float64), also what the trainer's history holds."""
  return float(np.asarray(value, np.float64).mean())


def seed_means(record: dict[str, Any]) -> dict[str, Any]:
  """A record without its per-seed values: `update` and every metric's seed mean."""
  return {k: v for k, v in record.items() if k != "env_steps" and not k.endswith("/per_seed")}


def read_records(path: str) -> tuple[list[dict[str, Any]], int | None]:
  """The records of a metrics file and the line number of its truncated last line
  (None if it has none); raises `MetricsFileError` for any other damaged line."""
  with open(path, encoding="utf-8", errors="replace") as f:  # Damage: a bad line.
    text = f.read()
  lines = text.split("\n")  # The last item is "" when the file ends with a newline.
  cut_line = None
  if lines[-1].strip():  # Not newline-terminated: a write cut off by a kill.
    cut_line = len(lines)
  lines = lines[:-1]
  records = []
  for i, line in enumerate(lines, start=1):
    if not line.strip():
      continue
    try:
      record = json.loads(line)
      if not isinstance(record, dict) or not isinstance(record.get("update"), int):
        raise ValueError("not a record with an integer update")
    except ValueError as e:
      raise MetricsFileError(f"{path} line {i} is corrupt ({str(e)[:80]})") from e
    records.append(record)
  return records, cut_line


def read_metrics(workdir: str) -> list[dict[str, Any]]:
  """Reads `<workdir>/metrics.jsonl` into a list of records (a truncated last line,
  which the next resume drops, is skipped)."""
  return read_records(os.path.join(workdir, "metrics.jsonl"))[0]
