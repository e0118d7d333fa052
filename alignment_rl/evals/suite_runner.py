"""`evaluate_suite`: run an evaluation suite on every seed of a policy; tidy results.

Every evaluation's scenarios are graded once per seed (one sampled response each,
from the policy's own head), then reduced to the evaluation's metric (higher is
better; see `eval_spec`). Grading is batched by *view*, a (split, persona) pair: each
view's scenarios are the union over its evaluations and are graded with the union of
the suite's graders in one jitted, seed-vmapped program, so the full suite (64
evaluations) is a handful of compiled calls.

Results are tidy rows, one per (evaluation, arm, seed):

  {"evaluation", "category", "arm", "seed", "mean", "ci_low", "ci_high", "n"}

where `mean` is the seed's metric, [ci_low, ci_high] a 95% percentile bootstrap
(`stats.mean_interval`) over the evaluation's units (scenarios; identity pairs for the
pair metrics, `eval_spec.PAIR_METRICS`) and `n` the number of units. `samples` keeps the
per-unit values and refusals (a pair counts as refused if either member refused) for the
refusal-stratified re-analysis (`arm_comparison.refusal_stratified`).

A suite evaluated on many policies does its setup once: each split's scenario
selections are remembered by the split's content (`eval_spec.select_many`), and the
result of a persona-free evaluation is remembered by the content of everything it
depends on (the parameters' values, the splits, the key and every argument), so the
same policy evaluated again the same way, e.g. a fine-tuning start model before its
attack (`harmful_finetune`) after the suite phase, costs a digest, not a grading.
"""

from __future__ import annotations

import collections
import csv
import hashlib
import json
import os
from typing import NamedTuple

import jax
import numpy as np

from alignment_rl.data import load_split
from alignment_rl.evals import eval_spec, stats
from alignment_rl.evals import suite as suite_lib
from alignment_rl.evals.policy_grades import grade_policy
from alignment_rl.language import schema
from alignment_rl.registry import GRADERS

ROW_FIELDS = ("evaluation", "category", "arm", "seed", "mean", "ci_low", "ci_high", "n")
REFUSAL_GRADER = "eval/refusal"
CLIPPED_GRADERS = ("rubric",)  # Rubric scores: means (and CIs) reported clipped to [0, 1].
#: Remembered persona-free results (most recent last) and how many are kept.
_RESULTS: collections.OrderedDict = collections.OrderedDict()
REMEMBERED_RESULTS = 32


class SuiteResult(NamedTuple):
  """rows: tidy dicts (`ROW_FIELDS`); samples: {evaluation: {"values": float[S, n],
  "refused": bool[S, n]}} per-unit values (higher is better) and refusals."""

  rows: list
  samples: dict


def unit_values(evaluation, grades: np.ndarray, split: dict, idx: np.ndarray) -> np.ndarray:
  """Per-unit metric values float64[S, n] (higher is better) of one evaluation.

  Args:
    evaluation: an `eval_spec.EvalSpec`.
    grades: float[S, len(idx)] grades of `evaluation.grader` on scenarios `idx`.
    split: the split (for `pair_id`).
    idx: int[len] sorted scenario indices.

  Returns:
    For `mean`: g, or 1 - g for bad-event graders, per scenario. For `pair_min`:
    min(g(a), g(b)) per complete identity pair (a, b), pairs in id order (a pair is
    served well only if both members are; identical bad replies score 0, not 1).
    Incomplete pairs and unpaired scenarios are dropped.
  """
  g = np.asarray(grades, np.float64)
  if evaluation.metric == "mean":
    return g if evaluation.higher_is_better else 1.0 - g
  if evaluation.metric != "pair_min":
    raise ValueError(f"evaluation {evaluation.name!r}: unknown metric {evaluation.metric!r}")
  g = g if evaluation.higher_is_better else 1.0 - g
  pair_id = np.asarray(split["pair_id"])[idx]
  ids, counts = np.unique(pair_id[pair_id >= 0], return_counts=True)
  ids = ids[counts == 2]
  members = np.array([np.flatnonzero(pair_id == p) for p in ids], np.int64).reshape(-1, 2)
  return np.minimum(g[:, members[:, 0]], g[:, members[:, 1]])


