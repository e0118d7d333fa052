"""Experiment runners: `run(config, workdir) -> summary dict`, registered by name.

A config's `experiment` field names its runner here. The foundation registers
plain PPO training; later experiments (conversation world, evaluation suite,
persistence studies) register their own pipelines in the same registry.
"""

from __future__ import annotations

import hashlib
import json
import os

import jax
import numpy as np

from alignment_rl.training import batched, distributed, trainer
from experiments.registry import EXPERIMENTS


def params_digest(params) -> str:
  """SHA-256 of the parameters' bytes (leaf order fixed): equal iff bit-identical."""
  h = hashlib.sha256()
  for leaf in jax.tree.leaves(jax.device_get(params)):
    arr = np.ascontiguousarray(leaf)
    h.update(str((arr.shape, arr.dtype.str)).encode())
    h.update(arr.tobytes())
  return h.hexdigest()


def run_ppo(config, workdir: str) -> dict:
  """Trains PPO on `config.env_name`; writes and returns `summary.json`."""
  return write_summary(config, workdir, trainer.train(config, workdir))


def run_ppo_together(configs, workdirs, batch: str = "on") -> list[dict]:
  """`run_ppo` of several runs (a sweep's points), each in its own workdir; those that
  share a compiled program train as one vmapped program (`batched.train_together`)."""
  results = batched.train_together(
    configs, workdirs, desc=configs[0].get("experiment", "runs"), batch=batch
  )
  return [write_summary(c, w, r) for c, w, r in zip(configs, workdirs, results, strict=True)]


def write_summary(config, workdir: str, result: trainer.TrainResult) -> dict:
  """Writes (atomically) and returns the `summary.json` of a finished PPO run."""
  final_return = np.asarray(result.runner.last_return).mean(axis=-1)  # [S]
  summary = {
    "experiment": config.experiment,
    "env": config.env_name,
    "num_seeds": int(config.num_seeds),
    "num_updates": result.num_updates,
    "env_steps_per_seed": result.num_updates * result.env_steps_per_update,
    "final_return_per_seed": [float(x) for x in final_return],
    "final_return_mean": float(final_return.mean()),
    "resumed_from": result.resumed_from,
    "params_sha256": params_digest(result.runner.ppo.params),
  }
  if distributed.is_primary():  # One writer in a multi-process run.
    path = os.path.join(workdir, "summary.json")
    with open(path + ".tmp", "w", encoding="utf-8") as f:  # Atomic: old summary or new.
      json.dump(summary, f, indent=2)
    os.replace(path + ".tmp", path)
  return summary


EXPERIMENTS.add("ppo", run_ppo)
EXPERIMENTS.add("cartpole_ppo", run_ppo)
