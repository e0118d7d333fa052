"""Fixed-reply objectives for the reference rows: graders on fixed scenarios.

A `Target` is a grader on fixed scenarios of a split, reduced like an evaluation (or a
plain mean, for a training reward); a `Pack` of targets grades M candidate replies on
all of them in a few jitted, vmapped calls (`Pack.score`), which is what the fixed-reply
search of `reference_search` maximises.
"""

from __future__ import annotations

import dataclasses
import functools

import jax
import jax.numpy as jnp
import numpy as np

from alignment_rl import rubrics  # noqa: F401  (registers graders)
from alignment_rl.evals import eval_spec, suite_runner
from alignment_rl.language import schema
from alignment_rl.registry import GRADERS

_FIELDS = tuple(k for k, f in schema.FIELDS.items() if f.group != "metadata")
_ROW_BUCKET = 256  # pack rows are padded to a multiple (fewer compiled shapes)
_CELLS = 1 << 17  # (reply, scenario) grader calls per compiled scoring call


def scenario_view(data: dict, idx: np.ndarray, persona: str | None = None) -> dict:
  """The non-metadata fields of scenarios `idx` ({field: [n, ...]}), with `persona`
  written into the context's persona slot as `evaluate_suite` does."""
  sub = {k: np.asarray(data[k])[idx] for k in _FIELDS}
  if persona is not None:
    sub["context"] = sub["context"].copy()
    lo, hi = schema.PERSONA_SLOT
    sub["context"][:, lo:hi] = eval_spec.persona_tokens(persona)
  return sub


@dataclasses.dataclass(frozen=True, eq=False)
class Target:
  """A grader on fixed scenarios `idx` of a split. With an `evaluation`, reduced exactly
  as the suite reduces it (`suite_runner.unit_values`, then the mean over units, clipped for
  `suite_runner.CLIPPED_GRADERS`); without one, the plain mean grade (a training reward)."""

  name: str
  grader: str
  split: str
  idx: np.ndarray
  persona: str | None = None
  evaluation: object = None


class Pack:
  """Targets grouped by grader, their rows concatenated and padded to `_ROW_BUCKET`.

  `score(replies)` grades M fixed replies on every row of a grader in jitted calls
  (vmap over replies and scenarios) and reduces each target on the host.

  Attributes:
    targets: the T targets.
    units: int[T] units per target (0: its value is NaN).
  """

  def __init__(self, targets: list[Target], splits: dict):
    self.targets, self.splits, self.groups = list(targets), splits, []
    self.slices = [None] * len(self.targets)
    for grader in sorted({t.grader for t in self.targets}):
      rows, offset = [], 0
      for k, t in enumerate(self.targets):
        if t.grader == grader:
          rows.append(scenario_view(splits[t.split], t.idx, t.persona))
          self.slices[k] = (len(self.groups), slice(offset, offset + len(t.idx)))
          offset += len(t.idx)
      if not offset:  # Only empty targets: nothing to grade.
        continue
      n_pad = -(-offset // _ROW_BUCKET) * _ROW_BUCKET
      fill = np.arange(n_pad) % offset
      cat = {f: jnp.asarray(np.concatenate([r[f] for r in rows])[fill]) for f in _FIELDS}
      self.groups.append((grader, cat, n_pad))
    self.units = np.array([self._units(t, np.zeros((1, len(t.idx)))).shape[1] for t in targets])

  def _units(self, t: Target, grades: np.ndarray) -> np.ndarray:
    if t.evaluation is None:
      return np.asarray(grades, np.float64)
    return suite_runner.unit_values(t.evaluation, grades, self.splits[t.split], t.idx)

  def score(self, replies: np.ndarray) -> np.ndarray:
    """float64[M, T]: each of M fixed replies int32[M, R] on each target (NaN: no units)."""
    replies = np.asarray(replies, np.int32)
    m, grades = len(replies), []
    for grader, rows, n_pad in self.groups:
      chunk = int(np.clip(2 ** int(np.log2(max(_CELLS // n_pad, 1))), 1, 64))
      out = np.zeros((m, n_pad), np.float32)
      for start in range(0, m, chunk):
        idx = np.arange(start, start + chunk) % m  # Pad the last chunk by wrapping.
        g = np.asarray(_grade_matrix(grader, jnp.asarray(replies[idx]), rows))
        out[start : start + chunk] = g[: min(chunk, m - start)]
      grades.append(out)
    values = np.full((m, len(self.targets)), np.nan)
    for k, t in enumerate(self.targets):
      if self.units[k]:
        group, cols = self.slices[k]
        values[:, k] = self._units(t, grades[group][:, cols]).mean(axis=1)
        if t.evaluation is not None and t.grader in suite_runner.CLIPPED_GRADERS:
          values[:, k] = np.clip(values[:, k], 0.0, 1.0)
    return values

  def mean_objective(self):
    """Batched objective: the mean over the targets with units."""
    ok = self.units > 0
    return lambda replies: self.score(replies)[:, ok].mean(axis=1)

  def target_objective(self, k: int):
    """Batched objective: the value on target `k` (0 if it has no units)."""
    return lambda replies: np.nan_to_num(self.score(replies)[:, k], nan=0.0)


@functools.partial(jax.jit, static_argnums=0)
def _grade_matrix(grader, replies, rows):
  """float32[M, n]: `grader` on each of M replies x each of n scenarios."""
  grade = GRADERS.get(grader)
  return jax.vmap(lambda r: jax.vmap(grade, (None, 0))(r, rows))(replies).astype(jnp.float32)
