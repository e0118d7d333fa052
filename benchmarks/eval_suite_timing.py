r"""Wall time of the full evaluation suite (64 evaluations x 4 seeds) at `runlocal` scale.

  python benchmarks/eval_suite_timing.py [--checkpoint=runs/trait_rl_vs_baseline/arm_trait]

Times `alignment_rl.evals.suite_runner.evaluate_suite` on every seed of a policy (a finished run's
checkpoint, or a freshly initialised `runlocal` network with 4 seeds), with
`max_samples=256` per evaluation (the `runlocal` cap). Reports the first call
(including compilation), the median of the warm calls, and, as the in-process peer,
the time to grade the same number of scenarios in one plain `grade_policy` pass (the
suite's overhead is the ratio). Data loading is excluded (splits are loaded first).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time

import jax
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main() -> None:
  parser = argparse.ArgumentParser()
  parser.add_argument("--checkpoint", default="", help="a finished run's workdir (optional)")
  parser.add_argument("--repeats", type=int, default=3)
  parser.add_argument("--max_samples", type=int, default=256)
  args = parser.parse_args()

  from alignment_rl.agents.policies import ResponsePolicy
  from alignment_rl.data import load_split
  from alignment_rl.evals.checkpoint_policy import load_policy
  from alignment_rl.evals.policy_grades import grade_policy
  from alignment_rl.evals.suite import get_suite
  from alignment_rl.evals.suite_runner import evaluate_suite
  from alignment_rl.networks.response_policy import ResponseActorCritic
  from configs.common import base_config

  if args.checkpoint:
    network, params, _ = load_policy(args.checkpoint)
  else:
    from alignment_rl.language import schema, vocab

    c = base_config("timing", "runlocal")
    network = ResponseActorCritic(
      num_actions=vocab.NUM_ACTIONS, eot_action=0, **c.prior.network_kwargs.to_dict()
    )
    keys = jax.random.split(jax.random.PRNGKey(0), c.prior.num_seeds)
    obs = jax.numpy.zeros((schema.CONTEXT_LEN,), jax.numpy.int32)
    params = jax.jit(jax.vmap(ResponsePolicy(network).init, in_axes=(0, None)))(keys, obs)
  seeds = jax.tree.leaves(params)[0].shape[0]
  splits = {s: load_split(s, "full") for s in ("test", "heldout_domains", "heldout_formats")}
  evals = get_suite("full")

  def run():
    start = time.perf_counter()
    result = evaluate_suite(network, params, "full", splits=splits, max_samples=args.max_samples)
    return time.perf_counter() - start, result

  first, result = run()
  warm = [run()[0] for _ in range(args.repeats)]
  graded = sum(r["n"] for r in result.rows) // seeds
  data = splits["heldout_domains"]
  n = min(graded, len(data["context"]))
  sub = {k: np.asarray(v)[:n] for k, v in data.items()}
  grade_policy(network, params, sub, ("rubric",), jax.random.PRNGKey(0))  # compile
  start = time.perf_counter()
  grade_policy(network, params, sub, ("rubric",), jax.random.PRNGKey(1))
  peer = time.perf_counter() - start
  print(f"machine: {platform.machine()} {os.cpu_count()} cores; jax {jax.__version__}")
  print(f"suite: {len(evals)} evaluations x {seeds} seeds, {graded} graded units per seed")
  print(f"first call (with compilation): {first:.1f} s")
  print(f"warm calls: median {np.median(warm):.1f} s ({', '.join(f'{w:.1f}' for w in warm)})")
  print(f"peer: one grade_policy pass over {n} scenarios x {seeds} seeds: {peer:.2f} s")
  print(f"suite / peer: {np.median(warm) / peer:.1f}x")


if __name__ == "__main__":
  main()
