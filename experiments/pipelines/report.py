"""`report.md` and the figures of a `trait_rl` run, from its results dict only.

`write_report(results, workdir)` writes `<workdir>/report.md` (how it tests, the
behaviour headline (primary) and every evaluation's (secondary), refusal-stratified
headlines, the paired table, the behaviour table, scoreboard, persona persistence,
harmful fine-tuning and pressure tables) and, with `figures=True`, every figure of
`plots.FIGURES` that these results can draw into `<workdir>/figures/<name>.{png,pdf}`;
it returns the report's text. The robustness and reference tables are in
`report_tables.py`.
"""

from __future__ import annotations

import os

import numpy as np

from alignment_rl.evals import arm_comparison, stats
from experiments import plots
from experiments.pipelines.report_tables import (
  finetune_table,
  persistence_table,
  persona_effect_table,
  persona_table,
  pressure_table,
  reference_table,
  suite_means,
)


def write_figures(results: dict, out_dir: str) -> list[str]:
  """Every figure these results can draw, as PNG and PDF; returns the PNG paths."""
  os.makedirs(out_dir, exist_ok=True)
  written = []
  for name, (experiments, fn) in plots.FIGURES.items():
    if results.get("experiment") not in experiments or name in plots.SWEEP_FIGURES:
      continue
    if plots.REQUIRES.get(name, "evaluation") not in results:
      continue
    fig = fn(results)
    for ext in ("png", "pdf"):
      fig.savefig(os.path.join(out_dir, f"{name}.{ext}"), dpi=120)
    plots.plt.close(fig)
    written.append(os.path.join(out_dir, f"{name}.png"))
  return written


def statistics_line(results: dict) -> str:
  """How the report tests: the paired t-test (every arm starts from its seed's prior),
  the level, the Benjamini–Hochberg rate and what it is over, and the intervals."""
  comp = results["comparisons"][results["treatment"]]["all"]
  n_b, n_e = comp["behaviour_headline"]["n"], comp["headline"]["n"]
  return (
    f"Statistics: {comp['test']} over {results['num_seeds']} seeds (every arm starts from "
    f"its seed's prior); two-sided alpha = {stats.ALPHA:g}; significant means "
    f"Benjamini–Hochberg q < {comp['alpha']:g}, over the {n_b} disjoint behaviours "
    f"(primary) and, separately, over all {n_e} evaluations (secondary, several measure "
    "one behaviour); intervals are 95% Student-t over seeds (docs/statistics.md)."
  )


def behaviour_table(comp: dict) -> str:
  """Markdown: one row per behaviour (its per-seed score is the mean of its
  evaluations'): Δ, p, BH q over the behaviours, the exact sign-flip p where run."""
  flip = any("p_sign_flip" in r for r in comp["behaviours"])
  head = "| behaviour | evaluations | Δ | p | q |" + (" sign-flip p |" if flip else "")
  lines = [head, "|---|---:|---:|---:|---:|" + ("---:|" if flip else "")]
  for r in comp["behaviours"]:
    cells = [r["behaviour"], str(len(r["evaluations"])), f"{r['delta']:+.3f}"]
    cells += [f"{r['p_value']:.3g}", f"{r['q_value']:.3g}" + (" *" if r["significant"] else "")]
    if flip:
      cells.append(f"{r['p_sign_flip']:.3g}" if "p_sign_flip" in r else "-")
    lines.append("| " + " | ".join(cells) + " |")
  return "\n".join(lines)


def _headlines(comp: dict) -> str:
  """The behaviour headline (primary), then every evaluation's (secondary)."""
  if "behaviour_headline" not in comp:  # Results logged before behaviour-level counting.
    return arm_comparison.format_headline(comp["headline"])
  return (
    arm_comparison.format_headline(comp["behaviour_headline"])
    + ". Every evaluation (secondary): "
    + arm_comparison.format_headline(comp["headline"])
  )


