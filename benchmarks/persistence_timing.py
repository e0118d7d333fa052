r"""Where the main job's persistence phases spend their time, part by part.

Reruns, on the trained policies of a finished main job's workdir (read only; the
fine-tuning writes into a temporary folder), the three phases of
`experiments/pipelines/trait_rl.py` that evaluate the suite on trained policies:

  evaluation_suite   the suite on the prior and every arm;
  persona_attacks    the suite under every persona, on `config.persona_arms`;
  harmful_finetune   `trait_persistence.finetune_results`: stages of PPO fine-tuning
                     from each start model, the suite after every stage.

and prints a markdown table of each phase's wall and compile seconds, split into its
parts: for a suite evaluation the grading program (`grade_policy`), the bootstrap
intervals (`stats.mean_interval`) and the rest (selection, rows); for a fine-tuning
stage the trainer's start (`get_program`, `_open_run`: environment, initial runner,
start parameters), the PPO chunks, checkpoint and final-parameter writes, and the
suite evaluations. The parts are measured by wrapping those functions in this
process (nothing else changes). `--out` saves the phases' rows and curves as JSON,
to check that a change leaves the results bit-identical.

  python benchmarks/persistence_timing.py --workdir=runs/trait_rl_vs_baseline \
      --out=persistence_timing.json
"""

from __future__ import annotations

import argparse
import collections
import functools
import json
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import jax  # noqa: E402

from alignment_rl.evals import harmful_finetune, stats, suite_runner  # noqa: E402
from alignment_rl.evals.checkpoint_policy import load_policy  # noqa: E402
from alignment_rl.training import checkpointing, program, trainer  # noqa: E402
from experiments.pipelines import timing, trait_persistence  # noqa: E402
from experiments.pipelines.trait_rl import _splits  # noqa: E402

SECONDS: collections.Counter = collections.Counter()
CALLS: collections.Counter = collections.Counter()
FINETUNE_ROWS: list = []  # Every fine-tuning stage's suite rows, in call order.


def _timed(part: str, fn, block=False):
  """`fn`, adding its wall seconds to `SECONDS[part]` (after its outputs are ready)."""

  @functools.wraps(fn)
  def wrapper(*args, **kwargs):
    t0 = time.perf_counter()
    try:
      out = fn(*args, **kwargs)
      return jax.block_until_ready(out) if block else out
    finally:
      SECONDS[part] += time.perf_counter() - t0
      CALLS[part] += 1

  return wrapper


def instrument() -> None:
  """Wraps the measured functions (module attributes are looked up at call time)."""
  suite_runner.grade_policy = _timed("grading", suite_runner.grade_policy)
  stats.mean_interval = _timed("bootstrap", stats.mean_interval)
  suite = harmful_finetune.evaluate_suite

  def keep_rows(*args, **kwargs):
    res = suite(*args, **kwargs)
    FINETUNE_ROWS.append(res.rows)
    return res

  harmful_finetune.evaluate_suite = _timed("ft_suite", keep_rows)
  trainer.get_program = _timed("ft_get_program", trainer.get_program)
  trainer._open_run = _timed("ft_open_run", trainer._open_run)
  trainer._finish = _timed("ft_finish (final params)", trainer._finish)
  trainer._close = _timed("ft_close", trainer._close)
  trainer._record_chunk = _timed("ft_record_metrics", trainer._record_chunk)
  cls = program.Program
  cls.run_chunk = _timed("ft_ppo_chunks", cls.run_chunk, block=True)
  ckpt = checkpointing.Checkpointer
  ckpt.save = _timed("ft_checkpoint_save", ckpt.save)


def _copy_start_models(src: str, dest: str, names) -> None:
  """The start models' `config.json`, `params` and metrics (no checkpoints)."""
  for name in names:
    run = "prior" if name == "prior" else f"arm_{name}"
    os.makedirs(os.path.join(dest, run))
    for part in ("config.json", "metrics.jsonl"):
      if os.path.exists(os.path.join(src, run, part)):
        shutil.copy2(os.path.join(src, run, part), os.path.join(dest, run, part))
    shutil.copytree(os.path.join(src, run, "params"), os.path.join(dest, run, "params"))


