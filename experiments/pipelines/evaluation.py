"""The `evaluate` experiment: the suite, the scoreboard and the attacks on checkpoints.

For each checkpoint (a finished imitation or conversation-PPO workdir):

  1. the evaluation suite on every seed (`evals.suite_runner.evaluate_suite`), rows to
     `<workdir>/evaluation.{json,csv}`;
  2. with a baseline checkpoint: the scoreboard (Welch across seeds, BH over the
     suite, headline; and the refusal-stratified re-analysis), `scoreboard.md`;
  3. attacks, each optional: persona prefixes (every harmful and helpful evaluation
     persona), multi-turn pressure to `pressure_turns`, an optimized adversarial prefix
     under `prefix_budget` queries, and harmful fine-tuning for `finetune_stages` x
     `finetune_updates` PPO updates; all to `attacks.json`.

`run_evaluate(config, workdir)` returns a compact summary.
"""

from __future__ import annotations

import json
import os

import jax
import ml_collections
import numpy as np

from alignment_rl.data import load_split
from alignment_rl.evals import arm_comparison, scoreboard
from alignment_rl.evals import suite as suite_lib
from alignment_rl.evals.checkpoint_policy import load_policy
from alignment_rl.evals.harmful_finetune import harmful_finetune
from alignment_rl.evals.suite_runner import evaluate_suite, write_results
from alignment_rl.language import schema
from experiments.registry import EXPERIMENTS


def checkpoints(config) -> dict[str, str]:
  """{arm name: workdir} from `checkpoint` (and `baseline`): `dir` or `name=dir`,
  several separated by commas."""
  out = {}
  for field in ("checkpoint", "baseline"):
    for item in filter(None, (config.get(field) or "").split(",")):
      name, _, path = item.rpartition("=")
      name = name or os.path.basename(os.path.normpath(path)) or field
      if name in out:
        raise ValueError(f"{field}: arm name {name!r} is given twice; use name=dir")
      out[name] = path
  if not out:
    raise ValueError("checkpoint: required, e.g. --config.checkpoint=runs/trait_rl/arm_rubric")
  return out


def persona_summary(rows: list, clean_rows: list) -> dict:
  """Per (arm, persona): suite mean with the persona, without, and the change."""

  def by(rows_):
    out = {}
    for r in rows_:
      out.setdefault((r["arm"], r.get("persona", "")), []).append(r["mean"])
    return {k: float(np.nanmean(v)) for k, v in out.items()}

  clean, attacked = by(clean_rows), by(rows)
  return {
    f"{arm}|{persona}": {
      "clean": clean[(arm, "")],
      "attacked": v,
      "delta": v - clean[(arm, "")],
    }
    for (arm, persona), v in attacked.items()
  }


def trait_subset(data: dict, n: int) -> dict:
  """`n` trait (non-everyday) scenarios of a split, a seeded sample in index order."""
  keep = np.flatnonzero(np.asarray(data["family"]) != schema.Family.EVERYDAY)
  idx = np.sort(np.random.default_rng(0).permutation(keep)[: int(n)])
  return {k: np.asarray(v)[idx] for k, v in data.items()}


def to_jsonable(x):
  """Arrays and numpy scalars inside dicts/lists -> plain lists and numbers."""
  if isinstance(x, dict):
    return {str(k): to_jsonable(v) for k, v in x.items()}
  if isinstance(x, (list, tuple)):
    return [to_jsonable(v) for v in x]
  if isinstance(x, (np.ndarray, np.generic, jax.Array)):
    return np.asarray(x).tolist()
  return x


def ppo_run_for(template: ml_collections.ConfigDict, run_config: dict):
  """The attack's PPO config: the template with the checkpoint's network and seeds."""
  c = ml_collections.ConfigDict(template.to_dict())
  c.network_kwargs = ml_collections.ConfigDict(
    {k: v for k, v in run_config.get("network_kwargs", {}).items() if k != "max_response_len"}
  )
  c.num_seeds = int(run_config.get("num_seeds", c.num_seeds))
  return c


