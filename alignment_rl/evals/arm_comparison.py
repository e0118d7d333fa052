"""Comparisons of two training arms over many evaluations (DESIGN 6).

Every shared evaluation (or behaviour) is tested on its own, paired (`stats.paired_t_test`)
or unpaired (`stats.welch_t_test`), and the p-values are corrected together by Benjamini &
Hochberg (`stats.benjamini_hochberg`); `headline` counts the result and
`refusal_stratified` gives the per-seed means on the samples neither arm refused.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from alignment_rl.evals.stats import ALPHA, benjamini_hochberg, paired_t_test, welch_t_test


def _compare(test, a: dict, b: dict, alpha: float, key: str) -> list[dict]:
  rows = []
  for name in sorted(set(a) & set(b)):
    try:
      r = test(a[name], b[name])
    except ValueError as err:
      raise ValueError(f"evaluation {name!r}: {err}") from None
    mean_a, mean_b = float(np.mean(a[name])), float(np.mean(b[name]))
    row = {key: name, "mean_a": mean_a, "mean_b": mean_b, "delta": mean_a - mean_b}
    rows.append(row | {"t": r.t, "df": r.df, "p_value": r.p_value})
  q = benjamini_hochberg([r["p_value"] for r in rows])
  for row, qi in zip(rows, q, strict=True):
    row["q_value"] = float(qi)
    row["significant"] = bool(qi < alpha)
  return rows


def compare_arms(a: dict, b: dict, alpha: float = ALPHA, key: str = "evaluation") -> list[dict]:
  """Welch-tests arm A (treatment) against an unpaired arm B on every shared evaluation.

  Args:
    a: evaluation name -> [n_a] per-seed scores of arm A (higher is better).
    b: evaluation name -> [n_b] per-seed scores of arm B.
    alpha: false discovery rate for `significant`.
    key: the name of the row's label field ("evaluation" or "behaviour").

  Returns:
    One dict per evaluation in both arms, sorted by name, with keys `key`, mean_a,
    mean_b, delta (= mean_a - mean_b), t, df, p_value, q_value (BH over the compared
    evaluations) and significant (q_value < alpha).
  """
  return _compare(welch_t_test, a, b, alpha, key)


def compare_arms_paired(
  a: dict, b: dict, alpha: float = ALPHA, key: str = "evaluation"
) -> list[dict]:
  """As `compare_arms`, with the paired t-test (`paired_t_test`, df = S - 1) on the
  per-seed differences a[s] - b[s]: for arms that share each seed's start model.

  Args:
    a, b: name -> [S] per-seed scores, aligned by seed (same order).
  """
  return _compare(paired_t_test, a, b, alpha, key)


def headline(comparisons: list[dict], alpha: float = ALPHA, unit: str = "evaluations") -> dict:
  """Counts {n, improved (delta > 0), significant_improvements (delta > 0, q < alpha),
  significant_regressions (delta < 0, q < alpha), mean_delta, unit} over comparison rows."""
  deltas = np.array([c["delta"] for c in comparisons], np.float64)
  sig = np.array([c["q_value"] < alpha for c in comparisons], bool)
  return {
    "n": len(comparisons),
    "improved": int(np.sum(deltas > 0)),
    "significant_improvements": int(np.sum((deltas > 0) & sig)),
    "significant_regressions": int(np.sum((deltas < 0) & sig)),
    "mean_delta": float(deltas.mean()) if len(deltas) else float("nan"),
    "unit": unit,
  }


def format_headline(h: dict, alpha: float = ALPHA) -> str:
  """One line, e.g. '12 of 53 evaluations improved (mean Δ +0.091); 5 significant ...'."""
  return (
    f"{h['improved']} of {h['n']} {h.get('unit', 'evaluations')} improved "
    f"(mean Δ {h['mean_delta']:+.3f}); {h['significant_improvements']} significant after "
    f"Benjamini–Hochberg (q < {alpha:g}); {h['significant_regressions']} significant regressions"
  )


def refusal_stratified(
  scores_a: ArrayLike, scores_b: ArrayLike, refused_a: ArrayLike, refused_b: ArrayLike
) -> tuple[np.ndarray, np.ndarray]:
  """Per-seed means of both arms over the samples on which neither arm refused.

  keep[s, i] = ~refused_a[s, i] & ~refused_b[s, i];
  mean_x[s] = sum_i keep[s, i] scores_x[s, i] / sum_i keep[s, i] (NaN if nothing kept).

  Args:
    scores_a, scores_b: [S, N] float scores (seeds x the same N samples).
    refused_a, refused_b: [S, N] bool refusal flags.

  Returns:
    (mean_a, mean_b), float64[S] each.
  """
  arrays = [np.asarray(x) for x in (scores_a, scores_b, refused_a, refused_b)]
  shapes = [x.shape for x in arrays]
  if len(set(shapes)) != 1 or len(shapes[0]) != 2:
    raise ValueError(f"refusal_stratified: inputs must share one [S, N] shape, got {shapes}")
  keep = ~arrays[2].astype(bool) & ~arrays[3].astype(bool)
  count = keep.sum(axis=1)

  def kept_mean(scores: np.ndarray) -> np.ndarray:
    total = np.where(keep, scores.astype(np.float64), 0.0).sum(axis=1)
    return np.where(count > 0, total / np.maximum(count, 1), np.nan)

  return kept_mean(arrays[0]), kept_mean(arrays[1])
