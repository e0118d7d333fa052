"""The host loop: jitted chunks of PPO updates, logging, checkpoints and resume.

`train(config, workdir)` runs `config.num_seeds` independent seeds in one
compiled program (vmap), split over a device mesh (jit with NamedSharding; the
environments, data-parallel, or the seeds: `config.split_over`), in chunks of
`config.training.updates_per_chunk` updates. Between chunks the host writes
metrics (JSON lines, optional TensorBoard), advances a tqdm bar, stops on a
non-finite loss, and saves an orbax checkpoint. Started
again with the same workdir, it resumes from the latest checkpoint; chunk
boundaries depend only on the config, so the final parameters are
bit-identical whether or not the run was interrupted.
"""

from __future__ import annotations

import dataclasses
import json
import os
from typing import Any

import jax
import numpy as np
from tqdm.auto import tqdm

from alignment_rl.training import checkpointing, metrics_writer
from alignment_rl.training.program import (  # noqa: F401  (re-exported: the trainer's API)
  _PROGRAMS,
  Program,
  _coefs,
  _hparams,
  _seed_keys,
  _static_key,
  get_program,
)


class NonFiniteLossError(FloatingPointError):
  """The loss became NaN or infinite."""


@dataclasses.dataclass
class TrainResult:
  runner: Any  # The final runner state (leading seed axis).
  # Seed means per update of the whole run: on a resume, the updates before it are
  # read back from metrics.jsonl (process 0; other processes: this invocation's).
  history: list[dict[str, Any]]
  num_updates: int
  env_steps_per_update: int
  resumed_from: int | None


def chunk_schedule(num_updates: int, updates_per_chunk: int) -> list[tuple[int, int]]:
  """[(first_update, length)] of each chunk; depends on the config only."""
  size = max(1, min(updates_per_chunk, num_updates))
  return [(s, min(size, num_updates - s)) for s in range(0, num_updates, size)]


@dataclasses.dataclass
class _Run:
  """One run's host-side state between chunks (see `train`)."""

  config: Any
  workdir: str
  ckpt: checkpointing.Checkpointer
  writer: metrics_writer.MetricsWriter
  env_params: Any
  runner: Any
  start: int
  stop: int
  history: list
  resumed_from: int | None


def _open_run(config, workdir: str, program: Program) -> _Run:
  """Opens `workdir`: restores the latest checkpoint (truncating later metrics) or
  builds the initial runner (`init_from` parameters, the EWC Fisher)."""
  os.makedirs(workdir, exist_ok=True)
  config_dict = json.loads(config.to_json_best_effort())
  ckpt = checkpointing.Checkpointer(
    workdir,
    config_dict,
    keep=config.training.keep_checkpoints,
    async_save=config.training.async_checkpoints,
  )
  writer = metrics_writer.MetricsWriter(workdir, config.training.log_tensorboard)
  try:
    env_params = program.env_params_for(config)
    keys = _seed_keys(config.seed, config.num_seeds)
    runner = program.init(keys, _hparams(config), env_params, _coefs(config))
    start = ckpt.latest_step()
    resumed_from = start
    history = []
    if start is not None:
      runner = ckpt.restore(start, runner)
      history = [metrics_writer.seed_means(r) for r in writer.truncate_after(start)]
    else:
      start = 0
      init_from = config.training.get("init_from", "")
      if init_from:
        params = checkpointing.load_final_params(init_from, runner.ppo.params)
        runner = runner.replace(ppo=runner.ppo.replace(params=params))
        persist = runner.ppo.persist
        if persist is not None and persist.anchor is not None:  # Anchor to the start model.
          runner = runner.replace(ppo=runner.ppo.replace(persist=persist.replace(anchor=params)))
      if "ewc" in program.loop.objectives:
        runner = program.estimate_fisher(runner, env_params)
      with open(os.path.join(workdir, "config.json"), "w", encoding="utf-8") as f:
        json.dump(config_dict, f, indent=2)
    runner = jax.block_until_ready(runner)  # Restores and transfers done before chunks.
  except BaseException:
    writer.close()
    ckpt.close()
    raise
  # `training.max_updates` (0: all) stops early, e.g. an attack of N updates that
  # reuses an arm's compiled program (and learning-rate schedule).
  stop = int(config.training.get("max_updates", 0) or 0) or program.num_updates
  stop = min(stop, program.num_updates)
  return _Run(config, workdir, ckpt, writer, env_params, runner, start, stop, history, resumed_from)


def _schedule(run: _Run, program: Program) -> list[tuple[int, int]]:
  """The chunks (first update, length) still to run."""
  return [
    (first, min(length, run.stop - first))
    for first, length in chunk_schedule(program.num_updates, run.config.training.updates_per_chunk)
    if run.start <= first < run.stop
  ]


def _record_chunk(run: _Run, program: Program, metrics, first: int, length: int) -> None:
  """Checks the chunk's loss, then logs its metrics (`metrics`: host [S, length])."""
  loss = np.asarray(metrics["loss"])
  if not np.all(np.isfinite(loss)):
    bad_seed, bad_upd = np.argwhere(~np.isfinite(loss))[0]
    raise NonFiniteLossError(
      f"non-finite loss at update {first + bad_upd + 1} in seed {bad_seed}; "
      f"stopped, and the last checkpoint (update {run.ckpt.latest_step()}) is kept"
    )
  for j in range(length):
    upd = first + j + 1
    rec = {k: np.asarray(v)[:, j] for k, v in metrics.items()}
    run.writer.write(upd, upd * program.steps_per_update, rec)
    run.history.append({"update": upd, **{k: metrics_writer.seed_mean(v) for k, v in rec.items()}})


def _finish(run: _Run, program: Program) -> TrainResult:
  run.ckpt.wait()
  checkpointing.save_final_params(run.workdir, run.runner.ppo.params)
  return TrainResult(run.runner, run.history, run.stop, program.steps_per_update, run.resumed_from)


def _close(run: _Run) -> None:
  run.writer.close()
  run.ckpt.close()


def train(config, workdir: str, mesh=None) -> TrainResult:
  """Trains (or resumes) the run of `config` in `workdir`; see the module docstring."""
  program = get_program(config, mesh)
  run = _open_run(config, workdir, program)
  try:
    bar = tqdm(
      total=run.stop,
      initial=run.start,
      desc=config.get("experiment", "train"),
      unit="upd",
      disable=not config.training.progress,
    )
    every = max(1, config.training.checkpoint_every_chunks)
    for i, (first, length) in enumerate(_schedule(run, program)):
      run.runner, metrics = program.run_chunk(run.runner, length, run.env_params)
      metrics = jax.device_get(metrics)  # [S, length] per metric.
      _record_chunk(run, program, metrics, first, length)
      bar.update(length)
      bar.set_postfix(ret=f"{np.mean(metrics['episode_return'][:, -1]):.1f}")
      end = first + length
      if (i + 1) % every == 0 or end == run.stop:
        run.ckpt.save(end, run.runner)
    bar.close()
    return _finish(run, program)
  finally:
    _close(run)
