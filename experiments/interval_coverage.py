r"""Coverage of 95% intervals over a few seeds, simulated from measured per-seed scores.

Each measured per-seed score vector (one arm on one evaluation) is fitted by a Beta
distribution with its mean m and variance v (method of moments: a = m k,
b = (1 - m) k, k = m (1 - m) / v - 1; v capped at 0.99 m (1 - m); vectors of zero
spread are left out). A paired difference draws the treatment's and the other arm's
fits of one evaluation independently (the shared prior's correlation, which narrows
the difference, is left out). Each simulated replicate picks a fit uniformly, draws S
seeds and checks whether the interval holds the fit's mean (or difference of means);
the Monte Carlo standard error of a coverage c over R replicates is
sqrt(c (1 - c) / R). Intervals (`stats.mean_interval`): Student-t, the percentile
bootstrap and BCa (Efron 1987: bias correction z0 and jackknife acceleration) with
`N_BOOT` resamples. Used by `experiments/stats_page.py` and the coverage test.
"""

from __future__ import annotations

import numpy as np

from alignment_rl.evals import stats

SEEDS = (2, 4, 8, 16)
N_BOOT = 1000


def beta_fit(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
  """(a, b, mean) of Beta fits by moments to the rows of [F, S] per-seed scores;
  rows with zero variance (or a mean of 0 or 1) are dropped."""
  values = np.asarray(values, np.float64)
  m, v = values.mean(1), values.var(1, ddof=1)
  keep = (v > 0) & (m > 0) & (m < 1)
  m, v = m[keep], np.minimum(v[keep], 0.99 * m[keep] * (1 - m[keep]))
  k = m * (1 - m) / v - 1
  return m * k, (1 - m) * k, m


def fits(scores: dict, treatment: str = "trait"):
  """Fits of one run's {arm: {evaluation: [S]}}: (single, pairs) with single = (a, b, m)
  over every (arm, evaluation) and pairs = (a1, b1, a2, b2, m1 - m2) over every
  evaluation and arm other than `treatment` (treatment minus that arm)."""
  single = beta_fit([v for arm in scores.values() for v in arm.values()])
  pairs = []
  for other in sorted(set(scores) - {treatment}):
    for name in sorted(scores[treatment].keys() & scores[other].keys()):
      t, o = beta_fit([scores[treatment][name]]), beta_fit([scores[other][name]])
      if len(t[0]) and len(o[0]):
        pairs.append((t[0][0], t[1][0], o[0][0], o[1][0], t[2][0] - o[2][0]))
  return single, tuple(np.array(x) for x in zip(*pairs, strict=True))


def draw(rng: np.random.Generator, fit, reps: int, seeds: int):
  """[reps, seeds] draws, each replicate from one fit picked uniformly, and their true
  means: from a Beta fit (a, b, m) or a difference fit (a1, b1, a2, b2, d)."""
  i = rng.integers(0, len(fit[-1]), reps)
  x = rng.beta(fit[0][i, None], fit[1][i, None], (reps, seeds))
  if len(fit) == 5:
    x = x - rng.beta(fit[2][i, None], fit[3][i, None], (reps, seeds))
  return x, fit[-1][i]


def covers_t(x: np.ndarray, true: np.ndarray, level: float = 0.95) -> np.ndarray:
  """bool[R]: whether each row's Student-t interval holds its true mean."""
  lo, hi = stats.mean_interval(x, level, axis=1)
  return (lo <= true) & (true <= hi)


def covers_bootstrap(x, true, rng, bca: bool = False, level: float = 0.95, chunk: int = 500):
  """bool[R]: whether each row's percentile (or BCa) bootstrap interval
  (`stats.mean_interval`, nearest-rank quantiles of `N_BOOT` resamples) holds its true
  mean; rows are resampled `chunk` at a time, drawing from `rng` in row order."""
  out = []
  for k in range(0, len(x), chunk):
    lo, hi = stats.mean_interval(
      x[k : k + chunk],
      level,
      axis=1,
      method="bca" if bca else "percentile",
      n_boot=N_BOOT,
      seed=rng,
      nearest_rank=True,
    )
    t = true[k : k + chunk]
    out.append((lo <= t) & (t <= hi))
  return np.concatenate(out)


def cell(c: np.ndarray) -> str:
  """'94.8 ± 0.05': coverage in % and its Monte Carlo standard error."""
  p = c.mean()
  return f"{100 * p:.1f} ± {100 * np.sqrt(p * (1 - p) / len(c)):.2f}"


def per_fit_t(rng, fit, reps: int, seeds: int) -> np.ndarray:
  """Student-t coverage of every fit on its own (`reps` replicates each)."""
  one = [tuple(x[j : j + 1] for x in fit) for j in range(len(fit[-1]))]
  return np.array([covers_t(*draw(rng, f, reps, seeds)).mean() for f in one])


def coverage_table(scores: dict, reps_t: int = 200_000, reps_boot: int = 10_000, seed: int = 0):
  """Markdown: coverage (% ± Monte Carlo s.e.) per method, case and seed count; and the
  numbers of single and paired fits."""
  rng = np.random.default_rng(seed)
  single, pairs = fits(scores)
  lines = [
    "| interval | what | " + " | ".join(f"{s} seeds" for s in SEEDS) + " |",
    "|---|---|" + "---:|" * len(SEEDS),
  ]
  for case, fit in (("arm mean", single), ("paired difference", pairs)):
    rows = {"Student-t": [], "percentile bootstrap": [], "BCa bootstrap": [], "worst": []}
    for s in SEEDS:
      rows["Student-t"].append(cell(covers_t(*draw(rng, fit, reps_t, s))))
      xb, tb = draw(rng, fit, reps_boot, s)
      rows["percentile bootstrap"].append(cell(covers_bootstrap(xb, tb, rng)))
      rows["BCa bootstrap"].append(cell(covers_bootstrap(xb, tb, rng, bca=True)))
      each = per_fit_t(rng, fit, 2000, s)
      rows["worst"].append(f"{100 * each.min():.1f} / {100 * np.percentile(each, 5):.1f}")
    for name, cells in rows.items():
      label = "Student-t, worst / 5th-percentile fit" if name == "worst" else name
      lines.append(f"| {label} | {case} | " + " | ".join(cells) + " |")
  return "\n".join(lines), (len(single[-1]), len(pairs[-1]))
