"""Scalars for people: TensorBoard event files and Weights & Biases, beside metrics.jsonl.

`metrics.jsonl` is the record of a run (`metrics_writer`); the sinks here draw it:

* TensorBoard (`training.log_tensorboard=True`): event files under
  `<workdir>/tensorboard`, written by tensorboardX (protobuf and numpy only, no
  TensorFlow). A resumed run's writer starts with TensorBoard's purge marker at its
  first update, so the curves of an interrupted invocation past the restored
  checkpoint are hidden, as `metrics.jsonl` drops their lines.
* Weights & Biases (`training.wandb=True`, `pip install 'alignment_rl[wandb]'`): one
  run per invocation under `<workdir>/wandb`, `training.wandb_mode` "offline" by
  default (`wandb sync` uploads it later), named by the config's `experiment`.

A sink asked for but not installed is said in one line on stderr (once per process)
and skipped; the run and its `metrics.jsonl` go on. Sinks open at their first write.
"""

from __future__ import annotations

import math
import os
import sys
from typing import Any

from alignment_rl.training import distributed

TENSORBOARD_DIR = "tensorboard"
WANDB_DIR = "wandb"
WANDB_MODES = ("offline", "online", "disabled")
# Environment steps per second over all seeds, between two chunks' records.
THROUGHPUT_TAG = "throughput/env_steps_per_sec"
SUITE_PREFIX = "suite/"  # suite/<category>: the evaluation suite's mean score.

_TB_MISSING = (
  "training.log_tensorboard=True but tensorboardX is not installed "
  "(pip install 'tensorboardX>=2.6,<3'); no TensorBoard files, metrics.jsonl only"
)
_WANDB_MISSING = (
  "training.wandb=True but wandb is not installed "
  "(pip install 'alignment_rl[wandb]'); no W&B run, metrics.jsonl only"
)
_warned: set[str] = set()


def warn_once(message: str) -> None:
  """One line on stderr, once per process for each message."""
  if message not in _warned:
    _warned.add(message)
    print(f"WARNING: {message}", file=sys.stderr, flush=True)


class TensorBoardSink:
  """Scalars as TensorBoard event files in `logdir` (tensorboardX; no TensorFlow)."""

  def __init__(self, logdir: str, purge: bool = True):
    from tensorboardX import SummaryWriter  # ImportError: see `open_sinks`.

    self.logdir, self._purge, self._cls, self._writer = logdir, purge, SummaryWriter, None

  def write(self, step: int, scalars: dict[str, float]) -> None:
    if self._writer is None:
      # purge_step: TensorBoard hides this run's earlier events at steps >= `step`. The
      # suffix keeps two invocations started within one second in two files.
      kw = {"purge_step": int(step)} if self._purge else {}
      suffix = f".update{int(step):010d}" if self._purge else ".suite"
      self._writer = self._cls(self.logdir, flush_secs=30, filename_suffix=suffix, **kw)
    for tag, value in scalars.items():
      self._writer.add_scalar(tag, float(value), int(step))

  def close(self) -> None:
    if self._writer is not None:
      self._writer.close()
      self._writer = None


class WandbSink:
  """Scalars as a Weights & Biases run under `<workdir>/wandb` (offline by default)."""

  def __init__(self, workdir: str, mode: str, name: str, config: dict | None):
    import wandb  # ImportError: see `open_sinks`.

    if mode not in WANDB_MODES:
      raise ValueError(f"training.wandb_mode={mode!r}; allowed: {', '.join(WANDB_MODES)}")
    self._wandb, self._run = wandb, None
    self._args = dict(
      project=os.environ.get("WANDB_PROJECT", "alignment_rl"),
      name=name,
      dir=workdir,
      mode=mode,
      config=config,
      reinit="create_new",  # Arms trained together each keep their own run.
    )

  def write(self, step: int, scalars: dict[str, float]) -> None:
    if self._run is None:
      os.makedirs(os.path.join(self._args["dir"], WANDB_DIR), exist_ok=True)
      self._run = self._wandb.init(**self._args)
    self._run.log({k: float(v) for k, v in scalars.items()}, step=int(step))

  def close(self) -> None:
    if self._run is not None:
      self._run.finish()
      self._run = None


def open_sinks(
  workdir: str,
  tensorboard: bool = False,
  wandb: bool = False,
  wandb_mode: str = "offline",
  name: str = "train",
  config: dict | None = None,
) -> list:
  """The sinks asked for that are installed; each one missing is said in one line."""
  sinks: list = []
  if tensorboard:
    try:
      sinks.append(TensorBoardSink(os.path.join(workdir, TENSORBOARD_DIR)))
    except ImportError:
      warn_once(_TB_MISSING)
  if wandb:
    try:
      sinks.append(WandbSink(workdir, wandb_mode, name, config))
    except ImportError:
      warn_once(_WANDB_MISSING)
  return sinks


def suite_scalars(rows: list[dict[str, Any]]) -> dict[str, float]:
  """`suite/<category>`: the mean over a category's evaluations and seeds of the
  suite's tidy rows (`evals.suite_runner`; NaN means, e.g. no samples, left out)."""
  by_category: dict[str, list[float]] = {}
  for r in rows:
    mean = float(r["mean"])
    if math.isfinite(mean):
      by_category.setdefault(r["category"], []).append(mean)
  return {SUITE_PREFIX + c: sum(v) / len(v) for c, v in sorted(by_category.items())}


def log_suite_scores(workdir: str, step: int, rows: list[dict[str, Any]]) -> dict[str, float]:
  """Writes an arm's suite scores per category into its TensorBoard directory at
  `step` (its last update), beside its training curves (process 0); returns the
  scalars."""
  scalars = suite_scalars(rows)
  if not distributed.is_primary():
    return scalars
  try:  # No purge marker: the training curves up to `step` stay.
    sink = TensorBoardSink(os.path.join(workdir, TENSORBOARD_DIR), purge=False)
  except ImportError:
    warn_once(_TB_MISSING)
    return scalars
  sink.write(step, scalars)
  sink.close()
  return scalars
