"""The scoreboard: per-evaluation arm means, differences, Welch p and BH q, headline.

Input is tidy rows (`evaluate.ROW_FIELDS`) of any number of arms; a comparison takes
a treatment arm and a baseline arm and tests, per evaluation, the difference of the
per-seed metrics by Welch's t-test, with Benjamini–Hochberg q-values over the suite
(`stats`). The refusal-stratified re-analysis repeats the comparison on the samples
where neither arm refused (`stats.refusal_stratified`).
"""

from __future__ import annotations

import collections

import numpy as np

from alignment_rl.evals import stats


def per_seed(rows: list, arm: str) -> dict[str, np.ndarray]:
  """{evaluation: float64[S]} the arm's per-seed metrics, in seed order."""
  out = collections.defaultdict(list)
  for r in sorted(rows, key=lambda r: (r["evaluation"], r["seed"])):
    if r["arm"] == arm:
      out[r["evaluation"]].append(float(r["mean"]))
  return {k: np.asarray(v) for k, v in out.items()}


def arm_summary(rows: list, arm: str) -> dict[str, dict]:
  """{evaluation: {"mean", "ci_low", "ci_high", "seeds"}}: mean over seeds and a
  bootstrap CI over seeds."""
  out = {}
  for name, values in per_seed(rows, arm).items():
    finite = values[np.isfinite(values)]
    low, high = stats.bootstrap_mean_ci(finite) if len(finite) else (np.nan, np.nan)
    out[name] = {
      "mean": float(finite.mean()) if len(finite) else float("nan"),
      "ci_low": float(low),
      "ci_high": float(high),
      "seeds": len(values),
    }
  return out


def compare(rows: list, treatment: str, baseline: str, alpha: float = 0.05) -> dict:
  """{"comparisons": stats.compare_arms(...) + category, "headline": stats.headline}."""
  category = {r["evaluation"]: r["category"] for r in rows}
  a, b = per_seed(rows, treatment), per_seed(rows, baseline)
  keep = sorted(
    n for n in set(a) & set(b) if np.all(np.isfinite(a[n])) and np.all(np.isfinite(b[n]))
  )
  comparisons = stats.compare_arms({n: a[n] for n in keep}, {n: b[n] for n in keep}, alpha)
  for c in comparisons:
    c["category"] = category[c["evaluation"]]
  return {"comparisons": comparisons, "headline": stats.headline(comparisons, alpha)}


def compare_paired(rows: list, treatment: str, other: str, alpha: float = 0.05) -> dict:
  """Treatment against an arm that shares each seed's start model (the prior, a
  control, the baseline): per-evaluation paired t-tests with BH q-values, their
  headline, and the paired effect on the suite mean (`paired_effect`). Seeds are
  matched by id; evaluations missing a seed in either arm are left out."""
  by = {arm: collections.defaultdict(dict) for arm in (treatment, other)}
  for r in rows:
    if r["arm"] in by and np.isfinite(r["mean"]):
      by[r["arm"]][r["evaluation"]][int(r["seed"])] = float(r["mean"])
  a, b = {}, {}
  for name in sorted(by[treatment].keys() & by[other].keys()):
    seeds = sorted(by[treatment][name].keys() & by[other][name].keys())
    if len(seeds) >= 2 and len(seeds) == len(by[treatment][name]) == len(by[other][name]):
      a[name] = np.array([by[treatment][name][s] for s in seeds])
      b[name] = np.array([by[other][name][s] for s in seeds])
  comparisons = stats.compare_arms_paired(a, b, alpha)
  after, before = suite_mean_per_seed(rows, treatment), suite_mean_per_seed(rows, other)
  seeds = sorted(after.keys() & before.keys())
  suite = paired_effect([after[s] for s in seeds], [before[s] for s in seeds])
  return {"headline": stats.headline(comparisons, alpha), "suite": suite}


