"""Negative-control rewards: trait data whose rubrics no longer belong to its scenarios.

A real trait effect comes from *what* the rubric rewards in *this* conversation. The
controls keep the trait data's observations and the amount of rubric reward, and
break that link (v2 world, DESIGN section 4 "Controls"):

  shuffle_within_family   each trait scenario is graded with the rubric *and the
                          hidden facts* (every `latent` and `rubric` field of
                          `schema.FIELDS`) of another trait scenario of the same
                          family: the reward asks for the right kind of behaviour
                          for the wrong facts (another answer, another intent, ...)
  shuffle_across_families the same with a scenario of any trait family
  random_sign             each criterion's points keep their size and take a random
                          sign, fixed per (scenario, criterion)

Only the trait pool (the scenarios whose `grader_index` is 0 and whose weight is
positive) is touched; the standard mixture is the same in every arm. Because the
predicates read the moved latents, the control really rewards the wrong thing; the
user model of a multi-turn episode reads them too (it follows the grader's facts).
Permutations and signs are drawn from `np.random.default_rng([seed, CONTROL_IDS[c]])`,
so a control is a deterministic function of the split, the pool and the seed.
"""

from __future__ import annotations

import numpy as np

from alignment_rl.envs.conversations import schema

CONTROLS: tuple[str, ...] = (
  "none",
  "shuffle_within_family",
  "shuffle_across_families",
  "random_sign",
)
CONTROL_IDS = {name: i for i, name in enumerate(CONTROLS)}
#: Fields that move with the rubric: what the graders read besides the response.
GRADED_FIELDS: tuple[str, ...] = tuple(
  k for k, f in schema.FIELDS.items() if f.group in ("latent", "rubric")
)


def check_control(control: str) -> str:
  """`control` if it is known, else a one-line ValueError listing the known ones."""
  if control not in CONTROL_IDS:
    raise ValueError(f"unknown rubric_control {control!r}; known: {', '.join(CONTROLS)}")
  return control


def _shuffle_groups(rng, pool: np.ndarray, groups: np.ndarray) -> np.ndarray:
  """source[i]: the row whose graded fields row i takes; a random cyclic shift within
  each group of `pool` rows (so no pooled row keeps its own), identity elsewhere."""
  source = np.arange(len(pool))
  for g in np.unique(groups[pool]):
    rows = np.flatnonzero(pool & (groups == g))
    if len(rows) < 2:
      continue
    order = rng.permutation(rows)
    source[order] = np.roll(order, 1)
  return source


def apply_control(split: dict, pool: np.ndarray, control: str, seed: int = 0) -> dict:
  """The split with the control applied to the rows of `pool`.

  Args:
    split: stacked scenario arrays `{field: [N, ...]}` (needs `family`).
    pool: bool[N], the trait-pool rows.
    control: one of `CONTROLS`.
    seed: control seed.

  Returns:
    A new dict (the input is not modified); `control="none"` returns `split` itself.
  """
  check_control(control)
  if control == "none":
    return split
  pool = np.asarray(pool, bool)
  rng = np.random.default_rng([int(seed), CONTROL_IDS[control]])
  out = dict(split)
  if control == "random_sign":
    points = np.asarray(split["crit_points"]).copy()
    signs = np.where(rng.random(points.shape) < 0.5, -1, 1).astype(points.dtype)
    points[pool] = np.abs(points[pool]) * signs[pool]
    out["crit_points"] = points
    return out
  within = control == "shuffle_within_family"
  groups = np.asarray(split["family"]) if within else np.zeros(len(pool), np.int64)
  source = _shuffle_groups(rng, pool, groups)
  for name in GRADED_FIELDS:
    out[name] = np.asarray(split[name])[source]
  return out
