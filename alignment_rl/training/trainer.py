"""The host loop: jitted chunks of PPO updates, logging, checkpoints and resume.

`train(config, workdir)` runs `config.num_seeds` independent seeds in one
compiled program (vmap), split over a device mesh (jit with NamedSharding; the
environments, data-parallel, or the seeds: `config.split_over`), in chunks of
`config.training.updates_per_chunk` updates. Between chunks the host writes
metrics (JSON lines; optional TensorBoard, W&B), advances a tqdm bar, stops on a
non-finite loss or parameters (`finite`), and saves an orbax checkpoint. Started
again with the same workdir and config (`run_workdir`: the same-run rule), it
resumes from the newest good checkpoint (`training.resume`), dropping metrics past
it; chunk boundaries depend only on the config, so the final parameters, metrics and
summary are bit-identical whether or not the run was interrupted. The workdir is
locked for the run's life (`workdir_lock`): a second launch into it is refused.
With several processes (`distributed`) every process runs this loop on its share of
the mesh; process 0 holds the lock and writes the workdir's files, and the result's
runner is a host copy, whole on every process.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from typing import Any

import jax
import numpy as np
from tqdm.auto import tqdm

from alignment_rl.training import (
  checkpointing,
  distributed,
  metrics_writer,
  run_workdir,
  scalar_sinks,
  seed_axis,
  workdir_lock,
)
from alignment_rl.training.finite import NonFiniteLossError, check_loss, check_params
from alignment_rl.training.program import (  # noqa: F401  (re-exported: the trainer's API)
  _PROGRAMS,
  Program,
  _coefs,
  _hparams,
  _seed_keys,
  get_program,
)

__all__ = ["NonFiniteLossError", "TrainResult", "check_config", "chunk_schedule", "train"]


def check_config(config) -> None:
  """The trainer's own guard, before any work: one-line errors for settings that
  would hang or lose state."""
  n = config.num_seeds
  if isinstance(n, bool) or not isinstance(n, int) or n < 1:
    raise ValueError(f"num_seeds={n!r}; allowed: >= 1")
  t = config.training
  keep = t.keep_checkpoints
  if isinstance(keep, bool) or not isinstance(keep, int) or keep < 1:
    raise ValueError(f"training.keep_checkpoints={keep!r}; allowed: >= 1")
  resume = t.get("resume", "latest")
  if resume not in checkpointing.RESUME_MODES:
    raise ValueError(
      f"training.resume={resume!r}; allowed: {', '.join(checkpointing.RESUME_MODES)}"
    )
  if not isinstance(t.get("overwrite", False), bool):
    raise ValueError(f"training.overwrite={t.get('overwrite')!r}; allowed: True, False")
  seed_axis.check_seed_batching(config.get("seed_batching", "auto"))
  seed_axis.check_length_buckets(config.get("length_buckets"))


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
  lock: workdir_lock.WorkdirLock | None = None
  clock: float | None = None  # When the last chunk was recorded (throughput).


def _open_run(config, workdir: str, program: Program) -> _Run:
  """Opens `workdir` (locked) by the same-run rule: restores the newest good checkpoint
  or builds the initial runner (`init_from` parameters, the EWC Fisher), then drops
  metrics past the start and stale final outputs."""
  check_config(config)
  os.makedirs(workdir, exist_ok=True)
  config_dict = json.loads(config.to_json_best_effort())
  primary = distributed.is_primary()
  lock = _lock(workdir)
  ckpt = writer = None
  t = config.training

  def open_state():
    return (
      checkpointing.Checkpointer(
        workdir,
        config_dict,
        keep=t.keep_checkpoints,
        async_save=t.async_checkpoints,
        resume=t.get("resume", "latest"),
      ),
      metrics_writer.MetricsWriter.for_run(workdir, config, config_dict),
    )

  try:
    replacing = run_workdir.recorded_differences(workdir, config_dict, t.get("overwrite", False))
    distributed.sync(f"read {workdir}")  # Process 0 writes only once every process has read.
    loaded = None
    if not replacing:  # Damaged metrics fail here, before anything changes.
      loaded = metrics_writer.MetricsWriter(workdir).load()
      ckpt, writer = open_state()
    env_params = program.env_params_for(config)
    keys = _seed_keys(config.seed, config.num_seeds)
    runner = program.init(keys, _hparams(config), env_params, _coefs(config))
    start = ckpt.latest_step() if ckpt is not None else None
    resumed_from = start
    if start is not None:
      runner = ckpt.restore(start, runner)
    else:
      init_from = t.get("init_from", "")
      if init_from:
        params = checkpointing.load_final_params(init_from, runner.ppo.params)
        runner = runner.replace(ppo=runner.ppo.replace(params=params))
        persist = runner.ppo.persist
        if persist is not None and persist.anchor is not None:  # Anchor to the start model.
          runner = runner.replace(ppo=runner.ppo.replace(persist=persist.replace(anchor=params)))
      if "ewc" in program.loop.objectives:
        runner = program.estimate_fisher(runner, env_params)
    runner = jax.block_until_ready(runner)  # Restores and transfers done before chunks.
    # `training.max_updates` (0: all) stops early, e.g. an attack of N updates that
    # reuses an arm's compiled program (and learning-rate schedule).
    stop = int(t.get("max_updates", 0) or 0) or program.num_updates
    stop = min(stop, program.num_updates)
    # The run starts: from here on the workdir's state changes.
    history = []
    if replacing:  # Every process opens the checkpoints once process 0 has replaced them.
      if primary:
        run_workdir.replace_old_run(workdir, replacing)
      distributed.sync(f"replaced {workdir}")
      ckpt, writer = open_state()
    if primary:
      if not replacing:
        kept = writer.truncate_after(start or 0, loaded)
        history = [metrics_writer.seed_means(r) for r in kept]
      if start is None or start < stop:
        run_workdir.remove_final_outputs(workdir)
      if start is None or not os.path.exists(os.path.join(workdir, run_workdir.CONFIG_FILE)):
        run_workdir.write_config(workdir, config_dict)
  except BaseException:
    for part in (writer, ckpt):
      if part is not None:
        part.close()
    if lock is not None:
      lock.release()
    raise
  return _Run(
    config, workdir, ckpt, writer, env_params, runner, start or 0, stop, history, resumed_from, lock
  )


def _lock(workdir: str) -> workdir_lock.WorkdirLock | None:
  """Process 0 locks the workdir for the run; the others learn whether it could, so
  that a busy workdir fails every process at once."""
  lock = busy = None
  if distributed.is_primary():
    try:
      lock = workdir_lock.WorkdirLock(workdir)
    except workdir_lock.WorkdirBusyError as e:
      busy = e
  if distributed.from_primary(int(busy is not None)):
    raise busy or workdir_lock.WorkdirBusyError(
      f"workdir {workdir!r} is in use by another run (process 0 could not lock it)"
    )
  return lock


def _schedule(run: _Run, program: Program) -> list[tuple[int, int]]:
  """The chunks (first update, length) still to run."""
  return [
    (first, min(length, run.stop - first))
    for first, length in chunk_schedule(program.num_updates, run.config.training.updates_per_chunk)
    if run.start <= first < run.stop
  ]


def _last_checkpoint(run: _Run) -> int | None:
  try:
    run.ckpt.wait()  # The step being saved counts once its digest is recorded.
  except checkpointing.CheckpointError:
    pass
  return run.ckpt.latest_step()


def _record_chunk(run: _Run, program: Program, metrics, first: int, length: int) -> None:
  """Checks the chunk's loss and the runner's parameters, then logs its metrics
  (`metrics`: host [S, length])."""
  check_loss(metrics["loss"], first, lambda: _last_checkpoint(run))
  check_params(run.runner.ppo.params, first + length, lambda: _last_checkpoint(run))
  for j in range(length):
    upd = first + j + 1
    rec = {k: np.asarray(v)[:, j] for k, v in metrics.items()}
    run.writer.write(upd, upd * program.steps_per_update, rec)
    run.history.append({"update": upd, **{k: metrics_writer.seed_mean(v) for k, v in rec.items()}})
  _record_throughput(run, program, first + length, length)


def _record_throughput(run: _Run, program: Program, update: int, length: int) -> None:
  """Env steps per second (all seeds) since the previous chunk's record, to the
  TensorBoard / W&B sinks only (machine-dependent: not in metrics.jsonl). The first
  chunk of an invocation, which compiles, only starts the clock."""
  now = time.perf_counter()
  if run.clock is not None and now > run.clock:
    steps = length * program.steps_per_update * run.config.num_seeds
    run.writer.write_scalars(update, {scalar_sinks.THROUGHPUT_TAG: steps / (now - run.clock)})
  run.clock = now


def _finish(run: _Run, program: Program) -> TrainResult:
  run.ckpt.wait()
  checkpointing.save_final_params(run.workdir, run.runner.ppo.params)
  runner = run.runner
  if distributed.multiprocess():  # Whole on every process: summaries, evaluations.
    runner = distributed.to_host(runner)
  return TrainResult(runner, run.history, run.stop, program.steps_per_update, run.resumed_from)


def _close(run: _Run) -> None:
  try:
    run.writer.close()
    run.ckpt.close()
  finally:
    if run.lock is not None:
      run.lock.release()


def train(config, workdir: str, mesh=None) -> TrainResult:
  """Trains (or resumes) the run of `config` in `workdir`; see the module docstring."""
  check_config(config)
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
      metrics = distributed.to_host(metrics)  # [S, length] per metric.
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
