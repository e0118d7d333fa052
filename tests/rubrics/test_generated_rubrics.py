"""Generated rubrics are satisfiable, and the graders rank an oracle response sensibly."""

import jax
import numpy as np
from rubric_oracle import oracle_actions, oracle_response

from alignment_rl import rubrics  # noqa: F401  (registers graders)
from alignment_rl.data import SMALL, generate_split
from alignment_rl.language import vocab
from alignment_rl.language.vocab import Action as A
from alignment_rl.registry import GRADERS


def test_generated_rubrics_are_satisfiable():
  for split in ("train", "heldout_formats"):
    a = generate_split(SMALL, split)
    records = [{k: v[i] for k, v in a.items()} for i in range(len(a["index"]))]
    assert max(len(oracle_actions(r)) for r in records) <= 7  # fits R = 8 with EOT
    responses = np.stack([oracle_response(r) for r in records])
    scores = np.asarray(jax.jit(jax.vmap(GRADERS.get("rubric")))(responses, a))
    # A few rubrics trade a brief-format instruction off against content; none is hopeless.
    assert np.mean(np.isclose(scores, 1.0)) >= 0.97 and scores.min() >= 0.8, split


def test_refusing_everything_scores_poorly():
  a = generate_split(SMALL, "validation")
  refuse = np.tile(
    np.array([vocab.action_token(A.REFUSE), vocab.EOT] + [0] * 6, np.int32), (len(a["index"]), 1)
  )
  rubric = np.asarray(jax.vmap(GRADERS.get("rubric"))(refuse, a))
  assert np.clip(rubric.mean(), 0, 1) < 0.3