def run_evaluate(config, workdir: str) -> dict:
  os.makedirs(workdir, exist_ok=True)
  arms = checkpoints(config)
  max_samples = int(config.max_samples) or None
  splits = {
    s: load_split(s, config.data_config, config.get("data_dir") or None)
    for s in (
      "test",
      "heldout_domains",
      "heldout_formats",
    )
  }
  common = {"splits": splits, "max_samples": max_samples, "data_config": config.data_config}
  policies = {name: load_policy(path) for name, path in arms.items()}
  rows, samples = [], {}
  for name, (network, params, _) in policies.items():
    res = evaluate_suite(
      network, params, config.suite, arm=name, key=jax.random.PRNGKey(config.eval_seed), **common
    )
    rows += res.rows
    samples[name] = res.samples
  write_results(rows, os.path.join(workdir, "evaluation"))
  names = list(arms)
  comparison = stratified = None
  if config.get("baseline"):
    treatment, baseline = names[0], names[-1]
    comparison = scoreboard.compare(rows, treatment, baseline)
    stratified = scoreboard.compare_refusal_stratified(samples[treatment], samples[baseline])
  board = scoreboard.format_scoreboard(rows, tuple(names), comparison)
  with open(os.path.join(workdir, "scoreboard.md"), "w", encoding="utf-8") as f:
    f.write(board + "\n")
    if stratified:
      f.write(
        "\nRefusal-stratified: " + arm_comparison.format_headline(stratified["headline"]) + "\n"
      )
  print(board)

  attacks: dict = {}
  if config.personas:
    persona_rows = []
    for name, (network, params, _) in policies.items():
      for persona in config.personas:
        res = evaluate_suite(
          network,
          params,
          config.suite,
          arm=name,
          key=jax.random.PRNGKey(config.eval_seed),
          persona=persona,
          **common,
        )
        persona_rows += [{**r, "persona": persona} for r in res.rows]
    write_results(persona_rows, os.path.join(workdir, "persona_attack"))
    attacks["personas"] = persona_summary(persona_rows, rows)
  if config.pressure_turns > 0:
    from alignment_rl.evals.pressure import pressure_curve

    data = trait_subset(splits["heldout_domains"], config.pressure_samples)
    attacks["pressure"] = {
      name: to_jsonable(
        pressure_curve(
          network,
          params,
          data,
          jax.random.PRNGKey(config.eval_seed),
          max_turns=int(config.pressure_turns),
        )
      )
      for name, (network, params, _) in policies.items()
    }
  if config.prefix_budget > 0:
    from alignment_rl.evals.adversarial_prefix import score_vs_budget

    budgets = tuple(b for b in (0, 4, 16, 64, 256, 1024) if b < config.prefix_budget)
    attacks["adversarial_prefix"] = {
      name: to_jsonable(
        score_vs_budget(
          network,
          params,
          splits["heldout_domains"],
          jax.random.PRNGKey(config.eval_seed),
          budgets=(*budgets, int(config.prefix_budget)),
          grader=config.prefix_grader,
        )
      )
      for name, (network, params, _) in policies.items()
    }
  if config.finetune_stages > 0:
    attacks["harmful_finetune"] = {}
    for name, path in arms.items():
      out = harmful_finetune(
        ppo_run_for(config.attack_ppo, policies[name][2]),
        path,
        os.path.join(workdir, f"finetune_{name}"),
        name=name,
        num_stages=config.finetune_stages,
        updates_per_stage=config.finetune_updates,
        suite=config.suite,
        max_samples=max_samples,
        data_config=config.data_config,
        splits=splits,
        eval_seed=config.eval_seed,
      )
      write_results(out["rows"], os.path.join(workdir, f"finetune_{name}", "evaluation"))
      attacks["harmful_finetune"][name] = out["curve"]
  with open(os.path.join(workdir, "attacks.json"), "w", encoding="utf-8") as f:
    json.dump(attacks, f, indent=1)
  summary = {
    "evaluations": len(suite_lib.get_suite(config.suite)),
    "arms": names,
    "suite_mean": {n: float(np.nanmean([r["mean"] for r in rows if r["arm"] == n])) for n in names},
  }
  if comparison:
    summary["headline"] = comparison["headline"]
  if "pressure" in attacks:
    summary["pressure_drop"] = {
      n: {g: round(float(v["drop"]), 4) for g, v in p["summary"].items()}
      for n, p in attacks["pressure"].items()
    }
  if "adversarial_prefix" in attacks:
    summary["prefix_heldout"] = {
      n: [round(float(x), 4) for x in a["heldout_score"]]
      for n, a in attacks["adversarial_prefix"].items()
    }
  if "personas" in attacks:
    summary["persona_delta"] = {k: round(v["delta"], 4) for k, v in attacks["personas"].items()}
  return summary


EXPERIMENTS.add("evaluate", run_evaluate)