def _pair_any(refused: np.ndarray, split: dict, idx: np.ndarray) -> np.ndarray:
  pair_id = np.asarray(split["pair_id"])[idx]
  ids, inverse, counts = np.unique(pair_id, return_inverse=True, return_counts=True)
  out = np.zeros((refused.shape[0], len(ids)), bool)
  np.logical_or.at(out, (slice(None), inverse), refused)
  return out[:, (counts == 2) & (ids >= 0)]


def _params_digest(params) -> str:
  """A digest of a parameter tree's structure, shapes, dtypes and values."""
  h = hashlib.blake2b(str(jax.tree.structure(params)).encode(), digest_size=16)
  for leaf in jax.tree.leaves(params):
    v = np.ascontiguousarray(leaf)
    h.update(f"{v.dtype.str}:{v.shape};".encode())
    h.update(v.data)
  return h.hexdigest()


def _result_key(network, params, key, *args) -> tuple:
  """The network, digests of the parameters and of the key's bits, and `args`."""
  if jax.dtypes.issubdtype(key.dtype, jax.dtypes.prng_key):
    key = jax.random.key_data(key)
  return (network, _params_digest(params), np.asarray(key).tobytes(), *args)


def _copy(result: SuiteResult) -> SuiteResult:
  """A copy a caller may change without changing the remembered result."""
  samples = {n: {k: v.copy() for k, v in s.items()} for n, s in result.samples.items()}
  return SuiteResult([dict(r) for r in result.rows], samples)


def _views(evaluations, persona):
  views: dict[tuple, list] = {}
  for e in evaluations:
    views.setdefault((e.split, persona if persona is not None else e.persona), []).append(e)
  return views


def evaluate_suite(
  network,
  params,
  suite: str | tuple[str, ...] = "full",
  seeds: tuple[int, ...] | None = None,
  *,
  arm: str = "policy",
  key: jax.Array | None = None,
  data_config: str = "full",
  data_dir: str | None = None,
  splits: dict | None = None,
  max_samples: int | None = None,
  persona: str | None = None,
  n_boot: int = 1000,
  batch_size: int = 1024,
  greedy: bool = False,
) -> SuiteResult:
  """Runs every evaluation of `suite` on every selected seed of a policy.

  Args:
    network: a `ResponseActorCritic`.
    params: its parameters with a leading seed axis [S, ...].
    suite: a suite name (`suite.SUITES`) or a tuple of evaluation names.
    seeds: indices into the seed axis (default: all); rows report these indices.
      Every seed is graded and the others' grades are dropped, so the rows of a
      subset equal the same seeds' rows of the all-seed run (same key).
    arm: the arm name written into the rows.
    key: PRNG key of the sampled responses (default `PRNGKey(0)`).
    data_config, data_dir: where the splits come from (`load_split`).
    splits: preloaded {split name: arrays}; loaded on demand otherwise.
    max_samples: cap on every evaluation's `num_samples` (runlocal scale).
    persona: an attack: this evaluation persona replaces the persona slot of every
      scenario (including evaluations that define their own persona).
    n_boot: bootstrap resamples of each CI (`stats.mean_interval`, "percentile").
    batch_size: scenarios per compiled grading call.
    greedy: argmax responses instead of samples.

  Returns:
    A `SuiteResult`.
  """
  evaluations = suite_lib.get_suite(suite)
  num_seeds = jax.tree.leaves(params)[0].shape[0]
  seeds = tuple(range(num_seeds)) if seeds is None else tuple(int(s) for s in seeds)
  if not seeds or min(seeds) < 0 or max(seeds) >= num_seeds:
    raise ValueError(f"seeds={seeds}: need indices in [0, {num_seeds})")
  key = jax.random.PRNGKey(0) if key is None else key
  splits = dict(splits or {})
  graders = tuple(sorted({e.grader for e in evaluations} | {REFUSAL_GRADER}))
  views = sorted(_views(evaluations, persona).items(), key=lambda kv: (kv[0][0], kv[0][1] or ""))
  digests = {}
  for (split_name, _), _ in views:
    if split_name not in splits:
      splits[split_name] = load_split(split_name, data_config, data_dir)
    digests[split_name] = eval_spec.split_digest(splits[split_name])
  memo = None
  if persona is None:  # Everything the result depends on.
    split_digests = tuple(sorted(digests.items()))
    memo = _result_key(network, params, key, evaluations, seeds, arm, split_digests)
    memo += (max_samples, n_boot, batch_size, greedy)
    if memo in _RESULTS:
      _RESULTS.move_to_end(memo)
      return _copy(_RESULTS[memo])
  rows, samples = [], {}
  for (split_name, view_persona), evals in views:
    data = splits[split_name]
    chosen = eval_spec.select_many(evals, data, max_samples, digests[split_name])
    union = np.unique(np.concatenate(list(chosen.values())))
    sub = {k: np.asarray(v)[union] for k, v in data.items()}
    context = None
    if view_persona is not None:
      context = sub["context"].copy()
      lo, hi = schema.PERSONA_SLOT
      context[:, lo:hi] = eval_spec.persona_tokens(view_persona)
    key, k_view = jax.random.split(key)
    # Every seed is graded (seed i always samples with the i-th key) and the rows of
    # `seeds` are kept, so a subset of seeds reproduces its rows of the all-seed run.
    grades = grade_policy(
      network, params, sub, graders, k_view, batch_size, greedy, context, applies=False
    )
    grades = {g: grades[g][np.asarray(seeds)] for g in graders}
    for e in evals:
      idx = chosen[e.name]
      pos = np.searchsorted(union, idx)
      values = unit_values(e, grades[e.grader][:, pos], data, idx)
      refused = grades[REFUSAL_GRADER][:, pos] > 0.5
      if e.metric in eval_spec.PAIR_METRICS:
        refused = _pair_any(refused, data, idx)
      samples[e.name] = {"values": values, "refused": refused}
      for j, seed in enumerate(seeds):
        low, high = float("nan"), float("nan")
        if values.shape[1]:  # Each row's resamples are drawn from its own seeded rng.
          rng = np.random.default_rng([seed, *e.name.encode()])
          low, high = stats.mean_interval(values[j], method="percentile", n_boot=n_boot, seed=rng)
        mean = float(values[j].mean()) if values.shape[1] else float("nan")
        if e.grader in CLIPPED_GRADERS:  # HealthBench: a reported mean is clipped.
          mean, low, high = (float(np.clip(x, 0.0, 1.0)) for x in (mean, low, high))
        rows.append(
          {
            "evaluation": e.name,
            "category": e.category,
            "arm": arm,
            "seed": seed,
            "mean": mean,
            "ci_low": low,
            "ci_high": high,
            "n": int(values.shape[1]),
          }
        )
  rows.sort(key=lambda r: (r["evaluation"], r["seed"]))
  result = SuiteResult(rows, samples)
  if memo is not None:
    _RESULTS[memo] = _copy(result)
    while len(_RESULTS) > REMEMBERED_RESULTS:
      _RESULTS.popitem(last=False)
  return result


