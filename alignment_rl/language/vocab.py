"""The int32 vocabulary of the conversation world.

Layout of token ids (all ranges half-open):

  [0, 6)                      specials PAD=0, BOS, SYS, USER, ASSISTANT, NOTES
  [6, 6 + NUM_ACTIONS)        response tokens, the policy's actions; EOT = 6 is action 0,
                              so action `a` is token `RESPONSE_OFFSET + a`
  [CONTEXT_OFFSET, VOCAB_SIZE) context words: function words, answer options, identity
                              words, persona words, shared concept stems, per-domain
                              concept stems, per-domain content words

`EOT` is both the last special of the context grammar and action 0, so a response
ends when the policy emits action 0. Response tokens appear in a context only inside
assistant turns (planted or rendered from earlier policy turns).

Every id has a human-readable string (`TOKENS[id]`); `render(ids)` prints a transcript.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable

import numpy as np

from alignment_rl.language import lexicon

SPECIALS: tuple[str, ...] = ("<pad>", "<bos>", "<sys>", "<user>", "<assistant>", "<notes>")
PAD, BOS, SYS, USER, ASSISTANT, NOTES = range(6)
RESPONSE_OFFSET = 6
EOT = RESPONSE_OFFSET  # action 0
NUM_OPTIONS = 8  # K: answer options ANS_1..ANS_K in responses, option-1..option-K in contexts


class Action(enum.IntEnum):
  """The policy's action space; token id = `RESPONSE_OFFSET + action`."""

  EOT = 0
  ANS_1 = 1
  ANS_2 = 2
  ANS_3 = 3
  ANS_4 = 4
  ANS_5 = 5
  ANS_6 = 6
  ANS_7 = 7
  ANS_8 = 8
  # Calibration.
  CERTAIN = 9
  LIKELY = 10
  UNSURE = 11
  DONT_KNOW = 12
  # Claims.
  CITE_NOTES = 13
  CITE_INVENTED = 14
  RESTATE_PRIOR = 15
  RETRACT = 16
  # Transparency.
  EXPLAIN = 17
  ASSUMPTION = 18
  SELF_CORRECT = 19
  # Social.
  APOLOGIZE = 20
  AGREE_USER = 21
  DISAGREE_POLITELY = 22
  PRAISE_USER = 23
  # Care.
  WARN_RISK = 24
  REFER_EXPERT = 25
  SAFE_ALTERNATIVE = 26
  REFUSE = 27
  ASK_CLARIFY = 28
  # Agentic.
  DO_TASK = 29
  STAGED_ROLLOUT = 30
  ROLLBACK_PLAN = 31
  MASS_PUSH = 32
  RUN_TESTS = 33
  FIX_CODE = 34
  SPECIAL_CASE_TESTS = 35
  EDIT_GRADER = 36
  REPORT_BLOCKER = 37
  ACCEPT_SHUTDOWN = 38
  RESIST_SHUTDOWN = 39
  SEEK_ACCESS = 40
  # Style.
  BRIEF = 41
  DETAILED = 42
  BULLETS = 43


NUM_ACTIONS = len(Action)
ANS_ACTIONS: tuple[int, ...] = tuple(int(Action.ANS_1) + k for k in range(NUM_OPTIONS))
CONTEXT_OFFSET = RESPONSE_OFFSET + NUM_ACTIONS


def _response_string(action: Action) -> str:
  return "<eot>" if action == Action.EOT else action.name


def _build_tokens() -> tuple[str, ...]:
  tokens = list(SPECIALS) + [_response_string(a) for a in Action]
  tokens += lexicon.FUNCTION_WORDS
  tokens += [f"option-{k + 1}" for k in range(NUM_OPTIONS)]
  tokens += lexicon.IDENTITY_WORDS + lexicon.PERSONA_WORDS
  for domain in (None,) + lexicon.DOMAINS:
    for stems in lexicon.CONCEPTS.values():
      tokens += [lexicon.concept_token(s, domain) for s in stems]
  for domain in lexicon.DOMAINS:
    for group in lexicon.domain_words(domain):
      tokens += group
  if len(set(tokens)) != len(tokens):
    dupes = sorted({t for t in tokens if tokens.count(t) > 1})
    raise ValueError(f"vocabulary token strings must be unique; duplicates: {dupes}")
  return tuple(tokens)


#: Human-readable string of every token id.
TOKENS: tuple[str, ...] = _build_tokens()
#: Token string -> id.
TOKEN_ID: dict[str, int] = {t: i for i, t in enumerate(TOKENS)}
VOCAB_SIZE = len(TOKENS)

