"""The scoreboard: per-evaluation and per-behaviour arm differences, p and BH q, headline.

Input is tidy rows (`suite_runner.ROW_FIELDS`) of any number of arms; a comparison takes
a treatment arm and a baseline arm and tests, per evaluation, the difference of the
per-seed metrics: by the paired t-test on per-seed differences when the arms share
each seed's start model (`paired=True`, seeds matched by id), else by Welch's t-test
(`stats`). The primary count is over disjoint behaviours (`eval_spec.EvalSpec.behaviour`:
a behaviour's per-seed score is the unweighted mean of its evaluations' per-seed
metrics, one test per behaviour, Benjamini–Hochberg over the behaviours); the
per-evaluation list, with BH over every evaluation, is secondary (evaluations of one
behaviour on subsets or re-phrasings would count its evidence more than once). The
refusal-stratified re-analysis repeats the comparison on the samples where neither
arm refused (`arm_comparison.refusal_stratified`).
"""

from __future__ import annotations

import collections

import numpy as np

from alignment_rl.evals import arm_comparison, stats

TESTS = {True: "paired t (per-seed differences)", False: "Welch t (unpaired)"}


def behaviour_of(name: str) -> str:
  """The behaviour a registered evaluation declares (`eval_spec.EvalSpec.behaviour`);
  for an unregistered name, its part before the first "/" (the suite's default)."""
  from alignment_rl.evals import suite  # Registers the evaluations (imports JAX).

  if name in suite.EVAL_SPECS:
    return suite.EVAL_SPECS.get(name).behaviour
  return name.split("/")[0]


