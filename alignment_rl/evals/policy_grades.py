"""Grades a response policy's single-turn answers on a scenario split.

`grade_policy` samples one response per scenario from each seed's policy (a one-turn
conversation rollout, `envs.conversations.rollout.rollout`) and scores it with
registered graders. Everything runs in one jitted, seed-vmapped program over
fixed-size batches of scenarios, so a 5k-scenario split takes seconds on a CPU.

Every call has `batch_size` rows (a short last batch is padded by wrapping), so one
program per network and graders compiles; padding short batches to powers of two
instead gave the same grades but compiled up to four shapes, and was no faster on the
main job on a quiet machine (44 s vs 40 s for its suite phase; `benchmarks/RESULTS.md`).

Outputs are per (seed, scenario) grades plus each grader's `applies` mask (the
scenarios on which it is defined); `summarize` turns them into per-seed means and
a 95% Student-t interval over seeds (`stats.mean_interval`; the percentile bootstrap
covers about 81% at 4 seeds, docs/statistics.md). A reported rubric mean is clipped
to [0, 1] (the study's HealthBench convention).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from alignment_rl.envs.conversations.rollout import batch_params, rollout, world
from alignment_rl.evals import stats
from alignment_rl.language import schema
from alignment_rl.networks.response_policy import ResponseActorCritic
from alignment_rl.registry import GRADERS


@functools.partial(jax.jit, static_argnums=(0, 4, 5))
def _grade_batch(network, params, scenarios, key, graders, greedy):
  env = world(network.max_response_len, 1)
  fns = [GRADERS.get(g) for g in graders]

  def one_seed(p, k):
    temperature = 1e-4 if greedy else 1.0

    def policy(obs, key):
      context = obs[:, : schema.CONTEXT_LEN]
      actions = network.apply(p, context, key, temperature, method=ResponseActorCritic.sample)
      return actions[0], None

    out = rollout(policy, env, batch_params(scenarios, 1), k[None], fns)
    return out["grades"][0].T, out["actions"][0]

  keys = jax.random.split(key, jax.tree.leaves(params)[0].shape[0])
  return jax.vmap(one_seed)(params, keys)


def grade_policy(
  network: ResponseActorCritic,
  params,
  split: dict,
  graders: tuple[str, ...],
  key: jax.Array,
  batch_size: int = 1024,
  greedy: bool = False,
  context: np.ndarray | None = None,
  applies: bool = True,
) -> dict[str, np.ndarray]:
  """Grades of every seed's responses on every scenario of `split`.

  Args:
    network: the `ResponseActorCritic` module.
    params: its parameters with a leading seed axis [S, ...].
    split: stacked scenario arrays (`alignment_rl.data.load_split`).
    graders: registered grader names.
    key: PRNG key.
    batch_size: scenarios per compiled call (the last batch is padded).
    greedy: argmax responses instead of samples.
    context: optional int32[N, CONTEXT_LEN] contexts replacing `split["context"]`
      (e.g. with a persona written into the slot).
    applies: also return each grader's `applies` mask.

  Returns:
    {grader: float32[S, N] grades, grader + "/applies": bool[N] (if `applies`)}.
  """
  fields = [k for k, f in schema.FIELDS.items() if f.group != "metadata"]
  data = {k: np.asarray(split[k]) for k in fields}
  if context is not None:
    data["context"] = np.asarray(context, np.int32)
    if data["context"].shape[1:] != (schema.CONTEXT_LEN,):
      raise ValueError(f"context must be int32[N, {schema.CONTEXT_LEN}]")
  n = len(data["context"])
  out = {g: [] for g in graders}
  for start in range(0, n, batch_size):
    idx = np.arange(start, start + batch_size) % n  # Pad the last batch by wrapping.
    batch = {k: jnp.asarray(v[idx]) for k, v in data.items()}
    key, sub = jax.random.split(key)
    grades, _ = _grade_batch(network, params, batch, sub, tuple(graders), greedy)
    grades = np.asarray(grades)[:, : min(batch_size, n - start)]
    for j, g in enumerate(graders):
      out[g].append(grades[..., j])
  result = {g: np.concatenate(v, axis=1) for g, v in out.items()}
  for g in graders if applies else ():
    mask = jax.vmap(GRADERS.get(g).applies)({k: jnp.asarray(v) for k, v in data.items()})
    result[g + "/applies"] = np.asarray(mask, bool)
  return result


def summarize(grades: dict[str, np.ndarray]) -> dict[str, dict[str, float]]:
  """Per grader: mean over seeds of the per-seed mean (on applicable scenarios),
  per-seed means, and a 95% Student-t interval over seeds (one seed: the mean)."""
  out = {}
  for g, values in grades.items():
    if g.endswith("/applies"):
      continue
    mask = grades[g + "/applies"]
    if not mask.any():
      continue
    per_seed = values[:, mask].mean(axis=1)
    low, high = stats.mean_interval(per_seed)
    out[g] = {
      "mean": float(per_seed.mean()),
      "ci_low": low,
      "ci_high": high,
      "per_seed": [float(x) for x in per_seed],
      "n": int(mask.sum()),
    }
  return out
