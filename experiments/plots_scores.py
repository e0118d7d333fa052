"""Figures of scores (from logged results only): learning curves, per-evaluation deltas,
the arms between the reference rows, the overlap sweep, held-out overlap, gridworlds.

Every function takes the loaded results dict (or a list of them for sweeps, or the
overlap statistics) and returns a matplotlib `Figure`; `plots.FIGURES` names them.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

_ARM_COLORS = ("tab:gray", "tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple")


def arm_colors(names) -> dict:
  """{name: a matplotlib colour}, cycling through six in the order given."""
  return {n: _ARM_COLORS[i % len(_ARM_COLORS)] for i, n in enumerate(names)}


def learning_curves(results: dict):
  """Reward per step vs PPO update, one line per arm (mean over seeds)."""
  fig, ax = plt.subplots(figsize=(5, 3.2))
  curves = results["learning_curves"]
  colors = arm_colors(["prior", *curves])
  for arm, curve in curves.items():
    ax.plot(
      [p["update"] for p in curve], [p["reward"] for p in curve], label=arm, color=colors[arm]
    )
  ax.set_xlabel("PPO update")
  ax.set_ylabel("training reward per turn")
  ax.set_title(results["experiment"])
  ax.legend(frameon=False)
  fig.tight_layout()
  return fig


def _deltas(results: dict, treatment: str | None = None, keep=None):
  treatment = treatment or results["treatment"]
  comp = results["comparisons"][treatment]["all"]["comparisons"]
  return [c for c in comp if keep is None or keep(c["evaluation"])]


def scoreboard_deltas(results: dict, treatment: str | None = None, keep=None, title=None):
  """Per-evaluation Δ (treatment - baseline, mean over seeds), sorted; filled bars are
  significant after Benjamini-Hochberg (q < 0.05)."""
  comp = sorted(_deltas(results, treatment, keep), key=lambda c: c["delta"])
  fig, ax = plt.subplots(figsize=(6, max(3.0, 0.16 * len(comp) + 1)))
  y = np.arange(len(comp))
  colors = ["tab:blue" if c["delta"] >= 0 else "tab:red" for c in comp]
  fills = [c["q_value"] < 0.05 for c in comp]
  for yi, c, col, fill in zip(y, comp, colors, fills, strict=True):
    ax.barh(yi, c["delta"], color=col if fill else "none", edgecolor=col)
  ax.set_yticks(y, [c["evaluation"] for c in comp], fontsize=6)
  ax.axvline(0, color="black", lw=0.5)
  n = len(comp)
  k = sum(c["delta"] > 0 for c in comp)
  s = sum(f and c["delta"] > 0 for f, c in zip(fills, comp, strict=True))
  ax.set_xlabel("Δ score (treatment - baseline); filled: q < 0.05")
  name = treatment or results["treatment"]
  default = f"{name}: {k} of {n} evaluations improved, {s} significant"
  h = results["comparisons"][name]["all"].get("behaviour_headline")
  if h and keep is None:  # The primary count first: disjoint behaviours.
    default = (
      f"{name}: {h['improved']}/{h['n']} behaviours up, "
      f"{h['significant_improvements']} significant (BH q < 0.05)\n"
      f"{k}/{n} evaluations up, {s} significant"
    )
  ax.set_title(title or default, fontsize=8)
  fig.tight_layout()
  return fig


def health_transfer(results: dict):
  """`scoreboard_deltas` on the evaluations outside the health domain."""
  return scoreboard_deltas(
    results, keep=lambda e: "health" not in e, title="non-health evaluations"
  )


def health_without_health_data(results: dict):
  """`scoreboard_deltas` on the health evaluations."""
  return scoreboard_deltas(results, keep=lambda e: "health" in e, title="health evaluations")


def control_comparison(results: dict):
  """Suite-mean Δ vs baseline of every compared arm (e.g. rubric vs helpfulness reward)."""
  fig, ax = plt.subplots(figsize=(4.5, 3))
  names = list(results["comparisons"])
  means = [results["comparisons"][n]["all"]["headline"]["mean_delta"] for n in names]
  sig = [results["comparisons"][n]["all"]["headline"]["significant_improvements"] for n in names]
  ax.bar(names, means, color=[arm_colors(names)[n] for n in names])
  for i, s in enumerate(sig):
    ax.text(i, means[i], f"{s} sig.", ha="center", va="bottom", fontsize=8)
  ax.axhline(0, color="black", lw=0.5)
  ax.set_ylabel(f"mean Δ vs {results['baseline']}")
  fig.tight_layout()
  return fig


def overlap_sweep(results_list: list):
  """Held-out transfer (mean Δ over the suite) vs the domains' surface overlap."""
  pts = sorted(
    (r["surface_overlap"], r["comparisons"][r["treatment"]]["all"]["headline"]["mean_delta"])
    for r in results_list
  )
  fig, ax = plt.subplots(figsize=(4.5, 3))
  ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o")
  ax.set_xlabel("surface overlap between domains")
  ax.set_ylabel("mean Δ over the suite")
  fig.tight_layout()
  return fig


