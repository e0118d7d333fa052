r"""How much a negative control depends on its one permutation: runs that differ only in
`control_seed`, side by side.

A run's seeds share one environment, so one control permutation (or sign pattern)
serves all of them, and the paired test against the control sees seed noise only. This
script reads the `results.json` of main-job runs whose control arms were trained with
different `control_seed`s (the other arms copied with `--config.reuse_from`) and prints,
per control arm: its suite mean per draw, the spread across draws next to the spread
across seeds, and the treatment against the control averaged over the draws (paired by
seed: per seed, the treatment's suite mean minus the mean of the control's over draws;
Student-t interval and paired t-test, `evals.scoreboard.paired_effect`).

  python -m experiments.main --workdir=runs/trait_rl_vs_baseline
  python -m experiments.main --workdir=runs/control_seed_1 \
      --config.reuse_from=runs/trait_rl_vs_baseline --config.personas="()" \
      --config.finetune_stages=0 --config.reference_rows=False \
      --config.arms.control_shuffle_family.control_seed=1 \
      --config.arms.control_shuffle_all.control_seed=1
  python -m experiments.control_draws runs/trait_rl_vs_baseline runs/control_seed_1 ...
"""

from __future__ import annotations

import argparse
import json
import os

import numpy as np

from alignment_rl.evals import scoreboard


def control_draws(results: list[dict], treatment: str = "trait") -> dict:
  """Per control arm of the runs (each a `results.json` dict, first one's treatment):
  `{arm: {"draws": [suite mean per run], "sd_draws": mean over seeds of the sd across
  draws, "sd_seeds": sd across seeds of treatment − draw-averaged control, "effect":
  paired_effect(treatment, draw-averaged control)}}`."""
  rows = [r["evaluation"] for r in results]
  arms = sorted({r["arm"] for r in rows[0] if r["arm"].startswith("control_")})
  trait = scoreboard.suite_mean_per_seed(rows[0], treatment)
  out = {}
  for arm in arms:
    per = [scoreboard.suite_mean_per_seed(r, arm) for r in rows]
    seeds = sorted(set(trait).intersection(*per))
    c = np.array([[p[s] for s in seeds] for p in per])  # [draws, seeds]
    t = np.array([trait[s] for s in seeds])
    out[arm] = {
      "draws": [float(x) for x in c.mean(1)],
      "sd_draws": float(c.std(0, ddof=1).mean()) if len(per) > 1 else float("nan"),
      "sd_seeds": float((t - c.mean(0)).std(ddof=1)),
      "effect": scoreboard.paired_effect(t, c.mean(0)),
    }
  return out


def format_table(table: dict, treatment: str = "trait") -> str:
  lines = [
    f"| control | suite mean per draw | sd across draws | sd across seeds | {treatment} − "
    "control (draw mean) [95% t] | p |",
    "|---|---|---:|---:|---|---:|",
  ]
  for arm, v in table.items():
    e = v["effect"]
    draws = ", ".join(f"{x:.3f}" for x in v["draws"])
    lines.append(
      f"| {arm} | {draws} | {v['sd_draws']:.4f} | {v['sd_seeds']:.4f} | "
      f"{e['mean_delta']:+.3f} [{e['ci_low']:+.3f}, {e['ci_high']:+.3f}] | {e['p']:.3g} |"
    )
  return "\n".join(lines)


def main(argv=None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("workdirs", nargs="+", help="main-job workdirs (first: the treatment's)")
  args = parser.parse_args(argv)
  results = []
  for d in args.workdirs:
    path = os.path.join(d, "results.json")
    if not os.path.isfile(path):
      parser.error(f"workdirs: {d!r} has no results.json — allowed: finished main-job workdirs")
    with open(path, encoding="utf-8") as f:
      results.append(json.load(f))
  print(format_table(control_draws(results)))
  return 0


if __name__ == "__main__":
  raise SystemExit(main())