def paired_table(results: dict) -> str:
  """Markdown: the treatment against each arm sharing its seeds' start models, paired
  by seed (suite-mean difference with a Student-t 95% interval and paired-t p; the
  per-behaviour and per-evaluation paired tests' headlines)."""
  lines = [
    "| vs | suite Δ [95% t-interval] | paired p | behaviours improved | "
    "significant up / down | evaluations improved | significant up / down |",
    "|---|---|---:|---:|---:|---:|---:|",
  ]
  for other, c in results["versus_paired"].items():
    s, h = c["suite"], c["headline"]
    b = c.get("behaviour_headline", {"improved": "-", "n": "-"})
    lines.append(
      f"| {other} | {s['mean_delta']:+.3f} [{s['ci_low']:+.3f}, {s['ci_high']:+.3f}] | "
      f"{s['p']:.3f} | {b['improved']} of {b['n']} | "
      f"{b.get('significant_improvements', '-')} / {b.get('significant_regressions', '-')} | "
      f"{h['improved']} of {h['n']} | "
      f"{h['significant_improvements']} / {h['significant_regressions']} |"
    )
  return "\n".join(lines)


def timing_table(results: dict) -> str:
  """Markdown: wall and compilation seconds per phase of the invocation that wrote
  the results (phases a resumed run skipped are absent)."""
  lines = ["| phase | wall | of which compiling |", "|---|---:|---:|"]
  for name, row in results["timings"].items():
    wall, comp = row["wall_s"], row["compile_s"]
    lines.append(f"| {name} | {int(wall // 60)} min {wall % 60:04.1f} s | {comp:.1f} s |")
  return "\n".join(lines)


def write_report(results: dict, workdir: str, figures: bool = True) -> str:
  parts = [f"# {results['experiment']}", ""]
  main = results["comparisons"][results["treatment"]]["all"]
  if "behaviour_headline" in main:
    parts += [statistics_line(results), ""]
  for treatment, comp in results["comparisons"].items():
    parts += [
      f"**{treatment} vs {results['baseline']}** ({results['num_seeds']} seeds): "
      + _headlines(comp["all"]),
      "",
      "Refusal-stratified (samples where neither arm refused): "
      + _headlines(comp["refusal_stratified"]),
      "",
    ]
  for other, h in results.get("versus", {}).items():
    line = _headlines(h) if "headline" in h else arm_comparison.format_headline(h)
    parts += [f"**{results['treatment']} vs {other}**: " + line, ""]
  if "versus_paired" in results:
    parts += [
      f"**{results['treatment']} paired by seed** (every arm starts from its seed's prior):",
      "",
      paired_table(results),
      "",
    ]
  if "behaviours" in main:
    parts += [
      f"## Behaviours ({results['treatment']} vs {results['baseline']}, primary)",
      "",
      behaviour_table(main),
      "",
    ]
  if "reference" in results:
    parts += ["## Reference rows", "", reference_table(results), ""]
  parts += ["## Scoreboard", "", plots.scoreboard_table(results), ""]
  if "personas" in results:
    parts += ["## Persona persistence", "", persona_table(results), ""]
  if "persona_effects" in results:
    parts += ["Paired across seeds:", "", persona_effect_table(results), ""]
  if "harmful_finetune" in results:
    parts += ["## Harmful fine-tuning", "", finetune_table(results), ""]
  if "pressure" in results:
    parts += ["## Multi-turn pressure", "", pressure_table(results), ""]
  if "personas" in results and "harmful_finetune" in results:
    parts += ["## Persistence per arm", "", persistence_table(results), ""]
  if "timings" in results:
    parts += ["## Time per phase", "", timing_table(results), ""]
  if figures:
    paths = write_figures(results, os.path.join(workdir, "figures"))
    parts += ["## Figures", ""] + [
      f"![{os.path.basename(p)}](figures/{os.path.basename(p)})" for p in paths
    ]
  text = "\n".join(parts) + "\n"
  with open(os.path.join(workdir, "report.md"), "w", encoding="utf-8") as f:
    f.write(text)
  return text


def summary(results: dict) -> dict:
  """A compact summary: the headlines of each comparison (per behaviour, primary; per
  evaluation) and the suite means."""
  out = {
    "experiment": results["experiment"],
    "suite_mean": {k[0]: round(v, 4) for k, v in suite_means(results["evaluation"]).items()},
    "headline": {t: c["all"]["headline"] for t, c in results["comparisons"].items()},
    "behaviour_headline": {
      t: c["all"].get("behaviour_headline") for t, c in results["comparisons"].items()
    },
  }
  if "harmful_finetune" in results:
    out["finetune_suite"] = {
      n: [round(float(np.mean(p["suite"])), 4) for p in c]
      for n, c in results["harmful_finetune"].items()
    }
  return out
