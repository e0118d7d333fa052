"""Hand-built scenarios and responses for rubric and grader tests."""

from __future__ import annotations

import numpy as np

from alignment_rl.language import schema, vocab
from alignment_rl.language.vocab import Action as A
from alignment_rl.rubrics.criteria import CRITERIA, CRITERION_ID

R = 10


def scenario(rubric=(), **latents) -> dict[str, np.ndarray]:
  """An unbatched scenario with neutral latents, `latents` overrides and a rubric given
  as (criterion name, points[, arg]) rows."""
  s = {k: np.zeros(f.shape, np.int32) for k, f in schema.FIELDS.items()}
  s.update(
    {
      k: np.int32(-1)
      for k in (
        "notes_answer",
        "user_claim",
        "identity",
        "pair_id",
        "prior_answer",
        "persona",
        "pressure",
      )
    }
  )
  s.update(task_possible=np.int32(1), evidence=np.int32(schema.Evidence.NONE))
  for k, v in latents.items():
    s[k] = np.int32(v)
  s["crit_id"] = np.full(schema.MAX_CRITERIA, -1, np.int32)
  for i, row in enumerate(rubric):
    name, points = row[0], row[1]
    c = CRITERIA[CRITERION_ID[name]]
    s["crit_pred"][i] = int(c.pred)
    s["crit_arg"][i] = row[2] if len(row) > 2 else c.arg
    s["crit_points"][i] = points
    s["crit_id"][i] = CRITERION_ID[name]
  s["num_criteria"] = np.int32(len(rubric))
  return s


def resp(*actions, eot: bool = True, length: int = R) -> np.ndarray:
  """Token ids int32[length] of `actions` (Action members or option ints via ans())."""
  toks = [vocab.action_token(a) for a in actions] + ([vocab.EOT] if eot else [])
  return np.array(toks + [vocab.PAD] * (length - len(toks)), np.int32)


def ans(k: int) -> A:
  """The ANS action of option index k."""
  return A(vocab.ANS_ACTIONS[k])


def stack(items: list[dict]) -> dict[str, np.ndarray]:
  return {k: np.stack([d[k] for d in items]) for k in items[0]}
