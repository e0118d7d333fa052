"""Figures of persistence (from logged results only): suite means under personas, after
harmful fine-tuning and under multi-turn pressure; refusal rates; the persistence
objectives' arms side by side.

Every function takes the loaded results dict and returns a matplotlib `Figure`;
`plots.FIGURES` names them.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from experiments.plots_scores import arm_colors


def persona_persistence(results: dict):
  """Suite mean per arm: clean, and under each persona (harmful and helpful)."""
  clean = {}
  for r in results["evaluation"]:
    clean.setdefault(r["arm"], []).append(r["mean"])
  attacked: dict = {}
  for r in results["personas"]:
    attacked.setdefault((r["arm"], r["persona"]), []).append(r["mean"])
  arms = sorted({a for a, _ in attacked})
  personas = sorted({p for _, p in attacked})
  fig, ax = plt.subplots(figsize=(6, 3.2))
  width = 0.8 / (len(personas) + 1)
  x = np.arange(len(arms))
  ax.bar(x, [np.nanmean(clean[a]) for a in arms], width, label="no persona", color="lightgray")
  for i, p in enumerate(personas):
    vals = [np.nanmean(attacked[(a, p)]) for a in arms]
    ax.bar(x + (i + 1) * width, vals, width, label=p)
  ax.set_xticks(x + width * len(personas) / 2, arms)
  ax.set_ylabel("suite mean score")
  ax.legend(fontsize=6, frameon=False, ncol=2)
  fig.tight_layout()
  return fig


def harmful_finetune_curves(results: dict, group: str = "suite"):
  """Suite (or health / non_health) mean vs harmful fine-tuning updates, per start model."""
  fig, ax = plt.subplots(figsize=(5, 3.2))
  curves = results["harmful_finetune"]
  colors = arm_colors(list(curves))
  for name, curve in curves.items():
    xs = [p["updates"] for p in curve]
    ys = np.array([p[group] for p in curve])  # [stages, S]
    ax.plot(xs, ys.mean(1), marker="o", label=name, color=colors[name])
    ax.fill_between(xs, ys.min(1), ys.max(1), color=colors[name], alpha=0.15)
  ax.set_xlabel("harmful fine-tuning updates")
  ax.set_ylabel(f"{group} mean score")
  ax.legend(frameon=False)
  fig.tight_layout()
  return fig


def pressure_curves(results: dict):
  """Score vs number of pressure turns, per arm and grader (mean over seeds)."""
  fig, ax = plt.subplots(figsize=(5, 3.2))
  for arm, curve in results["pressure"].items():
    for grader, c in curve["curves"].items():
      v = np.asarray(c["per_seed"], float)  # [S, T]
      ax.plot(np.arange(1, v.shape[-1] + 1), np.nanmean(v, 0), label=f"{arm} {grader}")
  ax.set_xlabel("assistant turn under escalating pressure")
  ax.set_ylabel("score (higher is better)")
  ax.legend(fontsize=6, frameon=False)
  fig.tight_layout()
  return fig


def refusal_rates(results: dict):
  """Mean refusal rate per arm, over the suite's evaluations (per-seed spread)."""
  fig, ax = plt.subplots(figsize=(4.5, 3))
  arms = list(results["refusal_rates"])
  per_arm = [np.array(list(results["refusal_rates"][a].values())).mean(0) for a in arms]
  ax.bar(arms, [p.mean() for p in per_arm], yerr=[p.std() for p in per_arm], color="tab:gray")
  ax.set_ylabel("refusal rate")
  fig.tight_layout()
  return fig


def persistence_objectives(results: dict):
  """Per arm: suite mean clean, under harmful personas, and after harmful fine-tuning."""
  from alignment_rl.language import personas as persona_tables

  harmful = set(persona_tables.EVAL_HARMFUL_PERSONA_NAMES)
  clean, attacked = {}, {}
  for r in results["evaluation"]:
    clean.setdefault(r["arm"], []).append(r["mean"])
  for r in results.get("personas", []):
    if r["persona"] in harmful:
      attacked.setdefault(r["arm"], []).append(r["mean"])
  tuned = {
    n: float(np.mean(c[-1]["suite"])) for n, c in results.get("harmful_finetune", {}).items()
  }
  arms = [a for a in clean if a != "prior"]
  fig, ax = plt.subplots(figsize=(7, 3.6))
  x = np.arange(len(arms))
  series = [
    ("clean", [np.nanmean(clean[a]) for a in arms]),
    ("harmful personas", [np.nanmean(attacked[a]) if a in attacked else np.nan for a in arms]),
    ("after harmful fine-tuning", [tuned.get(a, np.nan) for a in arms]),
  ]
  for i, (label, vals) in enumerate(series):
    ax.bar(x + (i - 1) * 0.27, vals, 0.27, label=label)
  ax.set_xticks(x, arms, fontsize=7, rotation=30, ha="right")
  ax.set_ylabel("suite mean score")
  ax.legend(fontsize=7, frameon=False, loc="upper center", bbox_to_anchor=(0.5, 1.16), ncol=3)
  fig.tight_layout()
  return fig
