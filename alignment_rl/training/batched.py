"""Several runs that share one compiled program, trained as one vmapped program.

Arms of an experiment (a baseline, a trait arm, negative controls, persistence
objectives with the same static shapes) differ only in array leaves: the
environment's params (mixture weights, a control's rubric permutation), the
hyperparameters and the start parameters. `train_together` stacks their runner
states and environment params on a leading run axis and runs

  jit(vmap_runs(vmap_seeds(PPOLoop.run)))

so each chunk of updates is one call for all runs: one compilation, one dispatch,
and operations `len(runs)` times larger, which XLA:CPU runs with less per-operation
overhead. Everything on the host is per run, exactly as `trainer.train` does it:
each run keeps its own workdir (locked, opened by the same-run rule with its own
`training.resume` and `training.overwrite`), checkpoints (the run's slice of the
stacked state, with content digests), metrics, non-finite checks and final
parameters, so a run trained together resumes alone and vice versa. The per-run
results equal those of training each run alone up to float reassociation (tested to
1e-5).

Runs are trained together when they share the program (the same static config), a
single-device mesh, the same chunk schedule and the same resume point; the others
are trained one by one with `trainer.train`.

`batch="auto"` (the default) trains together on accelerators only: on the 2-core
CPU the program is memory-bound, and five conversation arms together run no faster
than one after another (3.5k vs 4.1k graded turns/s, `benchmarks/RESULTS.md`) while
holding five runners in memory.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from tqdm.auto import tqdm

from alignment_rl.training import distributed, trainer


def _stack(trees):
  return jax.tree.map(lambda *xs: jnp.stack(xs), *trees)


def _same(xs) -> bool:
  first = np.asarray(xs[0])
  return all(
    x is xs[0] or (np.shape(x) == first.shape and np.array_equal(np.asarray(x), first))
    for x in xs[1:]
  )


def stack_shared(trees):
  """(tree, axes): leaves equal in every tree kept once (axis None), the others
  stacked on a new leading axis (axis 0). The scenario dataset in the environment's
  params is the same for every arm: kept once, not once per arm."""
  treedef = jax.tree.structure(trees[0])
  columns = zip(*(jax.tree.leaves(t) for t in trees), strict=True)
  leaves, axes = [], []
  for xs in columns:
    shared = _same(xs)
    leaves.append(xs[0] if shared else jnp.stack(xs))
    axes.append(None if shared else 0)
  return jax.tree.unflatten(treedef, leaves), jax.tree.unflatten(treedef, axes)


def _unstack(tree, n: int):
  return [jax.tree.map(lambda x, i=i: x[i], tree) for i in range(n)]


def _groups(configs, programs, runs) -> list[list[int]]:
  """Indices of runs trainable together: same program, chunk schedule, start, stop."""
  groups: dict = {}
  for i, (c, prog, run) in enumerate(zip(configs, programs, runs, strict=True)):
    if prog.mesh.devices.size != 1:
      key = ("alone", i)
    else:
      sched = tuple(trainer._schedule(run, prog))
      key = (id(prog), sched, run.start, run.stop, c.training.checkpoint_every_chunks)
    groups.setdefault(key, []).append(i)
  return list(groups.values())


BATCH_MODES = ("auto", "on", "off")


def check_batch(batch: str) -> bool:
  """Whether runs are trained together under `batch` (one of `BATCH_MODES`)."""
  if batch not in BATCH_MODES:
    raise ValueError(f"batch_runs={batch!r}; allowed: {', '.join(BATCH_MODES)}")
  return batch == "on" or (batch == "auto" and jax.default_backend() != "cpu")


def train_together(configs, workdirs, mesh=None, desc: str = "runs", batch="auto") -> list:
  """Trains (or resumes) every run `configs[i]` in `workdirs[i]`; returns their
  `trainer.TrainResult`s in order. See the module docstring."""
  if len(configs) != len(workdirs):
    raise ValueError(f"train_together: {len(configs)} configs but {len(workdirs)} workdirs")
  for c in configs:
    trainer.check_config(c)  # Before any work (a bad run fails the batch at once).
  if not check_batch(batch):
    return [trainer.train(c, w, mesh) for c, w in zip(configs, workdirs, strict=True)]
  programs = [trainer.get_program(c, mesh) for c in configs]
  runs = []
  try:
    for c, w, prog in zip(configs, workdirs, programs, strict=True):
      runs.append(trainer._open_run(c, w, prog))
    results: list = [None] * len(configs)
    for group in _groups(configs, programs, runs):
      trained = _train_group([runs[i] for i in group], programs[group[0]], desc)
      for i, res in zip(group, trained, strict=True):
        results[i] = res
    return results
  finally:
    for run in runs:
      trainer._close(run)


def _train_group(runs: list, program, desc: str) -> list:
  first_run = runs[0]
  schedule = trainer._schedule(first_run, program)
  if schedule and len(runs) > 1:
    runner = _stack([r.runner for r in runs])
    env_params, env_axes = stack_shared([r.env_params for r in runs])
  every = max(1, first_run.config.training.checkpoint_every_chunks)
  progress = any(bool(r.config.training.progress) for r in runs)
  bar = tqdm(
    total=first_run.stop,
    initial=first_run.start,
    desc=f"{desc} ({len(runs)} together)" if len(runs) > 1 else desc,
    unit="upd",
    disable=not progress or not schedule,
  )
  for i, (first, length) in enumerate(schedule):
    if len(runs) == 1:
      first_run.runner, metrics = program.run_chunk(first_run.runner, length, first_run.env_params)
      per_run = [distributed.to_host(metrics)]
      runners = [first_run.runner]
    else:
      runner, metrics = program.run_chunk_many(runner, length, env_params, env_axes)
      metrics = distributed.to_host(metrics)  # [runs, S, length] per metric.
      per_run = [{k: np.asarray(v)[j] for k, v in metrics.items()} for j in range(len(runs))]
      runners = _unstack(runner, len(runs))
    end = first + length
    for run, r_state, m in zip(runs, runners, per_run, strict=True):
      run.runner = r_state
      trainer._record_chunk(run, program, m, first, length)
      if (i + 1) % every == 0 or end == run.stop:
        run.ckpt.save(end, run.runner)
    bar.update(length)
  bar.close()
  return [trainer._finish(run, program) for run in runs]
