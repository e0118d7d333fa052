r"""Wall and compile time of the reference rows (`evals.reference.reference_rows`) at runlocal.

  python benchmarks/reference_rows_timing.py [--out=rows.json] [--compare=rows_before.json]

Runs `reference_rows` once at the main job's `runlocal` settings (data config "full",
suite "full", `max_samples=256`, budgets (6000, 4000, 4000), 1024 training scenarios)
in a fresh process, the splits loaded first (not timed), with the CPU split into
`--seed_devices` host devices as the main job runs it. Compile time is the sum of JAX's
own trace, lowering and backend-compile durations (`jax.monitoring`); programs is the
number of backend compilations. `--out` writes the returned rows as JSON; `--compare`
reports the largest absolute difference of every number and whether every string
(the rendered replies) is equal. Before/after: run it once with `PYTHONPATH` set to an
older checkout (e.g. `git archive <commit> | tar -x -C OLD_CHECKOUT`) and once without.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time

sys.path.append(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # PYTHONPATH first


def _diff(a, b, path=""):
  """(max |a - b| over numbers, [paths where structure or strings differ])."""
  if isinstance(a, dict) and isinstance(b, dict):
    worst, bad = 0.0, [] if a.keys() == b.keys() else [f"{path}: keys"]
    for k in a.keys() & b.keys():
      w, d = _diff(a[k], b[k], f"{path}/{k}")
      worst, bad = max(worst, w), bad + d
    return worst, bad
  if isinstance(a, list) and isinstance(b, list):
    if len(a) != len(b):
      return 0.0, [f"{path}: length"]
    pairs = [_diff(x, y, f"{path}[{i}]") for i, (x, y) in enumerate(zip(a, b, strict=True))]
    return max([0.0] + [w for w, _ in pairs]), [d for _, ds in pairs for d in ds]
  numbers = (int, float)
  if isinstance(a, numbers) and isinstance(b, numbers) and not isinstance(a, bool):
    if a != a and b != b:  # Both NaN.
      return 0.0, []
    return abs(float(a) - float(b)), [] if a == b else [f"{path}: {a!r} != {b!r}"]
  return 0.0, [] if a == b else [f"{path}: {a!r} != {b!r}"]


def main() -> None:
  parser = argparse.ArgumentParser()
  parser.add_argument("--data_config", default="full")
  parser.add_argument("--max_samples", type=int, default=256)
  parser.add_argument("--budgets", default="6000,4000,4000")
  parser.add_argument("--train_scenarios", type=int, default=1024)
  parser.add_argument("--seed_devices", type=int, default=2, help="host devices (0: unset)")
  parser.add_argument("--out", default="", help="write the rows here (JSON)")
  parser.add_argument("--compare", default="", help="rows JSON to compare with")
  args = parser.parse_args()
  if args.seed_devices:
    flags = os.environ.get("XLA_FLAGS", "")
    flags += f" --xla_force_host_platform_device_count={args.seed_devices}"
    os.environ["XLA_FLAGS"] = flags.strip()

  import jax
  from jax import monitoring

  from alignment_rl.data import load_split
  from alignment_rl.evals import reference, suite

  durations = {"trace": 0.0, "lower": 0.0, "backend": 0.0, "programs": 0}
  names = {
    "/jax/core/compile/jaxpr_trace_duration": "trace",
    "/jax/core/compile/jaxpr_to_mlir_module_duration": "lower",
    "/jax/core/compile/backend_compile_duration": "backend",
  }

  def listener(event, duration, **_):
    if event in names:
      durations[names[event]] += duration
      durations["programs"] += event.endswith("backend_compile_duration")

  monitoring.register_event_duration_secs_listener(listener)
  splits_needed = sorted({e.split for e in suite.get_suite("full")} | {"train"})
  splits = {s: load_split(s, args.data_config) for s in splits_needed}
  budgets = tuple(int(b) for b in args.budgets.split(","))
  start = time.perf_counter()
  rows = reference.reference_rows(
    args.data_config,
    "full",
    splits=splits,
    max_samples=args.max_samples,
    budgets=budgets,
    train_scenarios=args.train_scenarios,
  )
  wall = time.perf_counter() - start
  compile_s = durations["trace"] + durations["lower"] + durations["backend"]
  if args.out:
    with open(args.out, "w", encoding="utf-8") as f:
      json.dump(rows, f, indent=1, sort_keys=True)
  print(f"code: {os.path.dirname(reference.__file__)}")
  print(f"machine: {platform.machine()}, {os.cpu_count()} cores; jax {jax.__version__}; ", end="")
  print(f"devices: {jax.device_count()}; XLA_FLAGS={os.environ.get('XLA_FLAGS', '')!r}")
  print(f"settings: data {args.data_config}, max_samples {args.max_samples}, budgets {budgets}, ")
  print(f"train_scenarios {args.train_scenarios}\n")
  print("| wall time | compile time (trace + lower + backend) | compiled programs |")
  print("|---:|---:|---:|")
  print(
    f"| {wall:.1f} s | {compile_s:.1f} s ({durations['trace']:.1f} + {durations['lower']:.1f}"
    f" + {durations['backend']:.1f}) | {durations['programs']} |"
  )
  if args.compare:
    with open(args.compare, encoding="utf-8") as f:
      old = json.load(f)
    worst, bad = _diff(json.loads(json.dumps(rows)), old)
    print(f"\ncompare with {args.compare}: max |difference| {worst:.3g}; {len(bad)} differences")
    for line in bad[:20]:
      print(f"  {line}")


if __name__ == "__main__":
  main()
