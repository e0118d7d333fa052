r"""docs/statistics.md: interval coverage at the seed counts used, behaviours, power.

  python -m experiments.stats_page                 # from runs/v2final (or the extract)
  python -m experiments.stats_page --extract       # also refresh the extract the test reads

The measured per-seed scores are those of the runlocal main job (4 seeds, every arm,
every evaluation) and of the surface-overlap sweep's three points
(`runs/v2final/...`); `--extract` copies them to `tests/evals/data/seed_scores.json`,
which the page falls back on and `tests/evals/test_interval_coverage.py` reads.

Coverage is simulated by `experiments/interval_coverage.py`; power is that of the
paired t-test (`stats.paired_power`) with the pooled seed-to-seed standard deviation
of the paired per-seed differences.
"""

from __future__ import annotations

import argparse
import collections
import json
import os

import numpy as np

from alignment_rl.evals import stats
from experiments import interval_coverage

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


def behaviour_list() -> str:
  """Markdown: every behaviour of the full suite with its evaluations."""
  from alignment_rl.evals import suite

  lines = ["| behaviour | category | evaluations |", "|---|---|---|"]
  for b, names in suite.behaviours("full").items():
    cat = suite.EVALUATIONS.get(names[0]).category
    lines.append(f"| {b} | {cat} | " + ", ".join(f"`{n.split('/', 1)[1]}`" for n in names) + " |")
  return "\n".join(lines)


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