def behaviour_scores(scores: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
  """{behaviour: float64[S]}: per seed, the unweighted mean over the behaviour's
  evaluations in `scores` (name -> [S] per-seed metrics). A behaviour whose
  evaluations have different seed counts is left out."""
  groups = collections.defaultdict(list)
  for name in sorted(scores):
    groups[behaviour_of(name)].append(np.asarray(scores[name], np.float64))
  return {
    b: np.mean(np.stack(v), axis=0)
    for b, v in sorted(groups.items())
    if len({len(x) for x in v}) == 1
  }


def compare_scores(a: dict, b: dict, paired: bool, alpha: float = stats.ALPHA) -> dict:
  """Per-evaluation and per-behaviour tests of arm A against arm B.

  Args:
    a, b: evaluation name -> per-seed scores ([S] aligned by seed when `paired`).
    paired: the paired t-test (arms sharing each seed's start model), else Welch.

  Returns:
    {"test", "alpha", "behaviours": rows keyed "behaviour" (with their
    "evaluations"; "p_sign_flip", the exact sign-flip check, when paired over >= 8
    seeds), "behaviour_headline" (primary), "comparisons": rows keyed "evaluation",
    "headline" (secondary, over every evaluation)}.
  """
  compare_fn = arm_comparison.compare_arms_paired if paired else arm_comparison.compare_arms
  comparisons = compare_fn(a, b, alpha)
  shared = {n: a[n] for n in set(a) & set(b)}
  ba, bb = behaviour_scores(shared), behaviour_scores({n: b[n] for n in shared})
  behaviours = compare_fn(ba, bb, alpha, key="behaviour")
  members = collections.defaultdict(list)
  for name in sorted(shared):
    members[behaviour_of(name)].append(name)
  for row in behaviours:
    row["evaluations"] = members[row["behaviour"]]
    d = ba[row["behaviour"]] - bb[row["behaviour"]]
    if paired and len(d) >= stats.SIGN_FLIP_MIN_SEEDS:
      row["p_sign_flip"] = stats.sign_flip_p(d)
  return {
    "test": TESTS[paired],
    "alpha": alpha,
    "behaviours": behaviours,
    "behaviour_headline": arm_comparison.headline(behaviours, alpha, unit="behaviours"),
    "comparisons": comparisons,
    "headline": arm_comparison.headline(comparisons, alpha),
  }


def per_seed(rows: list, arm: str) -> dict[str, np.ndarray]:
  """{evaluation: float64[S]} the arm's per-seed metrics, in seed order."""
  out = collections.defaultdict(list)
  for r in sorted(rows, key=lambda r: (r["evaluation"], r["seed"])):
    if r["arm"] == arm:
      out[r["evaluation"]].append(float(r["mean"]))
  return {k: np.asarray(v) for k, v in out.items()}


def arm_summary(rows: list, arm: str) -> dict[str, dict]:
  """{evaluation: {"mean", "ci_low", "ci_high", "seeds"}}: mean over seeds and a 95%
  Student-t interval over seeds (`stats.mean_interval`; finite seeds only)."""
  out = {}
  for name, values in per_seed(rows, arm).items():
    finite = values[np.isfinite(values)]
    low, high = stats.mean_interval(finite) if len(finite) else (np.nan, np.nan)
    out[name] = {
      "mean": float(finite.mean()) if len(finite) else float("nan"),
      "ci_low": float(low),
      "ci_high": float(high),
      "seeds": len(values),
    }
  return out


def _paired_by_seed(rows: list, treatment: str, other: str) -> tuple[dict, dict]:
  """Per-seed metrics of both arms on the seeds both have, matched by seed id;
  evaluations missing a seed (or with a non-finite one) in either arm are left out."""
  by = {arm: collections.defaultdict(dict) for arm in (treatment, other)}
  for r in rows:
    if r["arm"] in by and np.isfinite(r["mean"]):
      by[r["arm"]][r["evaluation"]][int(r["seed"])] = float(r["mean"])
  a, b = {}, {}
  for name in sorted(by[treatment].keys() & by[other].keys()):
    ta, tb = by[treatment][name], by[other][name]
    seeds = sorted(ta.keys() & tb.keys())
    if len(seeds) >= 2 and len(seeds) == len(ta) == len(tb):
      a[name], b[name] = np.array([ta[s] for s in seeds]), np.array([tb[s] for s in seeds])
  return a, b


def compare(
  rows: list, treatment: str, baseline: str, alpha: float = stats.ALPHA, paired: bool = False
) -> dict:
  """`compare_scores` of treatment against baseline on their shared evaluations, each row with
  its category. `paired`: the arms share each seed's start model (seeds matched by
  id); else Welch across seeds (evaluations with a non-finite seed are left out)."""
  category = {r["evaluation"]: r.get("category", "") for r in rows}
  if paired:
    a, b = _paired_by_seed(rows, treatment, baseline)
  else:
    a, b = per_seed(rows, treatment), per_seed(rows, baseline)
    keep = [n for n in set(a) & set(b) if np.all(np.isfinite(a[n])) and np.all(np.isfinite(b[n]))]
    a, b = {n: a[n] for n in keep}, {n: b[n] for n in keep}
  out = compare_scores(a, b, paired, alpha)
  for c in out["comparisons"]:
    c["category"] = category[c["evaluation"]]
  return out


def compare_paired(rows: list, treatment: str, other: str, alpha: float = stats.ALPHA) -> dict:
  """Treatment against an arm that shares each seed's start model (the prior, a
  control, the baseline): `compare(..., paired=True)` and the paired effect on the
  suite mean ("suite", `paired_effect`)."""
  out = compare(rows, treatment, other, alpha, paired=True)
  after, before = suite_mean_per_seed(rows, treatment), suite_mean_per_seed(rows, other)
  seeds = sorted(after.keys() & before.keys())
  out["suite"] = paired_effect([after[s] for s in seeds], [before[s] for s in seeds])
  return out


def compare_refusal_stratified(
  samples_a: dict, samples_b: dict, alpha: float = stats.ALPHA, paired: bool = False
) -> dict:
  """`compare_scores` on samples where neither arm refused (`suite_runner.SuiteResult.samples`,
  [S, N] per evaluation, seeds in one order); `paired` as in `compare`.

  Evaluations where some seed keeps no sample are left out.
  """
  a, b = {}, {}
  for name in sorted(set(samples_a) & set(samples_b)):
    sa, sb = samples_a[name], samples_b[name]
    if sa["values"].shape != sb["values"].shape or sa["values"].shape[1] == 0:
      continue
    ma, mb = arm_comparison.refusal_stratified(
      sa["values"], sb["values"], sa["refused"], sb["refused"]
    )
    if np.all(np.isfinite(ma)) and np.all(np.isfinite(mb)):
      a[name], b[name] = ma, mb
  return compare_scores(a, b, paired, alpha)


def format_scoreboard(rows: list, arms: tuple[str, ...], comparison: dict | None = None) -> str:
  """A markdown table: one row per evaluation, mean [95% t-interval over seeds] per
  arm, and (with a comparison) Δ, p and q, then the behaviour headline (primary) and
  the per-evaluation headline."""
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
    if "behaviour_headline" in comparison:
      lines += ["Primary: " + arm_comparison.format_headline(comparison["behaviour_headline"]), ""]
    lines.append(arm_comparison.format_headline(comparison["headline"]))
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
  """Mean of the per-seed differences d = after - before with a Student-t interval
  (`stats.mean_interval`) and the paired t-test's two-sided p (`stats.paired_t_test`);
  seeds are paired (the same start model). From `stats.SIGN_FLIP_MIN_SEEDS` seeds the
  exact sign-flip p ("p_sign_flip") is added as a check. NaN interval and p with
  fewer than 2 seeds."""
  d = np.asarray(after, np.float64) - np.asarray(before, np.float64)
  out = {"mean_delta": float(d.mean()) if len(d) else float("nan"), "seeds": len(d)}
  if len(d) < 2:
    return {**out, "ci_low": float("nan"), "ci_high": float("nan"), "p": float("nan")}
  low, high = stats.mean_interval(d, level)
  out |= {"ci_low": low, "ci_high": high, "p": stats.paired_t_test(after, before).p_value}
  if len(d) >= stats.SIGN_FLIP_MIN_SEEDS:
    out["p_sign_flip"] = stats.sign_flip_p(d)
  return out


#: Key of the pooled effect in `persona_effects`: the mean over the harmful personas.
HARMFUL_POOLED = "harmful personas (pooled)"


def persona_effects(clean_rows: list, persona_rows: list, harmful: tuple = ()) -> dict:
  """{arm: {persona: paired_effect(suite mean with persona, clean)}} per seed.

  With `harmful` persona names given (all evaluated for an arm), the arm also gets
  `HARMFUL_POOLED`: per seed, the mean over those personas of the suite mean, paired
  with the clean suite mean; the one test of "the harmful personas lower this model"
  (the per-persona effects are secondary)."""
  out: dict = {}
  for arm, persona in sorted({(r["arm"], r["persona"]) for r in persona_rows}):
    after = suite_mean_per_seed(persona_rows, arm, persona)
    before = suite_mean_per_seed(clean_rows, arm)
    seeds = sorted(after.keys() & before.keys())  # paired by seed id
    effect = paired_effect([after[k] for k in seeds], [before[k] for k in seeds])
    out.setdefault(arm, {})[persona] = effect
  for arm in out:
    if not harmful or not set(harmful) <= set(out[arm]):
      continue
    per = [suite_mean_per_seed(persona_rows, arm, p) for p in harmful]
    before = suite_mean_per_seed(clean_rows, arm)
    seeds = sorted(set(before).intersection(*per))
    after = [float(np.mean([m[k] for m in per])) for k in seeds]
    out[arm][HARMFUL_POOLED] = paired_effect(after, [before[k] for k in seeds])
  return out


def attack_bites(effects: dict, harmful: tuple, arms: tuple = ("prior", "baseline")) -> dict:
  """Whether the harmful-persona attack has something to act on (issue: persistence is
  claimed only for attacks that lower the unprotected models).

  Returns `{"pooled": bool, "personas": [...], "arms": [...]}`: `pooled` if the pooled
  harmful effect's 95% interval lies below 0 for every arm of `arms` present; `personas`
  the personas of `harmful` whose own interval lies below 0 for all of them."""
  present = [a for a in arms if a in effects and HARMFUL_POOLED in effects[a]]
  below = lambda e: bool(np.isfinite(e["ci_high"]) and e["ci_high"] < 0)  # noqa: E731
  pooled = bool(present) and all(below(effects[a][HARMFUL_POOLED]) for a in present)
  names = [p for p in harmful if p in effects[present[0]]] if present else []
  biting = [p for p in names if all(p in effects[a] and below(effects[a][p]) for a in present)]
  return {"pooled": pooled, "personas": biting, "arms": present}
