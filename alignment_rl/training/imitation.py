r"""Imitation of the assistant prior: the pre-RL start model of every arm (DESIGN section 5).

`train_prior_policy(config, workdir)` clones the scripted prior
(`envs.conversations.prior`) into a `ResponseActorCritic`: the batches are
`imitation_batches.prior_batch` (first- and second-turn contexts with the prior's
replies), the loss and the compiled steps `imitation_program.Imitation` (teacher-forced
cross-entropy, optional value warm start), and the evaluation compares the prior's and
the imitated policy's replies on `data.eval_split`.

Seeds are vmapped: parameters carry a leading seed axis, the layout of the PPO
runner's `runner.ppo.params`, and `checkpointing.save_final_params(workdir, params)`
writes them, so a PPO config with the same `network`, `network_kwargs` and `num_seeds`
starts from them with `training.init_from=<workdir>` (seed i from imitation seed i).
"""

from __future__ import annotations

import json
import os
import time

import jax
import jax.numpy as jnp
import numpy as np
from tqdm.auto import tqdm

from alignment_rl.data import load_split
from alignment_rl.data.select import split_rows
from alignment_rl.language import schema
from alignment_rl.training import (
  checkpointing,
  metrics_writer,
  run_workdir,
  sharding,
  workdir_lock,
)
from alignment_rl.training.imitation_program import Imitation

_CURVE = ("bc_loss", "token_accuracy")  # summary curve: step 1, then means over each chunk


def _load(config, split: str, drop_heldout: bool = False) -> dict:
  """A split as device arrays; `drop_heldout` removes the held-out families
  (`schema.HELDOUT_FAMILIES`), which the prior never imitates on."""
  overlap = config.data.get("surface_overlap")
  kw = {} if overlap is None else {"surface_overlap": float(overlap)}
  arrays = load_split(split, config.data.config, config.data.data_dir or None, **kw)
  if drop_heldout:
    keep = split_rows(arrays, exclude_families=schema.HELDOUT_FAMILIES)
    arrays = {k: v[keep] for k, v in arrays.items()}
  return {k: jnp.asarray(v) for k, v in arrays.items()}


def train_prior_policy(config, workdir: str) -> dict:
  """Clones the prior, writes `params`, `metrics.jsonl`, `config.json`, `summary.json`.

  Returns the summary: config facts, `train_seconds` (data, compilation and training),
  `curve` (BC loss and token accuracy), and (if `eval_samples` > 0) `compare_with_prior`'s
  numbers on `data.eval_split`. The trainer's same-run rule holds (`run_workdir`): a
  workdir recorded with another config is refused; a finished run of this config
  (summary and params exist) is not redone; an unfinished one (a killed run) trains
  again from scratch, its metric rows and stale outputs dropped, saying so. The
  workdir is locked while it trains.
  """
  config_dict = json.loads(config.to_json_best_effort())
  if os.path.isdir(workdir):
    run_workdir.recorded_differences(workdir, config_dict, overwrite=False)
  summary_path = os.path.join(workdir, "summary.json")
  if os.path.exists(summary_path) and os.path.isdir(os.path.join(workdir, "params")):
    with open(summary_path, encoding="utf-8") as f:
      return json.load(f)
  os.makedirs(workdir, exist_ok=True)
  lock = workdir_lock.WorkdirLock(workdir)
  try:
    return _train_prior(config, workdir, config_dict, summary_path)
  finally:
    lock.release()


def start_over(workdir: str, config_dict: dict) -> metrics_writer.MetricsWriter:
  """Prepares an unfinished prior's workdir to train from scratch: removes stale
  outputs and the metric rows of a killed attempt (saying so), records the config;
  returns the metrics writer."""
  run_workdir.remove_final_outputs(workdir)
  run_workdir.write_config(workdir, config_dict)
  writer = metrics_writer.MetricsWriter(workdir)
  writer.truncate_after(0)
  return writer


def _train_prior(config, workdir: str, config_dict: dict, summary_path: str) -> dict:
  writer = start_over(workdir, config_dict)
  ic, start = config.imitation, time.time()
  train = _load(config, config.data.split, drop_heldout=True)
  evaluation = _load(config, config.data.eval_split)
  program = Imitation(config)
  state = sharding.split_seeds(
    program.init(config.seed, config.num_seeds), config.split_over, config.num_devices
  )
  curve = []
  bar = tqdm(total=ic.num_steps, desc="imitate_prior", unit="step", disable=not ic.progress)
  for first in range(0, ic.num_steps, ic.steps_per_chunk):
    length = min(ic.steps_per_chunk, ic.num_steps - first)
    state, metrics = program.run_chunk(state, train, length)
    metrics = {k: np.asarray(v) for k, v in jax.device_get(metrics).items()}  # [T, S]
    if not np.all(np.isfinite(metrics["loss"])):
      raise FloatingPointError(f"imitation: non-finite loss in steps {first + 1}..{first + length}")
    for j in range(length):
      writer.write(
        first + j + 1, (first + j + 1) * ic.batch_size, {k: v[j] for k, v in metrics.items()}
      )
    if not curve:  # the loss of the initial parameters
      curve.append({"step": 1, **{k: float(metrics[k][0].mean()) for k in _CURVE}})
    curve.append({"step": first + length, **{k: float(metrics[k].mean()) for k in _CURVE}})
    bar.update(length)
    bar.set_postfix(loss=f"{curve[-1]['bc_loss']:.3f}", acc=f"{curve[-1]['token_accuracy']:.3f}")
  bar.close()
  writer.close()
  summary = {"experiment": config.experiment, "num_seeds": config.num_seeds}
  summary.update(num_steps=ic.num_steps, train_seconds=round(time.time() - start, 1))
  summary.update(curve=curve, eval_split=config.data.eval_split)
  checkpointing.save_final_params(workdir, state[0])
  if ic.eval_samples > 0:
    start = time.time()
    summary.update(
      program.compare_with_prior(state[0], evaluation, jax.random.PRNGKey(config.seed + 1))
    )
    summary["eval_seconds"] = round(time.time() - start, 1)
  # Written atomically: the run is finished once summary.json exists.
  with open(summary_path + ".tmp", "w", encoding="utf-8") as f:
    json.dump(summary, f, indent=2)
  os.replace(summary_path + ".tmp", summary_path)
  return summary
