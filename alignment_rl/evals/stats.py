"""Host-side statistics comparing two training arms over an evaluation suite.

Per evaluation, arms are compared across seeds by Welch's t-test (Welch 1947); the
suite's p-values are adjusted by Benjamini & Hochberg (1995). Pure NumPy: the Student-t
tail is the regularized incomplete beta, by its continued fraction (modified Lentz).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike

_EPS = 1e-15
_TINY = 1e-300
_MAX_ITER = 20000


def _lgamma_ratio(z: np.ndarray, s: np.ndarray) -> np.ndarray:
  """log Γ(z) - log Γ(z + s) for z >= 10 by Stirling's series, free of the
  cancellation between two huge log-gammas: with c(z) = 1/(12z) - 1/(360z^3) + ...,
  log Γ(z)/Γ(z+s) = -(z - 1/2) log1p(s/z) - s log(z + s) + s + c(z) - c(z + s)."""

  def c(w):
    w2 = w * w
    return (1 / 12 - (1 / 360 - (1 / 1260 - (1 / 1680 - 1 / (1188 * w2)) / w2) / w2) / w2) / w

  return -(z - 0.5) * np.log1p(s / z) - s * np.log(z + s) + s + c(z) - c(z + s)


def _lbeta(a: np.ndarray, b: np.ndarray) -> np.ndarray:
  """log B(a, b) = log Γ(a) + log Γ(b) - log Γ(a + b)."""
  lg = np.vectorize(math.lgamma, otypes=[np.float64])
  big, small = np.maximum(a, b), np.minimum(a, b)
  stirling = _lgamma_ratio(np.maximum(big, 10.0), small)
  return lg(small) + np.where(big >= 10, stirling, lg(big) - lg(big + small))


def _betainc_cf(a: np.ndarray, b: np.ndarray, x: np.ndarray, log_x, log_y) -> np.ndarray:
  """I_x(a, b) = x^a (1-x)^b / (a B(a,b)) / (1 + d_1/(1 + d_2/(1 + ...))).

  d_{2m+1} = -(a+m)(a+b+m) x / ((a+2m)(a+2m+1)), d_{2m} = m(b-m) x / ((a+2m-1)(a+2m));
  converges fast for x < (a+1)/(a+b+2). All arguments are float64 arrays of one shape.
  """
  f, c, d = np.ones_like(x), np.ones_like(x), np.zeros_like(x)
  active = np.ones(x.shape, bool)
  for j in range(1, 2 * _MAX_ITER + 1):
    if not active.any():
      break
    if j % 2:  # odd coefficient d_{2m+1}
      m = (j - 1) // 2
      coef = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))
    else:  # even coefficient d_{2m}
      m = j // 2
      coef = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m))
    d_new = 1.0 + coef * d
    d_new = 1.0 / np.where(np.abs(d_new) < _TINY, _TINY, d_new)
    c_new = 1.0 + coef / c
    c_new = np.where(np.abs(c_new) < _TINY, _TINY, c_new)
    delta = c_new * d_new
    f = np.where(active, f * delta, f)
    c = np.where(active, c_new, c)
    d = np.where(active, d_new, d)
    active &= np.abs(delta - 1.0) > _EPS
  log_front = a * log_x + b * log_y - np.log(a) - _lbeta(a, b)
  return np.exp(log_front) / f


def student_t_sf(t: float | np.ndarray, df: float | np.ndarray) -> np.ndarray:
  """Survival function P(T > t) of Student's t with `df` > 0 degrees of freedom.

  With x = df / (df + t^2) and I the regularized incomplete beta, P(T > t) =
  I_x(df/2, 1/2) / 2 for t >= 0 and 1 - I_x(df/2, 1/2) / 2 for t < 0 (any real df).
  For large x, I_x(a, b) = 1 - I_{1-x}(b, a) keeps the continued fraction fast.

  Args:
    t: float or array of any shape.
    df: float or array broadcastable with `t`; finite and > 0.

  Returns:
    float64 array of the broadcast shape (NaN where t or df is NaN).
  """
  t, df = np.broadcast_arrays(np.asarray(t, np.float64), np.asarray(df, np.float64))
  if np.any((df <= 0) | np.isinf(df)):
    raise ValueError("student_t_sf: df must be finite and > 0")
  ix = np.where(np.isinf(t), 0.0, 1.0)  # I_x at x = 0 (|t| = inf) and x = 1 (t = 0)
  live = np.isfinite(t) & (t != 0) & ~np.isnan(df)
  u, dfl = np.abs(t[live]), df[live]
  a, b = 0.5 * dfl, np.full_like(dfl, 0.5)
  # x / (1 - x) = df / t^2 = exp(log_r); e = exp(-|log_r|) never overflows.
  log_r = np.log(dfl) - 2.0 * np.log(u)
  e = np.exp(-np.abs(log_r))
  big, l1p = log_r > 0, np.log1p(e)
  x, y = np.where(big, 1.0, e) / (1.0 + e), np.where(big, e, 1.0) / (1.0 + e)
  log_x = np.where(big, -l1p, log_r - l1p)
  log_y = np.where(big, -log_r - l1p, -l1p)
  direct = x < (a + 1.0) / (a + b + 2.0)
  d, m = direct, ~direct
  ix_live = np.empty_like(x)
  ix_live[d] = _betainc_cf(a[d], b[d], x[d], log_x[d], log_y[d])
  ix_live[m] = 1.0 - _betainc_cf(b[m], a[m], y[m], log_y[m], log_x[m])  # the symmetry
  ix[live] = ix_live
  out = np.where(t >= 0, 0.5 * ix, 1.0 - 0.5 * ix)
  return np.where(np.isnan(t) | np.isnan(df), np.nan, out)


class WelchResult(NamedTuple):
  t: float
  df: float
  p_value: float
  mean_diff: float


def _as_vector(x: ArrayLike, name: str, min_len: int) -> np.ndarray:
  v = np.asarray(x, np.float64)
  if v.ndim != 1 or v.shape[0] < min_len:
    raise ValueError(f"{name} must be a 1-D array of >= {min_len} values, got shape {v.shape}")
  if not np.all(np.isfinite(v)):
    raise ValueError(f"{name} contains non-finite values")
  return v


def welch_t_test(a: ArrayLike, b: ArrayLike) -> WelchResult:
  """Two-sided Welch t-test of mean(a) == mean(b) (Welch 1947).

  t = (mean(a) - mean(b)) / sqrt(s_a^2/n_a + s_b^2/n_b), with ddof=1 variances s^2;
  df = (s_a^2/n_a + s_b^2/n_b)^2 / ((s_a^2/n_a)^2/(n_a-1) + (s_b^2/n_b)^2/(n_b-1))
  (Welch–Satterthwaite); p = 2 P(T_df > |t|). If both samples are constant,
  df = n_a + n_b - 2 and (t, p) = (0, 1) for equal means, (±inf, 0) otherwise.

  Args:
    a: [n_a] finite per-seed values, n_a >= 2.
    b: [n_b] finite per-seed values, n_b >= 2.
  """
  a, b = _as_vector(a, "a", 2), _as_vector(b, "b", 2)
  na, nb = a.shape[0], b.shape[0]
  mean_diff = float(a.mean() - b.mean())
  # A constant sample has exactly zero variance (np.var can leave rounding noise).
  va = 0.0 if np.ptp(a) == 0 else float(a.var(ddof=1)) / na
  vb = 0.0 if np.ptp(b) == 0 else float(b.var(ddof=1)) / nb
  if va == 0.0 and vb == 0.0:
    df = float(na + nb - 2)
    if a[0] == b[0]:
      return WelchResult(0.0, df, 1.0, 0.0)
    return WelchResult(math.copysign(math.inf, a[0] - b[0]), df, 0.0, mean_diff)
  se2 = va + vb
  t = mean_diff / math.sqrt(se2)
  df = se2**2 / (va**2 / (na - 1) + vb**2 / (nb - 1))
  p = float(2.0 * student_t_sf(abs(t), df))
  return WelchResult(float(t), float(df), min(p, 1.0), mean_diff)


def benjamini_hochberg(p_values: ArrayLike) -> np.ndarray:
  """Benjamini & Hochberg (1995) q-values (step-up adjusted p-values).

  With the m non-NaN p-values sorted, p_(1) <= ... <= p_(m):
  q_(i) = min(1, min_{j >= i} m p_(j) / j). Rejecting q < alpha controls the false
  discovery rate at alpha for independent tests.

  Args:
    p_values: array of any shape with values in [0, 1]; NaN entries are passed
      through as NaN and do not count in m.

  Returns:
    float64 array of q-values, same shape and order as `p_values`.
  """
  p = np.asarray(p_values, np.float64)
  flat, q = p.ravel(), np.full(p.size, np.nan)
  ok = ~np.isnan(flat)
  pv, m = flat[ok], int(ok.sum())
  if np.any((pv < 0) | (pv > 1)):
    raise ValueError("p_values must lie in [0, 1] (or be NaN)")
  order = np.argsort(pv, kind="stable")
  scaled = pv[order] * m / np.arange(1, m + 1)
  q_ok = np.empty(m)
  q_ok[order] = np.minimum(np.minimum.accumulate(scaled[::-1])[::-1], 1.0)
  q[ok] = q_ok
  return q.reshape(p.shape)


def bootstrap_mean_ci(
  values: ArrayLike,
  n_boot: int = 1000,
  confidence: float = 0.95,
  seed: int | np.random.Generator = 0,
) -> tuple[float, float]:
  """Percentile bootstrap CI of the mean: the ((1-c)/2, (1+c)/2) quantiles of the
  means of `n_boot` size-n resamples drawn with replacement (deterministic per `seed`).

  Args:
    values: [n] finite values, n >= 1 (n == 1 gives (v, v)).
    seed: an int seed, or a `np.random.Generator` to draw from.
  """
  v = _as_vector(values, "values", 1)
  if not 0.0 < confidence < 1.0:
    raise ValueError(f"confidence must be in (0, 1), got {confidence}")
  if n_boot < 1:
    raise ValueError(f"n_boot must be >= 1, got {n_boot}")
  if v.shape[0] == 1:
    return float(v[0]), float(v[0])
  rng = np.random.default_rng(seed)
  means = v[rng.integers(0, v.shape[0], size=(n_boot, v.shape[0]))].mean(axis=1)
  lo, hi = np.quantile(means, [(1.0 - confidence) / 2, (1.0 + confidence) / 2])
  return float(lo), float(hi)


def compare_arms(
  a: dict[str, np.ndarray], b: dict[str, np.ndarray], alpha: float = 0.05
) -> list[dict]:
  """Welch-tests arm A (treatment) against arm B (baseline) on every shared evaluation.

  Args:
    a: evaluation name -> [n_a] per-seed scores of arm A (higher is better).
    b: evaluation name -> [n_b] per-seed scores of arm B.
    alpha: false discovery rate for `significant`.

  Returns:
    One dict per evaluation in both arms, sorted by name, with keys evaluation,
    mean_a, mean_b, delta (= mean_a - mean_b), t, df, p_value, q_value (BH over the
    compared evaluations) and significant (q_value < alpha).
  """
  rows = []
  for name in sorted(set(a) & set(b)):
    try:
      r = welch_t_test(a[name], b[name])
    except ValueError as err:
      raise ValueError(f"evaluation {name!r}: {err}") from None
    mean_a, mean_b = float(np.mean(a[name])), float(np.mean(b[name]))
    row = {"evaluation": name, "mean_a": mean_a, "mean_b": mean_b, "delta": mean_a - mean_b}
    rows.append(row | {"t": r.t, "df": r.df, "p_value": r.p_value})
  q = benjamini_hochberg([r["p_value"] for r in rows])
  for row, qi in zip(rows, q, strict=True):
    row["q_value"] = float(qi)
    row["significant"] = bool(qi < alpha)
  return rows


def compare_arms_paired(
  a: dict[str, np.ndarray], b: dict[str, np.ndarray], alpha: float = 0.05
) -> list[dict]:
  """As `compare_arms`, but with the paired t-test (`scipy.stats.ttest_rel`) on the
  per-seed differences a[s] - b[s]: for arms that share each seed's start model.

  Args:
    a, b: evaluation name -> [S] per-seed scores, aligned by seed (same order).
    alpha: false discovery rate for `significant`.

  Returns:
    As `compare_arms` (keys evaluation, mean_a, mean_b, delta, t, df = S - 1,
    p_value, q_value, significant). Identical differences on every seed give
    p = 0 (nonzero) or 1 (zero), as a t-test of zero spread.
  """
  from scipy import stats as sps

  rows = []
  for name in sorted(set(a) & set(b)):
    x, y = np.asarray(a[name], np.float64), np.asarray(b[name], np.float64)
    if x.shape != y.shape or x.ndim != 1 or len(x) < 2:
      raise ValueError(
        f"evaluation {name!r}: paired test needs two equal-length vectors of >= 2 seeds, "
        f"got {x.shape} and {y.shape}"
      )
    d = x - y
    if np.all(d == d[0]):
      t, p = (np.inf * np.sign(d[0]), 0.0) if d[0] != 0 else (0.0, 1.0)
    else:
      res = sps.ttest_rel(x, y)
      t, p = float(res.statistic), float(res.pvalue)
    row = {"evaluation": name, "mean_a": float(x.mean()), "mean_b": float(y.mean())}
    rows.append(row | {"delta": float(d.mean()), "t": t, "df": len(d) - 1, "p_value": p})
  q = benjamini_hochberg([r["p_value"] for r in rows])
  for row, qi in zip(rows, q, strict=True):
    row["q_value"] = float(qi)
    row["significant"] = bool(qi < alpha)
  return rows


def headline(comparisons: list[dict], alpha: float = 0.05) -> dict:
  """Counts {n, improved (delta > 0), significant_improvements (delta > 0, q < alpha),
  significant_regressions (delta < 0, q < alpha), mean_delta} over `compare_arms` rows."""
  deltas = np.array([c["delta"] for c in comparisons], np.float64)
  sig = np.array([c["q_value"] < alpha for c in comparisons], bool)
  return {
    "n": len(comparisons),
    "improved": int(np.sum(deltas > 0)),
    "significant_improvements": int(np.sum((deltas > 0) & sig)),
    "significant_regressions": int(np.sum((deltas < 0) & sig)),
    "mean_delta": float(deltas.mean()) if len(deltas) else float("nan"),
  }


def format_headline(h: dict, alpha: float = 0.05) -> str:
  """One line, e.g. '12 of 53 evaluations improved (mean Δ +0.091); 5 significant ...'."""
  return (
    f"{h['improved']} of {h['n']} evaluations improved (mean Δ {h['mean_delta']:+.3f}); "
    f"{h['significant_improvements']} significant after Benjamini–Hochberg (q < {alpha:g}); "
    f"{h['significant_regressions']} significant regressions"
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
