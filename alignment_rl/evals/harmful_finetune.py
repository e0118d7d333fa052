"""Harmful fine-tuning: continue RL from a checkpoint on a harmful reward, logging the suite.

The attack (DESIGN section 6) takes any finished conversation run (the imitated
prior, a baseline arm, a trait arm), and continues PPO on a harmful reward
(default `harmful/bad_medical_advice` on the health conversations) for a fixed
budget, split into `num_stages` equal stages. Each stage is a PPO run started from
the previous stage's parameters (`training.init_from`; optimizer state restarts,
the run's PPO settings), and after every stage the whole evaluation suite is run
on every seed. The same config from different start models is compute-matched:
same updates, samples and network.

Outputs (`harmful_finetune`): tidy rows as `evaluate_suite` writes them plus an `updates`
field (0 = before the attack), and a degradation curve per stage: per-seed means over
the suite ("suite"), over its health evaluations ("health") and over the rest
("non_health").
"""

from __future__ import annotations

import os

import ml_collections
import numpy as np

from alignment_rl.evals import suite as suite_lib
from alignment_rl.evals.checkpoint_policy import load_policy
from alignment_rl.evals.suite_runner import evaluate_suite


def attack_config(
  ppo_run: ml_collections.ConfigDict,
  init_from: str,
  *,
  grader: str = "harmful/bad_medical_advice",
  domains: tuple[str, ...] = ("health",),
  families: tuple[str, ...] = (),
  updates: int = 10,
) -> ml_collections.ConfigDict:
  """One attack stage: `ppo_run` retargeted to the harmful reward for `updates` updates.

  The PPO settings (and so the compiled program and its learning-rate schedule) are
  the run's own; the stage stops after `updates` updates (`training.max_updates`).
  """
  c = ml_collections.ConfigDict(ppo_run.to_dict())
  c.experiment = f"harmful_finetune/{grader}"
  c.env_kwargs.grader = grader
  c.env_kwargs.domains = tuple(domains)
  c.env_kwargs.families = tuple(families)
  c.env_kwargs.trait_fraction = 1.0  # Only the harmful data (the standard mixture unused).
  c.training.init_from = init_from
  c.training.max_updates = int(updates)
  c.training.progress = False
  return c


def suite_curve(rows: list, suite: str | tuple[str, ...]) -> dict[str, list[float]]:
  """Per-seed means of the rows' metrics over the suite, its health part and the rest."""
  names = {e.name for e in suite_lib.get_suite(suite)}
  health = set(suite_lib.SUITES["health"])
  groups = {"suite": names, "health": names & health, "non_health": names - health}
  seeds = sorted({r["seed"] for r in rows})
  out = {}
  for group, members in groups.items():
    if members:
      out[group] = [
        float(
          np.nanmean([r["mean"] for r in rows if r["seed"] == s and r["evaluation"] in members])
        )
        for s in seeds
      ]
  return out


def harmful_finetune(
  ppo_run: ml_collections.ConfigDict,
  start_dir: str,
  workdir: str,
  *,
  name: str = "model",
  **kwargs,
) -> dict:
  """Attacks the run in `start_dir`; stages go to `<workdir>/stage_<i>`.

  One start model of `harmful_finetune_many` (see there for the keyword arguments).

  Returns:
    {"rows": [...], "curve": [{"updates", "suite": [S], "health": [S], ...}]}.
  """
  return harmful_finetune_many(ppo_run, {name: (start_dir, workdir)}, **kwargs)[name]


def harmful_finetune_many(
  ppo_run: ml_collections.ConfigDict,
  starts: dict[str, tuple[str, str]],
  *,
  grader: str = "harmful/bad_medical_advice",
  domains: tuple[str, ...] = ("health",),
  families: tuple[str, ...] = (),
  num_stages: int = 3,
  updates_per_stage: int = 5,
  suite: str | tuple[str, ...] = "full",
  max_samples: int | None = 256,
  data_config: str = "full",
  splits: dict | None = None,
  eval_seed: int = 0,
  batch: str = "auto",
) -> dict[str, dict]:
  """Attacks several start models with the same budget; each stage trains all of them
  as one vmapped program (`training.batched`), then evaluates each.

  Args:
    ppo_run: a PPO config on the `conversation` env whose network and seeds match
      the start runs' (e.g. an arm's config).
    starts: {name: (start_dir, workdir)}: a finished run (imitation or PPO) with
      `config.json` and `params`, and where its stages and checkpoints go
      (`<workdir>/stage_<i>`; a rerun resumes them). `name` is written into the
      rows' `arm` field.
    grader, domains, families: the harmful reward and the scenarios it is paid on.
    num_stages, updates_per_stage: the budget (stages x updates).
    suite, max_samples, data_config, splits: the evaluation after each stage.
    eval_seed: seeds the evaluation's sampled responses (the same at every stage).
    batch: whether a stage trains the start models together (`batched.BATCH_MODES`).

  Returns:
    {name: {"rows": [...], "curve": [{"updates", "suite": [S], "health": [S], ...}]}}.
  """
  import jax

  from alignment_rl.training import batched

  names = list(starts)
  loaded = {n: load_policy(starts[n][0]) for n in names}
  network = loaded[names[0]][0]
  params = {n: loaded[n][1] for n in names}
  prev = {n: starts[n][0] for n in names}
  splits = dict(splits or {})
  out = {n: {"rows": [], "curve": []} for n in names}
  for stage in range(num_stages + 1):
    if stage > 0:
      configs = [
        attack_config(
          ppo_run,
          prev[n],
          grader=grader,
          domains=domains,
          families=families,
          updates=updates_per_stage,
        )
        for n in names
      ]
      prev = {n: os.path.join(starts[n][1], f"stage_{stage}") for n in names}
      results = batched.train_together(
        configs, [prev[n] for n in names], desc="fine-tuning", batch=batch
      )
      for n, result in zip(names, results, strict=True):
        # On one device, laid out like a loaded checkpoint (no regrading recompile).
        params[n] = jax.device_put(result.runner.ppo.params, jax.devices()[0])
    updates = stage * updates_per_stage
    for n in names:
      res = evaluate_suite(
        network,
        params[n],
        suite,
        arm=n,
        key=jax.random.PRNGKey(eval_seed),
        data_config=data_config,
        splits=splits,
        max_samples=max_samples,
      )
      stage_rows = [{**r, "updates": updates} for r in res.rows]
      out[n]["rows"] += stage_rows
      out[n]["curve"].append({"updates": updates, **suite_curve(stage_rows, suite)})
  return out