def page(data: dict) -> str:
  cov, (n_single, n_pairs) = interval_coverage.coverage_table(
    data["trait_rl_vs_baseline"]["scores"]
  )
  power, sp = power_table(data)
  need = stats.seeds_for_power(SUITE_EFFECT, sp["suite"])
  need_b = stats.seeds_for_power(BEHAVIOUR_EFFECT, sp["behaviour"])
  need_bh = stats.seeds_for_power(
    BEHAVIOUR_EFFECT, sp["behaviour"], alpha=0.05 / len(spreads_behaviours())
  )
  det8 = stats.detectable_effect(sp["suite"], 8)
  det4 = stats.detectable_effect(sp["suite"], 4)
  det_b8 = stats.detectable_effect(sp["behaviour"], 8)
  det_bh8 = stats.detectable_effect(sp["behaviour"], 8, alpha=0.05 / len(spreads_behaviours()))
  return f"""# Statistics: how arms are compared, and what the seed counts can detect

Generated by `python -m experiments.stats_page` (`experiments/stats_page.py`) from the
measured per-seed scores of the runlocal main job (`trait_rl_vs_baseline`, 4 seeds, 6
arms, 64 evaluations) and of two runlocal points of `surface_overlap_sweep` (0.0 and
1.0, 4 seeds each; its 0.5 point is the main job's runs), world v2; the numbers it uses are kept in
`tests/evals/data/seed_scores.json`. No full-scale (8-seed) v2 run exists yet, so the
spreads below are runlocal spreads (40 PPO updates; full scale trains 400).

## How the code tests (`alignment_rl/evals/stats.py`, `scoreboard.py`)

* Every arm of a `trait_rl` experiment starts from its seed's imitated prior, so arms
  are compared **paired by seed**: the paired t-test on the per-seed differences
  (`scipy.stats.ttest_rel`, df = S - 1). Welch's t-test (`ttest_ind(equal_var=False)`)
  is used only for arms that do not share start models (`scoreboard.compare` default,
  e.g. `configs/evaluate.py` on arbitrary checkpoints). From 8 seeds the exact
  sign-flip test (`permutation_test`) is reported beside the t-test as a check; below
  that it is not informative (its smallest two-sided p is 2 / 2^S = 0.125 at 4 seeds).
* **alpha = 0.05** two-sided for every test; "significant" means **Benjamini–Hochberg
  q < 0.05**.
* **Primary count: disjoint behaviours.** Each evaluation declares the behaviour it
  measures (`suite.Evaluation.behaviour`); the 64 evaluations measure
  {len(spreads_behaviours())} behaviours (list below). A behaviour's per-seed score is
  the unweighted mean of its evaluations' per-seed scores; one test per behaviour, BH
  over the behaviours. The per-evaluation list (BH over all 64) is secondary: a
  subset (coding within held-out domains) or a re-phrasing (the same behaviour under
  another persona or format) would count one behaviour's evidence several times.
  Reports print both.
* **Intervals over seeds are Student-t** 95% intervals (mean ± t_{{0.975, S-1}} s / √S),
  for arm means (`scoreboard.arm_summary`) and paired differences
  (`scoreboard.paired_effect`). The percentile bootstrap used before undercovers at
  these seed counts (table below); BCa does no better, so it is not used.

## Coverage of the reported intervals (simulation)

Each measured per-seed score vector (one arm on one evaluation; {n_single} with nonzero
spread) is fitted by a Beta distribution with its mean and variance; a paired
difference draws two arms' fits of one evaluation independently ({n_pairs} pairs: trait
minus each other arm). Each replicate picks a fit uniformly, draws S seeds and checks
whether the 95% interval holds the fit's mean. Cells: coverage in % ± its Monte
Carlo standard error, sqrt(c(1 - c)/R), with R = 200,000 replicates for Student-t
and 10,000 (each with {interval_coverage.N_BOOT} resamples) for the bootstraps. The
"worst / 5th-percentile fit" row gives the lowest and the 5th-percentile Student-t
coverage over the fits taken one at a time (2,000 replicates each, ± about 0.5):
strongly skewed fits (a score near 0 or 1 with a small spread) cover less. The
configs use 2 seeds (test), 4 (runlocal) and 8 (full).

{cov}

`tests/evals/test_interval_coverage.py` repeats the Student-t and percentile rows at
4 and 8 seeds on the same fits (fewer replicates) and requires >= 93% for Student-t.

## Behaviours and their evaluations

{behaviour_list()}

## Seed-to-seed spread (measured, paired per-seed differences in suite points)

Suite points are units of the 0-1 suite mean (0.02 = 2 points out of 100).

{spread_table(sp)}

Pooled sd (root mean variance) of the per-seed suite-mean difference:
**{sp["suite"]:.4f}** ({len(sp["suite_items"])} comparisons,
3 df each); of a behaviour's per-seed score difference, pooled over the behaviours and
comparisons: **{sp["behaviour"]:.4f}**; of the suite after harmful fine-tuning (trait
vs the other start models): **{sp["finetune"]:.4f}**. One 4-seed sd is uncertain by a
factor of about 0.57-3.7 (95%, 3 df); pooling narrows that.

## Power (paired t, two-sided alpha = 0.05, 80% power)

The effects we care about: **{SUITE_EFFECT} suite points on the suite mean** (the size
of the measured trait-baseline effect, +0.022 at runlocal) and **{BEHAVIOUR_EFFECT} on
one behaviour's score**. For a single behaviour among many, BH's threshold lies between
0.05/{len(spreads_behaviours())} (one true effect) and 0.05 (all true), so both are given.
Experiments without their own measured spread use the main job's pooled one (same
arms' size, same suite).

{power}

What the seed counts can and cannot detect:

* runlocal (4 seeds) detects a suite-mean effect of **{det4:.3f}** suite points at 80%
  power; full (8 seeds) **{det8:.3f}**; {SUITE_EFFECT} needs **{need}** seeds.
* One behaviour at 8 seeds: **{det_b8:.3f}** (alpha 0.05); an effect of
  {BEHAVIOUR_EFFECT} needs **{need_b}** seeds at alpha 0.05 and more under BH (table).
  When only a few behaviours move, BH asks for about 0.05/22 and 8 seeds detect
  only {det_bh8:.3f}; the suite-mean paired test is the one with power.

**Full-scale seed counts.** 8 seeds (the configs' `full`) give 80% power for a
{SUITE_EFFECT}-point suite-mean effect ({need} seeds suffice), so every experiment keeps 8
seeds at full scale: the present full set takes about 7 h 45 min of 2-core CPU
(docs/RESULTS.md), and arms and evaluation cost about linearly in seeds, so 16 seeds
everywhere would take about 15-16 h. A claim about one behaviour needs more: a
{BEHAVIOUR_EFFECT} effect on one behaviour needs {need_b} seeds at alpha 0.05 and up to
{need_bh} under BH when few behaviours move. The recommendation is therefore 16 seeds for
the main job alone (its prior, five arms and fine-tuning took about 2 h at 8 seeds, so
about 2 h more) when per-behaviour claims are to be made, and 8 for the rest. The
seed counts live in `configs/common.py` (not changed here);
the spreads above are runlocal ones, so this page should be regenerated from the
full-scale v2 results (`--main runs/full/trait_rl_vs_baseline/results.json`).
"""


def spreads_behaviours() -> dict:
  from alignment_rl.evals import suite

  return suite.behaviours("full")


def main(argv=None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--out", default=os.path.join(ROOT, "docs", "statistics.md"))
  parser.add_argument("--extract", action="store_true", help="refresh " + EXTRACT)
  parser.add_argument("--main", default=SOURCES["trait_rl_vs_baseline"], help="main job results")
  args = parser.parse_args(argv)
  SOURCES["trait_rl_vs_baseline"] = args.main
  data = load()
  if args.extract:
    os.makedirs(os.path.dirname(EXTRACT), exist_ok=True)
    with open(EXTRACT, "w", encoding="utf-8") as f:
      json.dump(data, f, separators=(",", ":"))
  text = page(data)
  with open(args.out, "w", encoding="utf-8") as f:
    f.write(text)
  print(text)
  return 0


if __name__ == "__main__":
  raise SystemExit(main())
