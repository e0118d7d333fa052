"""`report.md` and the figures of a `trait_rl` run, from its results dict only.

`write_report(results, workdir)` writes `<workdir>/report.md` (how it tests, the
behaviour headline (primary) and every evaluation's (secondary), refusal-stratified
headlines, the paired table, the behaviour table, scoreboard, persona persistence,
harmful fine-tuning and pressure tables) and, with `figures=True`, every figure of
`plots.FIGURES` that these results can draw into `<workdir>/figures/<name>.{png,pdf}`;
it returns the report's text.
"""

from __future__ import annotations

import os

import numpy as np

from alignment_rl.evals import arm_comparison, stats
from experiments import plots


def _suite_means(rows: list, key=("arm",)) -> dict:
  out: dict = {}
  for r in rows:
    out.setdefault(tuple(r.get(k, "") for k in key), []).append(r["mean"])
  return {k: float(np.nanmean(v)) for k, v in out.items()}


def persona_table(results: dict) -> str:
  clean = _suite_means(results["evaluation"])
  attacked = _suite_means(results["personas"], ("arm", "persona"))
  lines = ["| arm | persona | clean | with persona | Δ |", "|---|---|---|---|---|"]
  for (arm, persona), v in sorted(attacked.items()):
    c = clean[(arm,)]
    lines.append(f"| {arm} | {persona} | {c:.3f} | {v:.3f} | {v - c:+.3f} |")
  return "\n".join(lines)


def finetune_table(results: dict) -> str:
  lines = ["| start model | updates | suite | health | non-health |", "|---|---|---|---|---|"]
  for name, curve in results["harmful_finetune"].items():
    for p in curve:
      cells = [f"{np.mean(p[g]):.3f}" if g in p else "-" for g in ("suite", "health", "non_health")]
      lines.append(f"| {name} | {p['updates']} | " + " | ".join(cells) + " |")
  return "\n".join(lines)


def persistence_table(results: dict) -> str:
  """Per arm: suite mean clean, under the harmful evaluation personas, and after the
  last harmful fine-tuning stage, with the drops from clean (mean over seeds)."""
  from alignment_rl.language import personas as persona_tables

  harmful = set(persona_tables.EVAL_HARMFUL_PERSONA_NAMES)
  clean = _suite_means(results["evaluation"])
  attacked = _suite_means([r for r in results.get("personas", []) if r["persona"] in harmful])
  tuned = {
    n: float(np.mean(c[-1]["suite"])) for n, c in results.get("harmful_finetune", {}).items()
  }
  lines = [
    "| arm | clean | harmful personas | Δ | after harmful fine-tuning | Δ |",
    "|---|---|---|---|---|---|",
  ]
  fmt = lambda x: "-" if x is None else f"{x:.3f}"  # noqa: E731
  diff = lambda x, c: "-" if x is None else f"{x - c:+.3f}"  # noqa: E731
  for (arm,), c in clean.items():
    a, t = attacked.get((arm,)), tuned.get(arm)
    lines.append(f"| {arm} | {c:.3f} | {fmt(a)} | {diff(a, c)} | {fmt(t)} | {diff(t, c)} |")
  return "\n".join(lines)


def pressure_table(results: dict) -> str:
  lines = ["| arm | grader | turn 1 | last turn |", "|---|---|---|---|"]
  for arm, curve in results["pressure"].items():
    for grader, c in curve["curves"].items():
      v = np.nanmean(np.asarray(c["per_seed"], float), 0)
      lines.append(f"| {arm} | {grader} | {v[0]:.3f} | {v[-1]:.3f} |")
  return "\n".join(lines)


def category_means(rows: list) -> dict:
  """{arm: {"suite": mean, category: mean}}: means over evaluations of the seed means."""
  per: dict = {}
  for r in rows:
    if r.get("persona") is None and np.isfinite(r["mean"]):
      per.setdefault(r["arm"], {}).setdefault((r["category"], r["evaluation"]), []).append(
        r["mean"]
      )
  out = {}
  for arm, evals in per.items():
    means = {k: float(np.mean(v)) for k, v in evals.items()}
    cats: dict = {}
    for (cat, _), v in means.items():
      cats.setdefault(cat, []).append(v)
    out[arm] = {"suite": float(np.mean(list(means.values())))}
    out[arm].update({c: float(np.mean(v)) for c, v in sorted(cats.items())})
  return out


def reference_table(results: dict) -> str:
  """Suite and category means of the reference rows (best context-free reply, random
  replies, the scripted prior, the oracle) beside every arm's (mean over seeds), and
  the fixed reply's share of the oracle under each training reward."""
  ref = results["reference"]
  arms = category_means(results["evaluation"])
  cats = sorted(next(iter(arms.values())).keys() - {"suite"}) if arms else []
  head = "| row | suite | " + " | ".join(cats) + " |"
  lines = [head, "|" + "---|" * (len(cats) + 2)]
  names = {"fixed_reply": "fixed reply", "random": "random replies", "prior": "scripted prior"}
  for key in ("fixed_reply", "random", "prior", "oracle"):
    r = ref[key]
    cells = [f"{r['categories'].get(c, float('nan')):.3f}" for c in cats]
    lines.append(f"| {names.get(key, key)} | {r['suite_mean']:.3f} | " + " | ".join(cells) + " |")
  for arm, m in arms.items():
    cells = [f"{m.get(c, float('nan')):.3f}" for c in cats]
    lines.append(f"| **{arm}** | {m['suite']:.3f} | " + " | ".join(cells) + " |")
  per_eval = ref["fixed_reply_per_eval"]
  lines += [
    "",
    f"Best fixed reply: `{ref['fixed_reply']['reply']}`. Searched per evaluation, a fixed "
    f"reply reaches >= 0.99 on {per_eval['num_at_least_0.99']} evaluations (best "
    f"{np.nanmax(list(per_eval['evaluations'].values())):.3f}).",
    "",
    "| training reward | best fixed reply | oracle | ratio |",
    "|---|---|---|---|",
  ]
  for name, t in ref["training_rewards"].items():
    lines.append(
      f"| {name} | {t['fixed_reply']:.3f} (`{t['fixed_reply_tokens']}`) | "
      f"{t['oracle']:.3f} | {t['ratio']:.2f} |"
    )
  return "\n".join(lines)


def persona_effect_table(results: dict) -> str:
  """Suite-mean change under each evaluation persona: mean over seeds of the paired
  per-seed difference, its 95% Student-t interval and the paired t-test's p."""
  lines = ["| arm | persona | Δ suite mean | 95% interval | p |", "|---|---|---|---|---|"]
  for arm, by_persona in results["persona_effects"].items():
    for persona, e in by_persona.items():
      lines.append(
        f"| {arm} | {persona} | {e['mean_delta']:+.3f} | "
        f"[{e['ci_low']:+.3f}, {e['ci_high']:+.3f}] | {e['p']:.3g} |"
      )
  bites = results.get("attack_bites")
  if bites and bites["arms"]:
    on = " and ".join(bites["arms"])
    verdict = "bites" if bites["pooled"] else "does NOT bite (no persona persistence claim)"
    each = ", ".join(bites["personas"]) or "none"
    lines += [
      "",
      f"Attack check: the pooled harmful-persona attack {verdict} on {on} (95% interval"
      " below 0);"
      f" harmful personas that bite on their own: {each}.",
    ]
  return "\n".join(lines)


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
    "suite_mean": {k[0]: round(v, 4) for k, v in _suite_means(results["evaluation"]).items()},
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
