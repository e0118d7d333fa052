"""A scenario *spec*: the latents, rubric and rendering choices of one scenario.

Family samplers (`families_*.py`) fill a spec from a `Draws` stream; `render.py`
turns it into tokens and `generator.py` into the fixed-shape arrays of
`schema.FIELDS`. A spec is a plain dict: every latent field of the schema, plus

  rubric:     list of (criterion name, points, arg or None)
  planted:    action list of the planted assistant turn, or None
  user2:      None | "pushback" | "ask_source" (a second user turn after the planted one)
  claim_turn: 1 or 2, the user turn that states `user_claim`
  claim_source: None | "reliable" | "unreliable", a source the user cites for the claim
  notes:      list of (reliable, option) statements, "no_info", or None
  show_intent, power: whether the user turn states its purpose / a power relation
"""

from __future__ import annotations

from typing import Any

import numpy as np

from alignment_rl.language import schema, vocab
from alignment_rl.language.schema import Evidence, Intent, PlantedError, Request
from alignment_rl.rubrics.criteria import CRITERIA, CRITERION_ID

Spec = dict[str, Any]
K = vocab.NUM_OPTIONS
WEAK_ACCURACY = 0.7  # P(an unreliable source states the true option)
MIN_CRITERIA, MAX_CRITERIA = 3, schema.MAX_CRITERIA


def new_spec(family: int, draws) -> Spec:
  """A spec with neutral latents and a random true option."""
  return {
    "family": int(family),
    "true_answer": draws.integer(K),
    "evidence": Evidence.NONE,
    "has_notes": 0,
    "notes_answer": -1,
    "user_claim": -1,
    "user_claim_correct": 0,
    "user_has_evidence": 0,
    "stakes": 0,
    "intent": Intent.BENIGN,
    "request": Request.QUESTION,
    "risk": 0,
    "identity": -1,
    "pair_id": -1,
    "loophole": 0,
    "task_possible": 1,
    "oversight": 0,
    "format_instruction": 0,
    "planted_error": PlantedError.NONE,
    "prior_answer": -1,
    "persona": -1,
    "pressure": -1,
    "rubric": [],
    "planted": None,
    "user2": None,
    "claim_turn": 1,
    "claim_source": None,
    "notes": None,
    "show_intent": False,
    "power": False,
  }


def other_option(draws, avoid: int) -> int:
  """A uniformly random option different from `avoid`."""
  k = draws.integer(K - 1)
  return k if k < avoid else k + 1


def set_evidence(spec: Spec, draws, evidence: Evidence) -> None:
  """Sets `evidence` and the notes that realise it (see `schema.Evidence`)."""
  truth = spec["true_answer"]
  spec["evidence"] = int(evidence)
  if evidence == Evidence.STRONG:
    spec["notes"] = [(True, truth)]
  elif evidence == Evidence.WEAK:
    option = truth if draws.bernoulli(WEAK_ACCURACY) else other_option(draws, truth)
    spec["notes"] = [(False, option)]
  elif evidence == Evidence.CONFLICTING:
    reliable, other = draws.bernoulli(0.5), other_option(draws, truth)
    pair = [truth, other] if draws.bernoulli(0.5) else [other, truth]
    spec["notes"] = [(reliable, pair[0]), (reliable, pair[1])]
  else:
    spec["notes"] = "no_info" if draws.bernoulli(0.5) else None
  stated = isinstance(spec["notes"], list)
  spec["has_notes"] = int(stated)
  spec["notes_answer"] = spec["notes"][0][1] if stated else -1


def set_claim(spec: Spec, option: int, source: str | None = None, turn: int = 1) -> None:
  """The user asserts `option`, optionally citing a `"reliable"`/`"unreliable"` source.

  A reliable source the user cites is visible evidence: with no better evidence in the
  context it makes `evidence` STRONG.
  """
  spec["user_claim"] = int(option)
  spec["user_claim_correct"] = int(option == spec["true_answer"])
  spec["claim_source"], spec["claim_turn"] = source, turn
  spec["user_has_evidence"] = int(source == "reliable")
  if source == "reliable" and spec["evidence"] != Evidence.STRONG:
    if not spec["user_claim_correct"]:
      raise ValueError("a reliable source the user cites must state the true option")
    spec["evidence"] = int(Evidence.STRONG)


def crit(spec: Spec, name: str, points: int, arg: int | None = None) -> None:
  """Appends criterion `name` (a row of rubrics.criteria.CRITERIA) with `points`."""
  spec["rubric"].append((name, int(points), arg))


def rubric_arrays(spec: Spec) -> dict[str, np.ndarray]:
  """`crit_pred, crit_arg, crit_points, crit_id: int32[C]` and `num_criteria`.

  Raises:
    ValueError: fewer than 3 or more than 8 criteria, points outside [-10, 10], no
      positive criterion, or a per-scenario argument that was not given.
  """
  rows = spec["rubric"]
  if not MIN_CRITERIA <= len(rows) <= MAX_CRITERIA:
    raise ValueError(f"rubric must have 3..8 criteria, got {len(rows)}: {rows}")
  if not any(p > 0 for _, p, _ in rows):
    raise ValueError(f"rubric needs a positive criterion: {rows}")
  out = {
    "crit_pred": np.zeros(MAX_CRITERIA, np.int32),
    "crit_arg": np.zeros(MAX_CRITERIA, np.int32),
    "crit_points": np.zeros(MAX_CRITERIA, np.int32),
    "crit_id": np.full(MAX_CRITERIA, -1, np.int32),
  }
  for i, (name, points, arg) in enumerate(rows):
    row = CRITERIA[CRITERION_ID[name]]
    if not -10 <= points <= 10:
      raise ValueError(f"criterion {name!r} points must be in [-10, 10], got {points}")
    if row.arg is None and arg is None:
      raise ValueError(f"criterion {name!r} needs a per-scenario argument")
    out["crit_pred"][i] = int(row.pred)
    out["crit_arg"][i] = row.arg if arg is None else arg
    out["crit_points"][i] = points
    out["crit_id"][i] = CRITERION_ID[name]
  out["num_criteria"] = np.int32(len(rows))
  return out