def compare_refusal_stratified(samples_a: dict, samples_b: dict, alpha: float = 0.05) -> dict:
  """`compare` on samples where neither arm refused (`evaluate.SuiteResult.samples`).

  Evaluations where some seed keeps no sample are left out.
  """
  a, b = {}, {}
  for name in sorted(set(samples_a) & set(samples_b)):
    sa, sb = samples_a[name], samples_b[name]
    if sa["values"].shape != sb["values"].shape or sa["values"].shape[1] == 0:
      continue
    ma, mb = stats.refusal_stratified(sa["values"], sb["values"], sa["refused"], sb["refused"])
    if np.all(np.isfinite(ma)) and np.all(np.isfinite(mb)):
      a[name], b[name] = ma, mb
  comparisons = stats.compare_arms(a, b, alpha)
  return {"comparisons": comparisons, "headline": stats.headline(comparisons, alpha)}


def format_scoreboard(rows: list, arms: tuple[str, ...], comparison: dict | None = None) -> str:
  """A markdown table: one row per evaluation, mean [CI over seeds] per arm, and
  (with a comparison) Δ, p and q, then the headline."""
  summaries = {arm: arm_summary(rows, arm) for arm in arms}
  by_eval = {c["evaluation"]: c for c in (comparison or {}).get("comparisons", [])}
  category = {r["evaluation"]: r["category"] for r in rows}
  names = sorted({n for s in summaries.values() for n in s}, key=lambda n: (category[n], n))
  head = ["evaluation", "category", *arms] + (["Δ", "p", "q"] if comparison else [])
  lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
  for n in names:
    cells = [n, category[n]]
    for arm in arms:
      s = summaries[arm].get(n)
      cells.append(f"{s['mean']:.3f} [{s['ci_low']:.3f}, {s['ci_high']:.3f}]" if s else "-")
    if comparison:
      c = by_eval.get(n)
      cells += (
        [f"{c['delta']:+.3f}", f"{c['p_value']:.3g}", f"{c['q_value']:.3g}"]
        if c
        else ["-", "-", "-"]
      )
    lines.append("| " + " | ".join(cells) + " |")
  if comparison:
    lines.append("")
    lines.append(stats.format_headline(comparison["headline"]))
  return "\n".join(lines)


def suite_mean_per_seed(rows: list, arm: str, persona: str | None = None) -> dict[int, float]:
  """{seed: the arm's suite mean} (mean over evaluations of the seed's metric), on rows
  of `persona` (None: rows without a persona)."""
  by_seed = collections.defaultdict(list)
  for r in rows:
    if r["arm"] == arm and r.get("persona") == persona and np.isfinite(r["mean"]):
      by_seed[int(r["seed"])].append(float(r["mean"]))
  return {s: float(np.mean(v)) for s, v in sorted(by_seed.items())}


def paired_effect(after: np.ndarray, before: np.ndarray, level: float = 0.95) -> dict:
  """Mean of the per-seed differences `after - before` with a Student-t interval and
  the paired t-test's two-sided p (`scipy.stats.ttest_rel`); seeds are paired (the
  same start model). NaN interval and p with fewer than 2 seeds."""
  from scipy import stats as sps

  d = np.asarray(after, np.float64) - np.asarray(before, np.float64)
  out = {"mean_delta": float(d.mean()) if len(d) else float("nan"), "seeds": len(d)}
  if len(d) < 2 or np.all(d == d[0]):
    low = high = p = float("nan") if len(d) < 2 else float(d[0])
    if len(d) >= 2:
      p = 0.0 if d[0] != 0 else 1.0
    return {**out, "ci_low": low, "ci_high": high, "p": p}
  half = sps.t.ppf(0.5 + level / 2, len(d) - 1) * d.std(ddof=1) / np.sqrt(len(d))
  p = float(sps.ttest_rel(after, before).pvalue)
  return {**out, "ci_low": float(d.mean() - half), "ci_high": float(d.mean() + half), "p": p}


def persona_effects(clean_rows: list, persona_rows: list) -> dict:
  """{arm: {persona: paired_effect(suite mean with persona, clean)}} per seed."""
  out: dict = {}
  for arm, persona in sorted({(r["arm"], r["persona"]) for r in persona_rows}):
    after = suite_mean_per_seed(persona_rows, arm, persona)
    before = suite_mean_per_seed(clean_rows, arm)
    seeds = sorted(after.keys() & before.keys())  # paired by seed id
    effect = paired_effect([after[k] for k in seeds], [before[k] for k in seeds])
    out.setdefault(arm, {})[persona] = effect
  return out
