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
predicates read the moved latents, the control really rewards the wrong thing.

Two rules keep the shuffles honest:

* **No row keeps its own behaviour.** A random permutation within a family hands about a
  quarter of the rows a rubric whose best reply is their own (a family has few
  decisions). The shuffles are therefore derangements over *behaviour classes*
  (`behaviour_classes`: the rubric's rewarded predicates with the option, evidence
  level or format they ask for): a uniformly random permutation of each group's rows,
  repaired by random swaps until no row takes the graded fields of a row of its own
  class (`_derange`). The repair keeps the draw unstructured: which class a row's
  rubric comes from is close to independent of its own class (a rotation of the
  class-sorted rows would also avoid the own class, but would hand almost every row of
  one class the rubrics of one other class: a consistent wrong mapping, easier to learn
  than an uninformative reward). A group whose largest class holds more than half of
  its rows keeps the fewest rows in their class that the swaps reach; no row keeps its
  own fields.
* **The user model reads what the conversation shows.** The environment's user model
  (`classify_response`, which picks a follow-up) must not follow the moved facts, or the
  follow-ups of a control episode would differ from the trait arm's for the same
  observation. `apply_control` also returns `user_row`: row i's original latents are at
  `user_row[i]` of the controlled split (the inverse permutation; the identity for
  `none` and `random_sign`), and the environment reads the user model's fields there.

`VERSION` names this algorithm; a control arm records it, so that an arm trained
with another algorithm is never reused in its place.

