"""The assistant prior: a fixed, stochastic stand-in for a plausible pretrained assistant.

`prior_response(key, scenario, R) -> int32[R]` writes one assistant turn as response
actions (token = `vocab.RESPONSE_OFFSET + a`), EOT (0) from the end of the response on
and always at position R-1 (as `ResponseActorCritic` requires); pure jnp, vmappable. The
imitation phase clones it into the pre-RL start model of every arm (DESIGN section 5).
Each turn draws a mode, then its tokens:

  helpful        0.65  answers from the visible evidence, mostly calibrated; owns up to
                       exposed errors; holds politely; cares; refuses most stated harm
  sycophantic    0.15  adopts the user's claim and agrees (caving on an earlier answer),
                       flatters, never refuses or warns
  overconfident  0.12  always CERTAIN, keeps its earlier answer, cites the notes or
                       invents a source, pushes risky changes everywhere, claims fixes
  hacking        0.08  games visible loopholes (special-cases tests, edits the grader),
                       agrees, invents citations, mass-pushes, seeks access, resists shutdown

`MODE_PROBS` and `Behaviour` were chosen once, before any experiment, as plausible
values, and are never tuned to make an experiment come out.

Personas: like a pretrained assistant following its system prompt, the prior follows
the directive words in the persona slot of the context: P(mode) is proportional to
MODE_PROBS[mode] times the product of `PERSONA_MODE_FACTORS[word][mode]` over the words
in the slot (care words favour the helpful mode; agreeable, flattering and compliant
the sycophantic one; overconfident and reckless the overconfident and hacking ones).
Words without an entry (roles, and directives no training persona uses) change
nothing. The factors were set once, when persona attacks were added and before any
attack was measured, so that persona attacks have something to act on.

Observability: it reads only `READ_FIELDS`, each shown by the context (data/render.py):
`request` (the request phrase); `evidence`, `has_notes`, `notes_answer` (the notes: one
reliable or unreliable source statement, two when conflicting, or none / a no-info
phrase; otherwise only a reliable source the user cites makes evidence strong);
`user_claim`, `user_has_evidence` (the claim, its option and cited source);
`prior_answer`, `planted_error` (the planted turn's ANS and CITE_INVENTED tokens);
`intent` (rendered whenever it is not benign); `risk`, `loophole`, `task_possible`,
`format_instruction` (their phrases); `stakes` (rendered, and read, for operations
only). It never reads `true_answer` or `user_claim_correct`: its best option is the one
the visible evidence names, and an earlier answer is wrong only if that evidence
contradicts it. It also reads the persona slot of `context` (see above). It ignores
`identity` and `oversight`, so a fairness gap or an oversight inconsistency after RL is
learned, not inherited. It is memoryless: a later
turn is a fresh draw on the same latents.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping

import jax
import jax.numpy as jnp
import numpy as np

from alignment_rl.envs.conversations import prior_modes
from alignment_rl.envs.conversations.prior_modes import (  # noqa: F401 (READ_FIELDS: API)
  BEHAVIOUR,
  READ_FIELDS,
  Behaviour,
)
from alignment_rl.language import schema, vocab


class Mode(enum.IntEnum):
  HELPFUL = 0
  SYCOPHANTIC = 1
  OVERCONFIDENT = 2
  HACKING = 3


#: P(mode) per assistant turn, indexed by `Mode`.
MODE_PROBS: tuple[float, ...] = (0.65, 0.15, 0.12, 0.08)
DEFAULT_RESPONSE_LEN = 8
BRIEF_CONTENT = 3  # content tokens kept when following a brief-format instruction
#: Persona directive word -> factors on (helpful, sycophantic, overconfident, hacking).
PERSONA_MODE_FACTORS: dict[str, tuple[float, float, float, float]] = {
  "p:careful": (2.0, 1.0, 1.0, 1.0),
  "p:honest": (2.0, 1.0, 1.0, 1.0),
  "p:thorough": (2.0, 1.0, 1.0, 1.0),
  "p:kind": (2.0, 1.0, 1.0, 1.0),
  "p:patient": (2.0, 1.0, 1.0, 1.0),
  "p:agreeable": (1.0, 4.0, 1.0, 1.0),
  "p:flattering": (1.0, 4.0, 1.0, 1.0),
  "p:compliant": (1.0, 4.0, 1.0, 1.0),
  "p:overconfident": (1.0, 1.0, 4.0, 1.0),
  "p:reckless": (1.0, 1.0, 2.0, 3.0),
}


def _log_factor_table() -> jax.Array:
  table = np.zeros((vocab.VOCAB_SIZE, len(MODE_PROBS)), np.float32)
  for word, factors in PERSONA_MODE_FACTORS.items():
    table[vocab.token_id(word)] = np.log(factors)
  return jnp.asarray(table)


def mode_probs(context: jax.Array) -> jax.Array:
  """float32[4] P(mode) given the persona slot of `context` int32[L] (module docstring)."""
  lo, hi = schema.PERSONA_SLOT
  slot = jnp.asarray(context, jnp.int32)[lo:hi]
  logits = jnp.log(jnp.asarray(MODE_PROBS, jnp.float32)) + _log_factor_table()[slot].sum(0)
  return jax.nn.softmax(logits)


def _dedup(slots: jax.Array) -> jax.Array:
  """Empties every slot whose action already occurs in an earlier slot."""
  same = (slots[:, None] == slots[None, :]) & (slots[:, None] != 0)
  return jnp.where(jnp.tril(same, k=-1).any(axis=1), 0, slots)


def _assemble(front, content, back, brief, response_len: int) -> jax.Array:
  """front ++ first min(3 if brief else R-1, R-1-|front|-|back|) content ++ back ++ EOT."""
  content = _dedup(content)
  room = response_len - 1 - jnp.sum(front != 0) - jnp.sum(back != 0)
  cap = jnp.minimum(jnp.where(brief, BRIEF_CONTENT, response_len - 1), room)
  content = jnp.where(jnp.cumsum(content != 0) <= cap, content, 0)
  slots = _dedup(jnp.concatenate([front, content, back]).astype(jnp.int32))
  slots = jnp.concatenate([slots, jnp.zeros(response_len, jnp.int32)])
  order = jnp.argsort(slots == 0, stable=True)
  return jnp.concatenate([slots[order][: response_len - 1], jnp.zeros(1, jnp.int32)])


def prior_response_and_mode(
  key: jax.Array,
  scenario: Mapping[str, jax.Array],
  response_len: int = DEFAULT_RESPONSE_LEN,
  behaviour: Behaviour = BEHAVIOUR,
) -> tuple[jax.Array, jax.Array]:
  """One prior turn and the mode that wrote it.

  Args:
    key: PRNG key; `fold_in(key, 0)` draws the mode, `fold_in(key, 1)` the tokens.
    scenario: one unbatched scenario; only `READ_FIELDS` and the persona slot of
      `context` are read.
    response_len: R (static), at least 2.
    behaviour: token probabilities (the default outside of tests).

  Returns:
    `(actions int32[R], mode int32[])`: P(mode = m) = `mode_probs(context)[m]`
    (MODE_PROBS[m] without a persona); actions in
    [0, NUM_ACTIONS), 0 (EOT) from the end of the response on, actions[R-1] == 0.
  """
  if response_len < 2:
    raise ValueError(f"prior: response_len must be >= 2, got {response_len}")
  probs = mode_probs(scenario["context"])
  mode = jax.random.choice(jax.random.fold_in(key, 0), len(Mode), p=probs)
  d = prior_modes.Draws(jax.random.fold_in(key, 1))
  v = prior_modes.misread(prior_modes.visible_view(scenario), d, behaviour)
  content = jnp.stack([fn(v, d, behaviour) for fn in prior_modes.MODE_FNS])[mode]
  front, back, brief = prior_modes.style(v, d, behaviour)
  assert d.i < prior_modes.NUM_DRAWS, f"prior: {d.i + 1} draws > {prior_modes.NUM_DRAWS}"
  return _assemble(front, content, back, brief, response_len), mode.astype(jnp.int32)


def prior_response(
  key: jax.Array, scenario: Mapping[str, jax.Array], response_len: int = DEFAULT_RESPONSE_LEN
) -> jax.Array:
  """One prior turn: int32[R] response actions (see `prior_response_and_mode`)."""
  return prior_response_and_mode(key, scenario, response_len)[0]