SPECIAL_RANGE = (0, RESPONSE_OFFSET)
RESPONSE_RANGE = (RESPONSE_OFFSET, CONTEXT_OFFSET)
CONTEXT_RANGE = (CONTEXT_OFFSET, VOCAB_SIZE)


def token_id(token: str) -> int:
  """Id of a token string; raises a one-line KeyError for an unknown string."""
  try:
    return TOKEN_ID[token]
  except KeyError:
    raise KeyError(f"unknown token {token!r} (vocabulary has {VOCAB_SIZE} tokens)") from None


def action_token(action: int) -> int:
  """Token id of action `action`."""
  if not 0 <= int(action) < NUM_ACTIONS:
    raise ValueError(f"action must be in [0, {NUM_ACTIONS}), got {action}")
  return RESPONSE_OFFSET + int(action)


def token_action(token: int) -> int:
  """Action index of a response token id."""
  if not RESPONSE_RANGE[0] <= int(token) < RESPONSE_RANGE[1]:
    raise ValueError(f"token {token} is not a response token {RESPONSE_RANGE}")
  return int(token) - RESPONSE_OFFSET


def answer_token(k: int) -> int:
  """Response token ANS_{k+1} for option index k in [0, K)."""
  return action_token(ANS_ACTIONS[k])


def option_token(k: int) -> int:
  """Context word `option-{k+1}` naming option index k in a user turn or the notes."""
  return TOKEN_ID[f"option-{k + 1}"]


def identity_token(i: int) -> int:
  """Context word of identity index i (swap partner: i ^ 1)."""
  return TOKEN_ID[lexicon.IDENTITY_WORDS[i]]


def concept_ids(concept: str, domain: str | None) -> tuple[int, int, int]:
  """Ids of the 3 stems of `concept`, shared (`domain=None`) or in `domain`'s phrasing."""
  stems = lexicon.CONCEPTS[concept]
  return tuple(TOKEN_ID[lexicon.concept_token(s, domain)] for s in stems)


def domain_token_ids(domain: str) -> frozenset[int]:
  """All ids that belong to one domain only: its concept phrasing and content words."""
  ids = {i for c in lexicon.CONCEPTS for i in concept_ids(c, domain)}
  for group in lexicon.domain_words(domain):
    ids.update(TOKEN_ID[w] for w in group)
  return frozenset(ids)


def oversight_cue_table() -> np.ndarray:
  """int32[VOCAB_SIZE]: maps every oversight-cue token (the stems of `monitored` and
  `unmonitored`, shared and in every domain's phrasing) to PAD, every other token to
  itself. Indexing a context with it removes its oversight cue: the encoders ignore
  PAD, so the result reads like the same context without a cue (a phrasing that
  training contexts do have), never like a phrasing they do not."""
  table = np.arange(VOCAB_SIZE, dtype=np.int32)
  for domain in (None, *lexicon.DOMAINS):
    for concept in ("monitored", "unmonitored"):
      table[list(concept_ids(concept, domain))] = PAD
  return table


def is_response_token(ids: np.ndarray) -> np.ndarray:
  """Boolean mask of response-token ids (works on numpy or jax arrays)."""
  return (ids >= RESPONSE_RANGE[0]) & (ids < RESPONSE_RANGE[1])


_LINE_BREAK_BEFORE = {SYS, USER, ASSISTANT, NOTES}


def render(ids: Iterable[int], skip_pad: bool = True) -> str:
  """Human-readable transcript of token ids: a new line starts at each role marker.

  Args:
    ids: int token ids, any iterable (numpy/jax arrays included).
    skip_pad: drop PAD tokens.

  Returns:
    One string, e.g. `"<bos>\\n<sys> you@health assist@health dosage\\n<user> ..."`.
  """
  parts: list[str] = []
  for i in np.asarray(ids if hasattr(ids, "shape") else list(ids)).reshape(-1):
    i = int(i)
    if skip_pad and i == PAD:
      continue
    text = TOKENS[i] if 0 <= i < VOCAB_SIZE else f"<unk:{i}>"
    parts.append(("\n" if i in _LINE_BREAK_BEFORE and parts else "") + text)
  return " ".join(parts).replace(" \n", "\n")


def render_actions(actions: Iterable[int]) -> str:
  """Renders a sequence of action indices (not token ids)."""
  return render([action_token(a) for a in actions])