def reference_rows(results: dict):
  """Suite and category means of every arm (mean over seeds) between the reference
  rows: the best context-free reply, random replies, the scripted prior, the oracle."""
  from experiments.pipelines.report_tables import category_means

  ref, arms = results["reference"], category_means(results["evaluation"])
  cols = ["suite", *sorted(next(iter(arms.values())).keys() - {"suite"})]
  x = np.arange(len(cols))
  fig, ax = plt.subplots(figsize=(8.5, 3.4))
  styles = {
    "oracle": ("oracle", "k", "-"),
    "prior": ("scripted prior", "0.45", "--"),
    "fixed_reply": ("best fixed reply", "tab:red", ":"),
    "random": ("random replies", "0.7", ":"),
  }
  for key, (label, color, ls) in styles.items():
    r = ref[key]
    y = [r["suite_mean"] if c == "suite" else r["categories"].get(c, np.nan) for c in cols]
    ax.plot(x, y, color=color, ls=ls, marker="_", ms=14, lw=1, label=label)
  colors = arm_colors(list(arms))
  width = 0.6 / max(len(arms), 1)
  for i, (arm, m) in enumerate(arms.items()):
    xs = x - 0.3 + width * (i + 0.5)
    ax.scatter(xs, [m.get(c, np.nan) for c in cols], s=14, color=colors[arm], label=arm, zorder=3)
  ax.set_xticks(x, [c.replace("_", "\n") for c in cols], fontsize=7)
  ax.set_ylabel("score")
  ax.set_ylim(-0.02, 1.02)
  ax.set_title(f"{results['experiment']}: arms between the reference rows")
  ax.legend(frameon=False, fontsize=6, loc="center left", bbox_to_anchor=(1.0, 0.5))
  fig.tight_layout()
  return fig


def heldout_overlap(stats: dict):
  """Nearest-training-context edit distances (abstracted tokens) of each held-out
  group beside the i.i.d. test split, with the share of token-multiset matches
  (`data.overlap.heldout_overlap`); needs no experiment results."""
  fig, ax = plt.subplots(figsize=(6, 3.2))
  top = max(max(r["abstract_ed"]) for r in stats.values())
  bins = np.arange(-0.5, top + 1.5)
  for group, row in stats.items():
    label = (
      f"{group}: median {row['abstract_median_ed']:.0f}, "
      f"multiset match {100 * row['abstract_share']:.1f}%"
    )
    ax.hist(row["abstract_ed"], bins=bins, histtype="step", lw=1.4, label=label, density=True)
  ax.set_xlabel("edit distance to the nearest training context (abstracted tokens)")
  ax.set_ylabel("share of contexts")
  ax.legend(frameon=False, fontsize=6)
  fig.tight_layout()
  return fig


def gridworld_returns(results: dict):
  """Visible return vs hidden performance of every gridworld (greedy, mean over seeds)."""
  rows = [r for r in results["rows"] if r["policy"] == "greedy"]
  envs = sorted({(r["env"], r["variant"]) for r in rows})
  fig, ax = plt.subplots(figsize=(6, 3.5))
  x = np.arange(len(envs))
  ret = [np.mean([r["return_mean"] for r in rows if (r["env"], r["variant"]) == e]) for e in envs]
  perf = [
    np.mean([r["performance_mean"] for r in rows if (r["env"], r["variant"]) == e]) for e in envs
  ]
  ax.bar(x - 0.2, ret, 0.4, label="visible return")
  ax.bar(x + 0.2, perf, 0.4, label="hidden performance")
  ax.set_xticks(x, [f"{e}\n{v}" for e, v in envs], rotation=70, fontsize=6)
  ax.legend(frameon=False)
  fig.tight_layout()
  return fig
