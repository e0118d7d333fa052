r"""Regenerates every figure (PNG and PDF) and the results tables from logged results only.

  python -m experiments.figures                       # every figure with results
  python -m experiments.figures --figure=scoreboard   # one figure
  python -m experiments.figures --runs=runs --out=figures
  python -m experiments.figures --figure=heldout_overlap  # from the data alone

Reads `<runs>/<experiment>/results.json` (written by each experiment; sweeps:
`<runs>/<experiment>/<point>/results.json`), never trains. Figures are drawn by the
functions of `experiments.plots` (the notebooks use the same ones) into
`<out>/<figure>.{png,pdf}`; tables (the scoreboard of each conversation experiment)
into `<out>/tables/<experiment>.md`. A requested figure without results is a one-line
error naming the experiment and the file it needs; so are a corrupt results.json (named),
a `--runs` that is not a folder and an `--out` that is (or lies under) a file.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import sys


def find_results(runs: str, experiment: str) -> list[dict]:
  """The results of an experiment: its own results.json, else those of its sweep points."""
  paths = [os.path.join(runs, experiment, "results.json")]
  if not os.path.isfile(paths[0]):
    paths = sorted(glob.glob(os.path.join(runs, experiment, "*", "results.json")))
  return [load_results(p) for p in paths if os.path.isfile(p)]


def load_results(path: str) -> dict:
  """One results.json; a corrupt or non-object file is a one-line ValueError naming it."""
  try:
    with open(path, encoding="utf-8") as f:
      results = json.load(f)
  except (ValueError, UnicodeDecodeError) as e:
    raise ValueError(f"{path}: {type(e).__name__} — allowed: a results.json file ({e})") from None
  if not isinstance(results, dict):
    raise ValueError(f"{path}: {type(results).__name__} — allowed: a JSON object of results")
  return results


def check_args(args) -> None:
  """One-line ValueErrors for a `--runs` that is not a folder or an `--out` that is a file."""
  if os.path.lexists(args.runs) and not os.path.isdir(args.runs):
    raise ValueError(f"--runs: {args.runs!r} — allowed: a folder of experiment workdirs")
  out = os.path.abspath(args.out)
  while not os.path.lexists(out) and os.path.dirname(out) != out:
    out = os.path.dirname(out)
  if not os.path.isdir(out):
    raise ValueError(f"--out: {args.out!r} — allowed: a folder or a new path ({out!r} is a file)")


def draw(name: str, runs: str, out: str) -> list[str]:
  """Draws figure `name` from the first experiment of its list that has results."""
  from experiments import plots

  if name not in plots.FIGURES:
    raise ValueError(f"unknown figure {name!r}; known: {', '.join(plots.FIGURES)}")
  experiments, fn = plots.FIGURES[name]
  for experiment in experiments:
    results = find_results(runs, experiment)
    if name in plots.SWEEP_FIGURES:
      results = [r for r in results if "comparisons" in r]
      if len(results) >= 2:
        fig = fn(results)
        break
    elif results and plots.REQUIRES.get(name, "evaluation") in results[0]:
      fig = fn(results[0])
      break
  else:
    raise FileNotFoundError(
      f"figure {name!r} needs {os.path.join(runs, experiments[0], 'results.json')} "
      f"(run the {experiments[0]!r} experiment first)"
    )
  os.makedirs(out, exist_ok=True)
  paths = [os.path.join(out, f"{name}.{ext}") for ext in ("png", "pdf")]
  for p in paths:
    fig.savefig(p, dpi=150)
  plots.plt.close(fig)
  return paths


def write_tables(runs: str, out: str) -> list[str]:
  """The scoreboard table of every conversation experiment with results."""
  from experiments import plots

  written = []
  for path in sorted(glob.glob(os.path.join(runs, "*", "results.json"))):
    results = load_results(path)
    if "comparisons" not in results:
      continue
    os.makedirs(os.path.join(out, "tables"), exist_ok=True)
    target = os.path.join(out, "tables", f"{results['experiment']}.md")
    with open(target, "w", encoding="utf-8") as f:
      f.write(plots.scoreboard_table(results) + "\n")
    written.append(target)
  return written


def draw_heldout_overlap(out: str, num_train: int = 15_000, num_queries: int = 300) -> list[str]:
  """The held-out splits' leak measures (`data.overlap`), from the FULL dataset's
  generator (no runs): `<out>/heldout_overlap.{png,pdf,json}`."""
  from alignment_rl.data import FULL
  from alignment_rl.data.overlap import heldout_overlap
  from experiments import plots

  stats = heldout_overlap(FULL, num_train, num_queries)
  os.makedirs(out, exist_ok=True)
  with open(os.path.join(out, "heldout_overlap.json"), "w", encoding="utf-8") as f:
    json.dump(stats, f)
  fig = plots.heldout_overlap(stats)
  paths = [os.path.join(out, f"heldout_overlap.{ext}") for ext in ("png", "pdf")]
  for path in paths:
    fig.savefig(path, dpi=120)
  plots.plt.close(fig)
  return paths


def main(argv: list[str] | None = None) -> int:
  from experiments import plots

  parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  parser.add_argument("--figure", default="all", help=f"all or one of: {', '.join(plots.FIGURES)}")
  parser.add_argument("--runs", default="runs", help="folder of experiment workdirs")
  parser.add_argument("--out", default="figures", help="output folder")
  args = parser.parse_args(argv)
  try:
    check_args(args)
  except ValueError as e:
    print(f"error: {e}", file=sys.stderr)
    return 1
  if args.figure == "heldout_overlap":
    for p in draw_heldout_overlap(args.out):
      print(p)
    return 0
  try:
    if args.figure == "all":
      drawn, missing = [], []
      for name in plots.FIGURES:
        try:
          drawn += draw(name, args.runs, args.out)
        except FileNotFoundError as e:
          missing.append(str(e))
      for line in missing:
        print(f"skipped: {line}")
      if not drawn:
        raise FileNotFoundError(f"no experiment results under {args.runs!r}")
    else:
      drawn = draw(args.figure, args.runs, args.out)
    drawn += write_tables(args.runs, args.out)
  except (ValueError, FileNotFoundError) as e:
    print(f"error: {e}", file=sys.stderr)
    return 1
  for p in drawn:
    print(p)
  return 0


if __name__ == "__main__":
  sys.exit(main())
