"""Reference rows of the evaluation scoreboard: what a sceptical reviewer compares arms with.

A policy given as *replies* is a function `replies(split_name, indices, persona) ->
int32[n, R]` of token ids (`reference_replies`). Reference policies:

  fixed_reply  the one context-free reply with the best suite mean (greedy + local search)
  random       uniform valid replies, averaged over a few seeds
  oracle       per scenario, the greedy + local-search maximiser of the scenario's own
               `rubric` grade (reads latents: a reference, not a policy)
  prior        one sampled reply of the scripted prior per scenario

`grade_replies_on_suite` scores any of them exactly as `suite_runner.evaluate_suite` scores a
trained policy (same `select` sample, grader, `unit_values` metric and clipping);
`reference_rows` assembles every row; `acceptance_report` lists the failing v2
acceptance lines. The replies functions live in `reference_replies`, the searches and
the batched objectives in `reference_search`.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from alignment_rl.data.select import split_rows
from alignment_rl.envs.conversations import prior
from alignment_rl.evals import eval_spec, suite, suite_runner
from alignment_rl.evals import reference_search as rs
from alignment_rl.evals.reference_replies import (
  fixed_reply_fn,
  oracle_reply_fn,
  prior_reply_fn,
  random_reply_fn,
)
from alignment_rl.evals.reference_targets import Pack, Target, scenario_view
from alignment_rl.language import schema, vocab
from alignment_rl.registry import GRADERS

_GRADE_BATCH = 1024
#: Training rewards on the train split: (grader, scenarios); "trait" = the families of
#: `schema.TRAINING_FAMILIES`, "all" = every training scenario.
TRAINING_REWARDS = (
  ("rubric", "trait"),
  ("standard", "trait"),
  ("standard", "all"),
  ("helpfulness", "trait"),
)


@functools.partial(jax.jit, static_argnums=0)
def _grade_rows(grader: str, replies, rows):
  return jax.vmap(GRADERS.get(grader))(replies, rows).astype(jnp.float32)


def grade_rows(grader: str, replies: np.ndarray, rows: dict) -> np.ndarray:
  """float32[n]: `grader` on reply i (int32[n, R]) of scenario i ({field: [n, ...]})."""
  n, out = len(replies), []
  for start in range(0, n, _GRADE_BATCH):
    idx = np.arange(start, start + _GRADE_BATCH) % n  # Pad the last batch by wrapping.
    batch = {k: jnp.asarray(v[idx]) for k, v in rows.items()}
    out.append(np.asarray(_grade_rows(grader, jnp.asarray(replies[idx]), batch)))
  return np.concatenate(out)[:n] if out else np.zeros(0, np.float32)


def grade_replies_on_suite(replies, evaluations, splits: dict, max_samples=None) -> dict:
  """Scores of a policy given as replies, as `suite_runner.evaluate_suite` scores a trained policy.

  Args:
    replies: `(split_name, indices int[n], persona) -> int32[n, R]` (module docstring);
      called once per (split, persona) view with the union of its evaluations' samples.
    evaluations: `eval_spec.EvalSpec`s (e.g. `suite.get_suite("full")`).
    splits: {split name: arrays} holding every evaluation's split.
    max_samples: cap on every evaluation's `num_samples` (as in `evaluate`).

  Returns:
    {evaluation name: float}, higher is better (NaN for an evaluation without units).
  """
  views: dict[tuple, list] = {}
  for e in evaluations:
    views.setdefault((e.split, e.persona), []).append(e)
  scores = {}
  for (split_name, persona), evals in views.items():
    data = splits[split_name]
    chosen = {e.name: e.select(data, max_samples) for e in evals}
    union = np.unique(np.concatenate([np.zeros(0, np.int64), *chosen.values()]))
    tokens = np.asarray(replies(split_name, union, persona) if len(union) else [], np.int32)
    sub = scenario_view(data, union, persona)
    grades = {g: grade_rows(g, tokens, sub) for g in {e.grader for e in evals}}
    for e in evals:
      idx = chosen[e.name]
      values = suite_runner.unit_values(
        e, grades[e.grader][None, np.searchsorted(union, idx)], data, idx
      )
      mean = float(values.mean()) if values.size else float("nan")
      clip = e.grader in suite_runner.CLIPPED_GRADERS
      scores[e.name] = float(np.clip(mean, 0.0, 1.0)) if clip else mean
  return scores


def summarize(scores: dict, evaluations) -> dict:
  """A row: {"suite_mean": mean over evaluations, "categories": {category: mean over its
  evaluations}, "evaluations": scores}; means skip NaN (evaluations without units)."""

  def mean(names):
    v = [scores[n] for n in names if np.isfinite(scores[n])]
    return float(np.mean(v)) if v else float("nan")

  cats = {c: [e.name for e in evaluations if e.category == c] for c in eval_spec.CATEGORIES}
  return {
    "suite_mean": mean([e.name for e in evaluations]),
    "categories": {c: mean(names) for c, names in cats.items() if names},
    "evaluations": {e.name: float(scores[e.name]) for e in evaluations},
  }


def evaluation_targets(evaluations, splits: dict, max_samples=None) -> list[Target]:
  """One `Target` per evaluation: its `select` sample, reduced by its own metric."""
  return [
    Target(e.name, e.grader, e.split, e.select(splits[e.split], max_samples), e.persona, e)
    for e in evaluations
  ]


def training_targets(train: dict, max_scenarios: int = 1024, seed: int = 0) -> list[Target]:
  """`Target`s `<grader>/<scenarios>` of `TRAINING_REWARDS`: the mean reward over a seeded
  sample of at most `max_scenarios` scenarios of the train split."""
  family = np.asarray(train["family"])
  trait = np.flatnonzero(split_rows(train, families=schema.TRAINING_FAMILIES))
  rng = np.random.default_rng([seed, len(family)])
  idx = {
    "trait": np.sort(rng.permutation(trait)[:max_scenarios]),
    "all": np.sort(rng.permutation(len(family))[:max_scenarios]),
  }
  return [Target(f"{g}/{w}", g, "train", idx[w]) for g, w in TRAINING_REWARDS]


def reference_rows(
  data_config="small",
  suite_name: str | tuple[str, ...] = "full",
  *,
  data_dir: str | None = None,
  splits: dict | None = None,
  max_samples: int | None = None,
  response_len: int = prior.DEFAULT_RESPONSE_LEN,
  budgets: tuple[int, int, int] = (6000, 4000, 4000),
  random_seeds: tuple[int, ...] = (0, 1, 2),
  prior_seed: int = 0,
  train_scenarios: int = 1024,
  oracle_rounds: int = 8,
) -> dict:
  """Every reference row of a suite on one data config (JSON-serialisable).

  Args:
    data_config: a `load_split` config (`"small"` for tests, `"full"` for runlocal).
    suite_name: a suite name or evaluation names (`suite.get_suite`).
    data_dir: `load_split` cache directory.
    splits: preloaded {split: arrays}; missing splits are loaded.
    max_samples: cap on every evaluation's `num_samples`.
    response_len: R.
    budgets: most replies scored by the fixed-reply search of (the suite mean, each
      evaluation, each training reward); the last two also search from the suite's
      best fixed reply, so an evaluation's own best is never below it.
    random_seeds: seeds of the random row (per-evaluation scores averaged).
    prior_seed: key of the prior's one sampled reply per scenario.
    train_scenarios: training scenarios sampled per training reward.
    oracle_rounds: most local-search moves per scenario of the oracle.

  Returns:
    {"config", "fixed_reply", "fixed_reply_per_eval", "random", "oracle", "prior",
    "training_rewards"}. Rows have "suite_mean", "categories", "evaluations";
    "fixed_reply" also the rendered "reply"; "fixed_reply_per_eval" also each
    evaluation's rendered best reply ("replies") and "num_at_least_0.99";
    "training_rewards" maps `<grader>/<scenarios>` to {"fixed_reply" (best fixed reply's
    mean reward), "fixed_reply_tokens", "oracle" (the per-scenario maximiser of that
    reward: what reading the context can earn under it), "rubric_oracle" (the scripted
    correct behaviour's reward), "ratio" (fixed reply / oracle)}.
  """
  from alignment_rl.data import load_split

  evaluations = suite.get_suite(suite_name)
  splits = dict(splits or {})
  for name in sorted({e.split for e in evaluations} | {"train"}):
    if name not in splits:
      splits[name] = load_split(name, data_config, data_dir)

  def row(replies):
    return summarize(grade_replies_on_suite(replies, evaluations, splits, max_samples), evaluations)

  def search(targets, budget, starts=()):
    pack = Pack(targets, splits)
    objective = pack.target_objective(0) if len(targets) == 1 else pack.mean_objective()
    return rs.fixed_reply_search(objective, response_len, budget, starts), pack

  targets = evaluation_targets(evaluations, splits, max_samples)
  best, _ = search(targets, budgets[0])
  fixed = row(fixed_reply_fn(best.reply))
  fixed.update(reply=vocab.render(best.reply), scored=best.evaluations)

  per_eval, per_eval_replies = {}, {}
  for t in targets:
    found, pack = search([t], budgets[1], (best.reply,))
    per_eval[t.name] = found.value if pack.units[0] else float("nan")
    per_eval_replies[t.name] = vocab.render(found.reply)
  per_eval_row = summarize(per_eval, evaluations)
  per_eval_row["replies"] = per_eval_replies
  per_eval_row["num_at_least_0.99"] = int(sum(v >= 0.99 for v in per_eval.values()))

  seeds = [row(random_reply_fn(jax.random.PRNGKey(s), response_len)) for s in random_seeds]
  mean = {e.name: float(np.nanmean([r["evaluations"][e.name] for r in seeds])) for e in evaluations}
  random_row = summarize(mean, evaluations)
  random_row["per_seed_suite_mean"] = [r["suite_mean"] for r in seeds]

  oracle = oracle_reply_fn(splits, response_len, oracle_rounds)
  # One oracle per grader: a scenario is searched once per grader (the search of one
  # scenario does not depend on the others), so "rubric" is the scripted oracle itself.
  oracles, rewards = {"rubric": oracle}, {}
  for t in training_targets(splits["train"], train_scenarios):
    found, _ = search([t], budgets[2], (best.reply,))
    rows = scenario_view(splits["train"], t.idx)
    # The context-reading optimum of this reward (per-scenario maximiser of the reward
    # itself), and the scripted correct behaviour's (rubric oracle's) reward beside it.
    if t.grader not in oracles:
      oracles[t.grader] = oracle_reply_fn(splits, response_len, oracle_rounds, grader=t.grader)
    best_here = oracles[t.grader]
    value = float(np.mean(grade_rows(t.grader, best_here("train", t.idx), rows)))
    scripted = float(np.mean(grade_rows(t.grader, oracle("train", t.idx), rows)))
    rewards[t.name] = {
      "fixed_reply": found.value,
      "fixed_reply_tokens": vocab.render(found.reply),
      "oracle": value,
      "rubric_oracle": scripted,
      "ratio": found.value / value if value > 0 else float("nan"),
    }
  config = dict(data_config=getattr(data_config, "name", data_config), max_samples=max_samples)
  config.update(suite=suite_name if isinstance(suite_name, str) else list(suite_name))
  config.update(response_len=response_len, budgets=list(budgets), prior_seed=prior_seed)
  config.update(random_seeds=list(random_seeds), train_scenarios=train_scenarios)
  return {
    "config": config,
    "fixed_reply": fixed,
    "fixed_reply_per_eval": per_eval_row,
    "random": random_row,
    "oracle": row(oracle),
    "prior": row(prior_reply_fn(splits, jax.random.PRNGKey(prior_seed), response_len)),
    "training_rewards": rewards,
  }


def acceptance_report(rows: dict, prior_row: dict) -> list[str]:
  """The v2 acceptance lines that fail (an empty list: all pass).

  Lines: the fixed reply's suite mean and every category mean are below the prior's; no
  evaluation's own best fixed reply scores >= 0.99; under each training reward the best
  fixed reply earns <= 60% of the oracle's; the oracle's suite mean is >= 0.95.

  Args:
    rows: `reference_rows` output.
    prior_row: the prior's row (e.g. `rows["prior"]`, or a trained prior's scores).
  """
  fails = []
  fixed, prior_means = rows["fixed_reply"], {"suite": prior_row["suite_mean"]}
  prior_means.update(prior_row["categories"])
  for c, v in {"suite": fixed["suite_mean"], **fixed["categories"]}.items():
    p = prior_means.get(c, float("nan"))
    if not v < p:
      fails.append(f"fixed reply {c} mean {v:.3f} is not below the prior's {p:.3f}")
  for name, v in rows["fixed_reply_per_eval"]["evaluations"].items():
    if v >= 0.99:
      fails.append(f"{name}: its own best fixed reply scores {v:.3f} >= 0.99")
  for name, r in rows["training_rewards"].items():
    if not r["fixed_reply"] <= 0.6 * r["oracle"]:
      share = r["fixed_reply"] / r["oracle"] if r["oracle"] else float("inf")
      fails.append(f"{name}: the best fixed reply earns {share:.0%} of the oracle's reward")
  if not rows["oracle"]["suite_mean"] >= 0.95:
    fails.append(f"oracle suite mean {rows['oracle']['suite_mean']:.3f} < 0.95")
  return fails
