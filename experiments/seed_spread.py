"""The measured seed-to-seed spreads and the paired t-test's power per experiment.

The per-seed scores are those of the runlocal main job (4 seeds, every arm, every
evaluation) and of the surface-overlap sweep's outer points (`SOURCES`), or, without
`runs/`, the extract `tests/evals/data/seed_scores.json`. Spreads are standard
deviations of paired per-seed differences (treatment minus each other arm); power is
that of the paired t-test (`stats.paired_power`) with their pooled value.
`experiments/stats_page.py` writes them into docs/statistics.md.
"""

from __future__ import annotations

import collections
import json
import os

import numpy as np

from alignment_rl.evals import stats

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXTRACT = os.path.join(ROOT, "tests", "evals", "data", "seed_scores.json")
_SWEEP = "runs/v2final/surface_overlap_sweep/{:03d}_surface_overlap={}/results.json"
SOURCES = {
  "trait_rl_vs_baseline": "runs/v2final/trait_rl_vs_baseline/results.json",
  # The sweep's 0.5 point is the main job's own runs, copied: left out (same evidence).
  **{f"surface_overlap_sweep/{v}": _SWEEP.format(i, v) for i, v in ((0, "0.0"), (2, "1.0"))},
}
#: The effects the study cares about, in suite points (units of the 0-1 suite mean).
SUITE_EFFECT, BEHAVIOUR_EFFECT = 0.02, 0.05


def extract(sources: dict = SOURCES) -> dict:
  """{run: {"num_seeds", "scores": {arm: {evaluation: [S]}}, "finetune": {start: [S]}}}
  from results.json files (seed order; 5 decimals)."""
  out = {}
  for run, path in sources.items():
    with open(os.path.join(ROOT, path), encoding="utf-8") as f:
      res = json.load(f)
    by = collections.defaultdict(dict)
    for r in sorted(res["evaluation"], key=lambda r: r["seed"]):
      by[r["arm"]].setdefault(r["evaluation"], []).append(round(float(r["mean"]), 5))
    tuned = {
      k: [round(x, 5) for x in c[-1]["suite"]] for k, c in res.get("harmful_finetune", {}).items()
    }
    out[run] = {"num_seeds": res["num_seeds"], "scores": dict(by), "finetune": tuned}
  return out


def load() -> dict:
  """The measured per-seed scores: from runs/ when present, else the extract."""
  if all(os.path.exists(os.path.join(ROOT, p)) for p in SOURCES.values()):
    return extract()
  with open(EXTRACT, encoding="utf-8") as f:
    return json.load(f)


def spreads(data: dict) -> dict:
  """Seed-to-seed standard deviations (ddof=1) of paired per-seed differences, treatment
  minus each other arm: "suite" {(run, other): (mean, sd)}, "behaviour" [sd per
  behaviour and comparison], "finetune" {other: (mean, sd)} after the last stage."""
  from alignment_rl.evals import scoreboard

  out = {"suite": {}, "behaviour": [], "finetune": {}}
  for run, d in data.items():
    scores = d["scores"]
    names = sorted(scores["trait"])
    beh_t = scoreboard.behaviour_scores({n: np.array(scores["trait"][n]) for n in names})
    for other in sorted(set(scores) - {"trait"}):
      diff = np.mean([np.subtract(scores["trait"][n], scores[other][n]) for n in names], 0)
      out["suite"][(run, other)] = (float(diff.mean()), float(diff.std(ddof=1)))
      beh_o = scoreboard.behaviour_scores({n: np.array(scores[other][n]) for n in names})
      out["behaviour"] += [float(np.std(beh_t[b] - beh_o[b], ddof=1)) for b in beh_t]
    for other, v in d.get("finetune", {}).items():
      if other != "trait":
        diff = np.subtract(d["finetune"]["trait"], v)
        out["finetune"][other] = (float(diff.mean()), float(diff.std(ddof=1)))
  return out


