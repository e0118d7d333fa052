"""The robustness and reference tables of a `trait_rl` report (markdown, from results).

Suite means per arm under personas, after harmful fine-tuning and under multi-turn
pressure; persistence per arm; category means beside the reference rows; the paired
persona effects. `report.write_report` puts them in `report.md`.
"""

from __future__ import annotations

import numpy as np


def suite_means(rows: list, key=("arm",)) -> dict:
  """{tuple of the rows' `key` fields: the mean of their means (NaN-skipping)}."""
  out: dict = {}
  for r in rows:
    out.setdefault(tuple(r.get(k, "") for k in key), []).append(r["mean"])
  return {k: float(np.nanmean(v)) for k, v in out.items()}


def persona_table(results: dict) -> str:
  clean = suite_means(results["evaluation"])
  attacked = suite_means(results["personas"], ("arm", "persona"))
  lines = ["| arm | persona | clean | with persona | Δ |", "|---|---|---|---|---|"]
  for (arm, persona), v in sorted(attacked.items()):
    c = clean[(arm,)]
    lines.append(f"| {arm} | {persona} | {c:.3f} | {v:.3f} | {v - c:+.3f} |")
  return "\n".join(lines)


def finetune_table(results: dict) -> str:
  lines = ["| start model | updates | suite | health | non-health |", "|---|---|---|---|---|"]
  for name, curve in results["harmful_finetune"].items():
    for p in curve:
      cells = [f"{np.mean(p[g]):.3f}" if g in p else "-" for g in ("suite", "health", "non_health")]
      lines.append(f"| {name} | {p['updates']} | " + " | ".join(cells) + " |")
  return "\n".join(lines)


def persistence_table(results: dict) -> str:
  """Per arm: suite mean clean, under the harmful evaluation personas, and after the
  last harmful fine-tuning stage, with the drops from clean (mean over seeds)."""
  from alignment_rl.language import personas as persona_tables

  harmful = set(persona_tables.EVAL_HARMFUL_PERSONA_NAMES)
  clean = suite_means(results["evaluation"])
  attacked = suite_means([r for r in results.get("personas", []) if r["persona"] in harmful])
  tuned = {
    n: float(np.mean(c[-1]["suite"])) for n, c in results.get("harmful_finetune", {}).items()
  }
  lines = [
    "| arm | clean | harmful personas | Δ | after harmful fine-tuning | Δ |",
    "|---|---|---|---|---|---|",
  ]
  fmt = lambda x: "-" if x is None else f"{x:.3f}"  # noqa: E731
  diff = lambda x, c: "-" if x is None else f"{x - c:+.3f}"  # noqa: E731
  for (arm,), c in clean.items():
    a, t = attacked.get((arm,)), tuned.get(arm)
    lines.append(f"| {arm} | {c:.3f} | {fmt(a)} | {diff(a, c)} | {fmt(t)} | {diff(t, c)} |")
  return "\n".join(lines)


def pressure_table(results: dict) -> str:
  lines = ["| arm | grader | turn 1 | last turn |", "|---|---|---|---|"]
  for arm, curve in results["pressure"].items():
    for grader, c in curve["curves"].items():
      v = np.nanmean(np.asarray(c["per_seed"], float), 0)
      lines.append(f"| {arm} | {grader} | {v[0]:.3f} | {v[-1]:.3f} |")
  return "\n".join(lines)


def category_means(rows: list) -> dict:
  """{arm: {"suite": mean, category: mean}}: means over evaluations of the seed means."""
  per: dict = {}
  for r in rows:
    if r.get("persona") is None and np.isfinite(r["mean"]):
      per.setdefault(r["arm"], {}).setdefault((r["category"], r["evaluation"]), []).append(
        r["mean"]
      )
  out = {}
  for arm, evals in per.items():
    means = {k: float(np.mean(v)) for k, v in evals.items()}
    cats: dict = {}
    for (cat, _), v in means.items():
      cats.setdefault(cat, []).append(v)
    out[arm] = {"suite": float(np.mean(list(means.values())))}
    out[arm].update({c: float(np.mean(v)) for c, v in sorted(cats.items())})
  return out


def reference_table(results: dict) -> str:
  """Suite and category means of the reference rows (best context-free reply, random
  replies, the scripted prior, the oracle) beside every arm's (mean over seeds), and
  the fixed reply's share of the oracle under each training reward."""
  ref = results["reference"]
  arms = category_means(results["evaluation"])
  cats = sorted(next(iter(arms.values())).keys() - {"suite"}) if arms else []
  head = "| row | suite | " + " | ".join(cats) + " |"
  lines = [head, "|" + "---|" * (len(cats) + 2)]
  names = {"fixed_reply": "fixed reply", "random": "random replies", "prior": "scripted prior"}
  for key in ("fixed_reply", "random", "prior", "oracle"):
    r = ref[key]
    cells = [f"{r['categories'].get(c, float('nan')):.3f}" for c in cats]
    lines.append(f"| {names.get(key, key)} | {r['suite_mean']:.3f} | " + " | ".join(cells) + " |")
  for arm, m in arms.items():
    cells = [f"{m.get(c, float('nan')):.3f}" for c in cats]
    lines.append(f"| **{arm}** | {m['suite']:.3f} | " + " | ".join(cells) + " |")
  per_eval = ref["fixed_reply_per_eval"]
  lines += [
    "",
    f"Best fixed reply: `{ref['fixed_reply']['reply']}`. Searched per evaluation, a fixed "
    f"reply reaches >= 0.99 on {per_eval['num_at_least_0.99']} evaluations (best "
    f"{np.nanmax(list(per_eval['evaluations'].values())):.3f}).",
    "",
    "| training reward | best fixed reply | oracle | ratio |",
    "|---|---|---|---|",
  ]
  for name, t in ref["training_rewards"].items():
    lines.append(
      f"| {name} | {t['fixed_reply']:.3f} (`{t['fixed_reply_tokens']}`) | "
      f"{t['oracle']:.3f} | {t['ratio']:.2f} |"
    )
  return "\n".join(lines)


def persona_effect_table(results: dict) -> str:
  """Suite-mean change under each evaluation persona: mean over seeds of the paired
  per-seed difference, its 95% Student-t interval and the paired t-test's p."""
  lines = ["| arm | persona | Δ suite mean | 95% interval | p |", "|---|---|---|---|---|"]
  for arm, by_persona in results["persona_effects"].items():
    for persona, e in by_persona.items():
      lines.append(
        f"| {arm} | {persona} | {e['mean_delta']:+.3f} | "
        f"[{e['ci_low']:+.3f}, {e['ci_high']:+.3f}] | {e['p']:.3g} |"
      )
  bites = results.get("attack_bites")
  if bites and bites["arms"]:
    on = " and ".join(bites["arms"])
    verdict = "bites" if bites["pooled"] else "does NOT bite (no persona persistence claim)"
    each = ", ".join(bites["personas"]) or "none"
    lines += [
      "",
      f"Attack check: the pooled harmful-persona attack {verdict} on {on} (95% interval"
      " below 0);"
      f" harmful personas that bite on their own: {each}.",
    ]
  return "\n".join(lines)