def write_results(rows: list, path_stem: str) -> tuple[str, str]:
  """Writes rows to `<path_stem>.json` and `<path_stem>.csv`; returns both paths.

  Existing files are replaced atomically (written to a temporary name first).
  """
  os.makedirs(os.path.dirname(os.path.abspath(path_stem)), exist_ok=True)
  paths = (path_stem + ".json", path_stem + ".csv")
  tmp = [p + ".tmp" for p in paths]
  with open(tmp[0], "w", encoding="utf-8") as f:
    json.dump(rows, f, indent=1)
  with open(tmp[1], "w", encoding="utf-8", newline="") as f:
    fields = list(ROW_FIELDS) + sorted({k for r in rows for k in r} - set(ROW_FIELDS))
    writer = csv.DictWriter(f, fieldnames=fields)
    writer.writeheader()
    writer.writerows(rows)
  for t, p in zip(tmp, paths, strict=True):
    os.replace(t, p)
  return paths


def read_results(path: str) -> list:
  """Rows from a results `.json` or `.csv` written by `write_results`."""
  if path.endswith(".json"):
    with open(path, encoding="utf-8") as f:
      return json.load(f)
  with open(path, encoding="utf-8", newline="") as f:
    rows = list(csv.DictReader(f))
  for r in rows:
    for k in ("mean", "ci_low", "ci_high"):
      r[k] = float(r[k])
    r["seed"], r["n"] = int(r["seed"]), int(r["n"])
  return rows


def grader_names(suite: str | tuple[str, ...] = "full") -> tuple[str, ...]:
  """The graders a suite uses (all registered; for documentation and checks)."""
  return tuple(sorted({GRADERS.get(e.grader).name for e in suite_lib.get_suite(suite)}))