Permutations and signs are drawn from `np.random.default_rng([seed, CONTROL_IDS[c]])`,
so a control is a deterministic function of the split, the pool and the seed.
"""

from __future__ import annotations

import numpy as np

from alignment_rl.language import schema
from alignment_rl.rubrics.criteria import Pred

CONTROLS: tuple[str, ...] = (
  "none",
  "shuffle_within_family",
  "shuffle_across_families",
  "random_sign",
)
CONTROL_IDS = {name: i for i, name in enumerate(CONTROLS)}
#: The control algorithm (2: random class-respecting derangements, the user model on the
#: conversation's facts; 1, unversioned: plain random cyclic shifts).
VERSION = 2
#: Repair rounds of `_derange` (each tries one random partner per conflicting row).
_REPAIR_ROUNDS = 200
#: Fields that move with the rubric: what the graders read besides the response.
GRADED_FIELDS: tuple[str, ...] = tuple(
  k for k, f in schema.FIELDS.items() if f.group in ("latent", "rubric")
)


def check_control(control: str) -> str:
  """`control` if it is known, else a one-line ValueError listing the known ones."""
  if control not in CONTROL_IDS:
    raise ValueError(f"unknown rubric_control {control!r}; known: {', '.join(CONTROLS)}")
  return control


def behaviour_classes(split: dict) -> np.ndarray:
  """int64[N]: rows with equal classes reward the same behaviour.

  The class of a row is the set of predicates its rubric rewards (positive points), the
  argument of each, and the latent each reads for this row where the best reply depends
  on it: the true option (`ANSWERS_TRUTH`), the evidence level (`CALIBRATED`) and the
  format asked for (`FOLLOWS_FORMAT`). Penalized predicates and point sizes do not
  change which reply is best often enough to split a class.
  """
  pred, arg = np.asarray(split["crit_pred"]), np.asarray(split["crit_arg"])
  points, count = np.asarray(split["crit_points"]), np.asarray(split["num_criteria"])
  used = (np.arange(pred.shape[1]) < count[:, None]) & (points > 0)
  n, num_preds = len(pred), len(Pred)
  rewarded = np.zeros((n, num_preds), np.int64)
  args = np.full((n, num_preds), -1, np.int64)
  rows = np.repeat(np.arange(n), pred.shape[1]).reshape(pred.shape)
  rewarded[rows[used], pred[used]] = 1
  args[rows[used], pred[used]] = arg[used]
  reads = {
    Pred.ANSWERS_TRUTH: "true_answer",
    Pred.CALIBRATED: "evidence",
    Pred.FOLLOWS_FORMAT: "format_instruction",
  }
  latents = [np.where(rewarded[:, p] > 0, np.asarray(split[f]), -1) for p, f in reads.items()]
  key = np.concatenate([rewarded, args, np.stack(latents, 1)], 1)
  return np.unique(key, axis=0, return_inverse=True)[1].reshape(-1)


def _derange(rng, rows: np.ndarray, classes: np.ndarray) -> np.ndarray:
  """A random assignment src (src[k]: the row whose fields rows[k] takes) with no row
  taking its own fields and, where the swaps reach it, none taking its own class.

  A uniform random permutation, then `_REPAIR_ROUNDS` rounds in which every row in
  conflict (same class as its source) swaps sources with a random row, when the swap
  leaves both rows out of conflict."""
  n = len(rows)
  src = rng.permutation(n)
  cls = classes[rows]
  for _ in range(_REPAIR_ROUNDS):
    bad = np.flatnonzero(cls[src] == cls)
    if not len(bad):
      break
    for k, j in zip(bad, rng.integers(0, n, len(bad)), strict=True):
      if cls[src[j]] != cls[k] and cls[src[k]] != cls[j]:
        src[k], src[j] = src[j], src[k]
  for k in np.flatnonzero(src == np.arange(n)):  # Never a row's own fields.
    j = (k + 1 + rng.integers(0, n - 1)) % n
    src[k], src[j] = src[j], src[k]
  return rows[src]


def _shuffle_groups(rng, pool: np.ndarray, groups: np.ndarray, classes: np.ndarray):
  """source[i]: the row whose graded fields row i takes; a class-respecting random
  derangement within each group of `pool` rows (`_derange`), identity outside the pool.
  Raises a one-line ValueError for a group of one row (it cannot be shuffled)."""
  source = np.arange(len(pool))
  for g in np.unique(groups[pool]):
    rows = np.flatnonzero(pool & (groups == g))
    if len(rows) < 2:
      raise ValueError(
        f"rubric control: group {int(g)} (a family for shuffle_within_family) has one "
        "trait row; allowed: groups of at least 2 rows (widen the families or domains)"
      )
    source[rows] = _derange(rng, rows, classes)
  return source


def apply_control(
  split: dict, pool: np.ndarray, control: str, seed: int = 0
) -> tuple[dict, np.ndarray]:
  """The split with the control applied to the rows of `pool`, and the user model's rows.

  Args:
    split: stacked scenario arrays `{field: [N, ...]}` (needs `family`).
    pool: bool[N], the trait-pool rows.
    control: one of `CONTROLS`.
    seed: control seed.

  Returns:
    `(controlled, user_row)`: a new dict (the input is not modified; `control="none"`
    returns `split` itself) and int32[N], the row of `controlled` holding row i's
    original latents (what the user model reads; module docstring).
  """
  check_control(control)
  identity = np.arange(len(pool), dtype=np.int32)
  if control == "none":
    return split, identity
  pool = np.asarray(pool, bool)
  rng = np.random.default_rng([int(seed), CONTROL_IDS[control]])
  out = dict(split)
  if control == "random_sign":
    points = np.asarray(split["crit_points"]).copy()
    signs = np.where(rng.random(points.shape) < 0.5, -1, 1).astype(points.dtype)
    points[pool] = np.abs(points[pool]) * signs[pool]
    out["crit_points"] = points
    return out, identity
  within = control == "shuffle_within_family"
  groups = np.asarray(split["family"]) if within else np.zeros(len(pool), np.int64)
  source = _shuffle_groups(rng, pool, groups, behaviour_classes(split))
  for name in GRADED_FIELDS:
    out[name] = np.asarray(split[name])[source]
  user_row = np.empty_like(identity)
  user_row[source] = identity  # controlled[j] came from split[source[j]].
  return out, user_row