def run_phases(config, src: str, tmp: str, phases) -> tuple[dict, dict]:
  """Runs `phases` as the pipeline does; returns (timer table, results)."""
  timer = timing.PhaseTimer()
  splits = _splits(config)
  max_samples = int(config.max_samples) or None
  eval_kwargs = {"splits": splits, "max_samples": max_samples, "data_config": config.data_config}
  key = jax.random.PRNGKey(config.eval_seed)
  names = ["prior", *config.arms]
  policies, network = {}, None
  for n in names:
    network, policies[n], _ = load_policy(
      os.path.join(src, "prior" if n == "prior" else f"arm_{n}")
    )
  results, parts = {}, {}
  rows = []
  before = dict(SECONDS)
  if "evaluation_suite" in phases:
    with timer.phase("evaluation_suite"):
      for n in names:
        rows += suite_runner.evaluate_suite(
          network, policies[n], config.suite, arm=n, key=key, **eval_kwargs
        ).rows
    results["evaluation"] = rows
  parts["evaluation_suite"] = _delta(before)
  before = dict(SECONDS)
  if "persona_attacks" in phases:
    out = trait_persistence.persona_results(
      config, tmp, network, policies, rows, key, eval_kwargs, timer
    )
    results["personas"] = out["personas"]
  parts["persona_attacks"] = _delta(before)
  before = dict(SECONDS)
  if "harmful_finetune" in phases:
    _copy_start_models(src, tmp, config.finetune_from)
    prior_dir = os.path.join(tmp, "prior")
    results["harmful_finetune"] = trait_persistence.finetune_results(
      config, tmp, prior_dir, [], splits, max_samples, timer
    )
    results["finetune_rows"] = FINETUNE_ROWS
  parts["harmful_finetune"] = _delta(before)
  return timer.table(), results, parts


def _delta(before: dict) -> dict:
  return {k: v - before.get(k, 0.0) for k, v in SECONDS.items() if v - before.get(k, 0.0) > 0}


def table(timings: dict, parts: dict) -> str:
  """A markdown table: per phase its wall and compile seconds, then its parts."""
  lines = ["| phase / part | seconds |", "|---|---:|"]
  for phase, p in parts.items():
    if phase not in timings:
      continue
    wall, comp = timings[phase]["wall_s"], timings[phase]["compile_s"]
    lines.append(f"| **{phase}** (wall) | **{wall:.1f}** |")
    lines.append(f"| {phase}: compiling (inside the parts) | {comp:.1f} |")
    suite = p.get("ft_suite", wall if phase != "harmful_finetune" else 0.0)
    inside = sum(v for k, v in p.items() if k.startswith("ft_") and k != "ft_suite")
    inside -= p.get("ft_record_metrics", 0.0)  # Nested in nothing above: listed alone.
    for k in sorted(p):
      if k.startswith("ft_"):
        lines.append(f"| {phase}: {k[3:]} | {p[k]:.1f} |")
    lines.append(f"| {phase}: suite grading program | {p.get('grading', 0.0):.1f} |")
    lines.append(f"| {phase}: suite bootstrap intervals | {p.get('bootstrap', 0.0):.1f} |")
    rest = suite - p.get("grading", 0.0) - p.get("bootstrap", 0.0)
    lines.append(f"| {phase}: suite rest (selection, rows) | {rest:.1f} |")
    if phase == "harmful_finetune":
      other = wall - suite - inside - p.get("ft_record_metrics", 0.0)
      lines.append(f"| {phase}: other (stage configs, reuse checks, ...) | {other:.1f} |")
  return "\n".join(lines)


def main(argv=None) -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--workdir", default="runs/trait_rl_vs_baseline", help="a finished main job")
  parser.add_argument("--config", default="runlocal", help="trait_rl_vs_baseline config arg")
  parser.add_argument("--phases", default="evaluation_suite,persona_attacks,harmful_finetune")
  parser.add_argument("--out", default="", help="JSON of the phases' results")
  args = parser.parse_args(argv)
  from configs import trait_rl_vs_baseline

  config = trait_rl_vs_baseline.get_config(args.config)
  config.ppo_run.training.progress = False
  instrument()
  tmp = tempfile.mkdtemp(prefix="persistence_timing_")
  try:
    timings, results, parts = run_phases(config, args.workdir, tmp, args.phases.split(","))
  finally:
    shutil.rmtree(tmp, ignore_errors=True)
  print(table(timings, parts))
  print(f"\njax {jax.__version__}, backend {jax.default_backend()}, {os.cpu_count()} CPUs")
  if args.out:
    with open(args.out, "w", encoding="utf-8") as f:
      json.dump({"timings": timings, "parts": parts, "results": results}, f, indent=1)


if __name__ == "__main__":
  main()
