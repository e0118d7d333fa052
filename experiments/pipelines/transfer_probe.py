"""The `transfer_probe` experiment: is transfer to each held-out split learnable?

Trains the supervised probe of `evals/probe.py` (the main job's policy network, fit to
the oracle's replies on training-split contexts without the held-out families) and
scores it with the evaluation suite, beside the best context-free reply (found on the
same suite, `evals/reference`). Writes `results.json` with the per-group means (held-out
domains, held-out formats, held-out families, test) of both, and whether the probe
beats the fixed reply on every held-out group.
"""

from __future__ import annotations

import json
import os

from alignment_rl.data import check_world_version, load_split, world_digest
from alignment_rl.evals import probe, reference, suite
from alignment_rl.evals import reference_search as rs
from alignment_rl.evals.reference_targets import Pack
from experiments.registry import EXPERIMENTS

SPLITS = ("train", "test", "heldout_domains", "heldout_formats")


def run_transfer_probe(config, workdir: str) -> dict:
  check_world_version(config.world_version, "config")
  os.makedirs(workdir, exist_ok=True)
  data_dir = config.get("data_dir") or None
  splits = {s: load_split(s, config.data_config, data_dir) for s in SPLITS}
  max_samples = int(config.max_samples) or None
  out = probe.run_probe(
    splits,
    config.network_kwargs.to_dict(),
    suite_name=config.suite,
    max_samples=max_samples,
    train_scenarios=int(config.train_scenarios),
    num_steps=int(config.num_steps),
    learning_rate=float(config.learning_rate),
    seed=int(config.seed),
  )
  evaluations = suite.get_suite(config.suite)
  targets = reference.evaluation_targets(evaluations, splits, max_samples)
  objective = Pack(targets, splits).mean_objective()
  best = rs.fixed_reply_search(objective, budget=int(config.fixed_budget))
  fixed = reference.grade_replies_on_suite(
    reference.fixed_reply_fn(best.reply), evaluations, splits, max_samples
  )
  fixed_groups = probe.group_means(fixed, evaluations)
  beats = {g: out["groups"][g] > fixed_groups[g] for g in probe.HELDOUT_GROUPS}
  results = {
    "experiment": config.experiment,
    "world": {"version": config.world_version, "content_hash": world_digest(splits)},
    "probe": out,
    "fixed_reply": {"groups": fixed_groups, "evaluations": fixed},
    "probe_beats_fixed_reply": beats,
  }
  with open(os.path.join(workdir, "results.json"), "w", encoding="utf-8") as f:
    json.dump(results, f, indent=1)
  lines = [f"{'group':18s} {'probe':>7s} {'fixed':>7s}"]
  lines += [f"{g:18s} {out['groups'][g]:7.3f} {v:7.3f}" for g, v in fixed_groups.items()]
  print("\n".join(lines))
  return {"groups": out["groups"], "fixed_reply": fixed_groups, "beats": beats}


EXPERIMENTS.add("transfer_probe", run_transfer_probe)