def pooled(sds) -> float:
  """sqrt(mean of variances): the pooled sd of equal-df estimates."""
  return float(np.sqrt(np.mean(np.square(list(sds)))))


_POOLED = "pooled (assumed)"
#: Experiment -> (its primary paired comparison, where its sd comes from).
EXPERIMENTS = {
  "trait_rl_vs_baseline": ("trait vs baseline, prior and 3 controls", "pooled (measured)"),
  "health_only_transfer": ("health-only trait vs baseline", _POOLED),
  "no_health_science": ("trait without health/science vs baseline", _POOLED),
  "generic_helpfulness_control": ("trait vs baseline and vs helpfulness reward", _POOLED),
  "persona_persistence": ("persona drop, trait vs baseline", _POOLED),
  "harmful_finetune": ("suite after harmful fine-tuning, trait vs other starts", "measured"),
  "long_interaction_pressure": ("last-turn score, trait vs baseline", _POOLED),
  "emergent_misalignment": ("narrow bad reward vs baseline", _POOLED),
  "surface_overlap_sweep": ("trait vs baseline at each overlap", "pooled (measured)"),
  "refusal_side_effects": ("refusal-stratified trait vs baseline", _POOLED),
  "persistence_objectives": ("each objective vs none", _POOLED),
}


def power_table(data: dict) -> tuple[str, dict]:
  """Markdown power table per experiment and the spreads it uses."""
  sp = spreads(data)
  suite_sd = pooled(sd for _, sd in sp["suite"].values())
  beh_sd = pooled(sp["behaviour"])
  ft_sd = pooled(sd for _, sd in sp["finetune"].values()) if sp["finetune"] else suite_sd
  seeds = {"test": 2, "runlocal": 4, "full": 8}
  from alignment_rl.evals import suite

  m = len(suite.behaviours("full"))
  lines = [
    "| experiment | primary comparison (paired by seed) | sd used | seeds (runlocal / full) | "
    f"detectable suite Δ at runlocal / full | seeds for {SUITE_EFFECT} suite points | "
    f"detectable behaviour Δ at full (α 0.05 / 0.05/{m}) | seeds for {BEHAVIOUR_EFFECT} on "
    f"one behaviour (α 0.05 / 0.05/{m}) |",
    "|---|---|---:|---:|---:|---:|---:|---:|",
  ]
  for exp, (what, source) in EXPERIMENTS.items():
    sd = ft_sd if exp == "harmful_finetune" else suite_sd
    det = [stats.detectable_effect(sd, seeds[k]) for k in ("runlocal", "full")]
    beh = [stats.detectable_effect(beh_sd, seeds["full"], alpha=a) for a in (0.05, 0.05 / m)]
    need_b = [stats.seeds_for_power(BEHAVIOUR_EFFECT, beh_sd, alpha=a) for a in (0.05, 0.05 / m)]
    lines.append(
      f"| {exp} | {what} | {sd:.4f} {source} | {seeds['runlocal']} / {seeds['full']} | "
      f"{det[0]:.3f} / {det[1]:.3f} | {stats.seeds_for_power(SUITE_EFFECT, sd)} | "
      f"{beh[0]:.3f} / {beh[1]:.3f} | {need_b[0]} / {need_b[1]} |"
    )
  spread = {"suite": suite_sd, "behaviour": beh_sd, "finetune": ft_sd}
  return "\n".join(lines), {**spread, "suite_items": sp["suite"], "finetune_items": sp["finetune"]}


def spread_table(sp: dict) -> str:
  lines = ["| run | trait vs | mean Δ (suite points) | sd of per-seed Δ |", "|---|---|---:|---:|"]
  for (run, other), (mean, sd) in sp["suite_items"].items():
    lines.append(f"| {run} | {other} | {mean:+.4f} | {sd:.4f} |")
  for other, (mean, sd) in sp["finetune_items"].items():
    lines.append(
      f"| trait_rl_vs_baseline, after harmful fine-tuning | {other} | {mean:+.4f} | {sd:.4f} |"
    )
  return "\n".join(lines)
