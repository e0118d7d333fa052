"""Figures from logged results only (`results.json` of an experiment); no training.

Every function takes the loaded results dict (or a list of them for sweeps) and
returns a matplotlib `Figure`. `FIGURES` maps a figure name to (the experiments whose
results it can draw, the function); `experiments/figures.py`, the report of
`trait_rl` and the notebooks all draw with these functions.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from alignment_rl.evals import scoreboard

_ARM_COLORS = ("tab:gray", "tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple")


def _colors(names):
  return {n: _ARM_COLORS[i % len(_ARM_COLORS)] for i, n in enumerate(names)}


def learning_curves(results: dict):
  """Reward per step vs PPO update, one line per arm (mean over seeds)."""
  fig, ax = plt.subplots(figsize=(5, 3.2))
  curves = results["learning_curves"]
  colors = _colors(["prior", *curves])
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
  ax.bar(names, means, color=[_colors(names)[n] for n in names])
  for i, s in enumerate(sig):
    ax.text(i, means[i], f"{s} sig.", ha="center", va="bottom", fontsize=8)
  ax.axhline(0, color="black", lw=0.5)
  ax.set_ylabel(f"mean Δ vs {results['baseline']}")
  fig.tight_layout()
  return fig


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
  colors = _colors(list(curves))
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


def reference_rows(results: dict):
  """Suite and category means of every arm (mean over seeds) between the reference
  rows: the best context-free reply, random replies, the scripted prior, the oracle."""
  from experiments.pipelines.report import category_means

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
  colors = _colors(list(arms))
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


#: figure name -> (experiments whose results it draws, function). Sweep figures take a list.
FIGURES = {
  "learning_curves": (("trait_rl_vs_baseline",), learning_curves),
  "reference_rows": (("trait_rl_vs_baseline",), reference_rows),
  "scoreboard": (("trait_rl_vs_baseline",), scoreboard_deltas),
  "health_only_transfer": (("health_only_transfer",), health_transfer),
  "no_health_science": (("no_health_science",), health_without_health_data),
  "generic_helpfulness_control": (("generic_helpfulness_control",), control_comparison),
  "persona_persistence": (("persona_persistence", "trait_rl_vs_baseline"), persona_persistence),
  "harmful_finetune": (("harmful_finetune", "trait_rl_vs_baseline"), harmful_finetune_curves),
  "long_interaction_pressure": (("long_interaction_pressure",), pressure_curves),
  "emergent_misalignment": (("emergent_misalignment",), scoreboard_deltas),
  "surface_overlap_sweep": (("surface_overlap_sweep",), overlap_sweep),
  "refusal_side_effects": (("refusal_side_effects", "trait_rl_vs_baseline"), refusal_rates),
  "gridworlds_baselines": (("gridworlds_baselines",), gridworld_returns),
  "persistence_objectives": (("persistence_objectives",), persistence_objectives),
}
SWEEP_FIGURES = ("surface_overlap_sweep",)
#: figure name -> the results key it needs (default "evaluation").
REQUIRES = {
  "learning_curves": "learning_curves",
  "reference_rows": "reference",
  "persona_persistence": "personas",
  "harmful_finetune": "harmful_finetune",
  "long_interaction_pressure": "pressure",
  "refusal_side_effects": "refusal_rates",
  "gridworlds_baselines": "rows",
}


def scoreboard_table(results: dict) -> str:
  """The markdown scoreboard of the results' treatment against its baseline."""
  arms = tuple(dict.fromkeys(r["arm"] for r in results["evaluation"]))
  comp = results["comparisons"][results["treatment"]]["all"]
  return scoreboard.format_scoreboard(results["evaluation"], arms, comp)
