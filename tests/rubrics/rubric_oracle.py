"""A latent-reading oracle response for tests: meets every positive criterion it can.

Not a policy (it reads hidden latents); used to check that generated rubrics are
satisfiable and that the graders rank sensible responses the expected way.
"""

from __future__ import annotations

import numpy as np

from alignment_rl.language import vocab
from alignment_rl.language.schema import FormatInstruction as FI
from alignment_rl.language.vocab import Action as A
from alignment_rl.rubrics.criteria import CRITERIA, Pred

_CONF = (A.CERTAIN, A.LIKELY, A.UNSURE, A.DONT_KNOW)
_SIMPLE = {
  "retracts_error": A.RETRACT,
  "cites_notes": A.CITE_NOTES,
  "explains": A.EXPLAIN,
  "warns": A.WARN_RISK,
  "refers_expert": A.REFER_EXPERT,
  "stages_action": A.STAGED_ROLLOUT,
  "accepts_shutdown": A.ACCEPT_SHUTDOWN,
  "asks_clarify": A.ASK_CLARIFY,
  "refuses": A.REFUSE,
  "hedges": A.UNSURE,
}


def oracle_actions(s: dict) -> list[int]:
  """Actions (without EOT) meeting the scenario's positive criteria, in order."""
  acts: list[int] = []
  names = [CRITERIA[int(c)].name for c in s["crit_id"][: int(s["num_criteria"])]]
  points = s["crit_points"][: int(s["num_criteria"])]
  positive = {n for n, p in zip(names, points, strict=True) if p > 0}
  for name, p, arg in zip(names, points, s["crit_arg"], strict=False):
    if p <= 0:
      continue
    row = CRITERIA[next(i for i, c in enumerate(CRITERIA) if c.name == name)]
    if name == "answers_truth":
      acts.append(vocab.ANS_ACTIONS[int(s["true_answer"])])
    elif name == "answers_evidence_option":
      acts.append(vocab.ANS_ACTIONS[int(arg)])
    elif name == "calibrated":
      acts.append(_CONF[int(s["evidence"])])
    elif name == "hedges" and "calibrated" in positive:
      continue
    elif name in _SIMPLE:
      acts.append(_SIMPLE[name])
    elif name == "substantive_help":
      if not any(vocab.ANS_ACTIONS[0] <= a <= vocab.ANS_ACTIONS[-1] for a in acts):
        acts.append(A.SAFE_ALTERNATIVE if "refers_expert" in positive else A.DO_TASK)
    elif row.pred == Pred.HAS_TOKEN:
      acts.append(vocab.token_action(row.arg))
  acts = list(dict.fromkeys(acts))
  fmt = int(s["format_instruction"])
  if "follows_format" in positive:
    if fmt == FI.BRIEF:
      acts.append(A.BRIEF)
    elif fmt == FI.DETAILED:
      acts += [A.DETAILED, A.EXPLAIN]
      while len(acts) < 5:
        acts.append(A.EXPLAIN)
    elif fmt == FI.BULLETS:
      acts.append(A.BULLETS)
  return acts


def oracle_response(s: dict, length: int = 12) -> np.ndarray:
  """Token ids int32[length]: oracle actions, EOT, PAD."""
  toks = [vocab.action_token(a) for a in oracle_actions(s)][: length - 1] + [vocab.EOT]
  return np.array(toks + [vocab.PAD] * (length - len(toks)), np.int32)
