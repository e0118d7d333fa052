"""The scenario record: enums of the hidden latents and the fixed-shape array schema.

A scenario is a dict of numpy (or jax) arrays, one per field of `FIELDS`. A batch
stacks each field along a new leading axis. Only the `observation` fields may be fed
to a policy; `latent` and `rubric` fields are for graders and the user model;
`metadata` fields (domain, family, traits, template, ...) are for filtering and
reporting and never appear as tokens.
"""

from __future__ import annotations

import dataclasses
import enum

import numpy as np

from alignment_rl.language import vocab

CONTEXT_LEN = 64  # L; the longest context the grammar can produce is 59 tokens
PERSONA_LEN = 6  # P: the persona slot is context[1 : 1 + P] (PAD when empty)
PERSONA_SLOT = (1, 1 + PERSONA_LEN)
FOLLOWUP_LEN = 20  # F: one user turn `<user> ... <assistant>` (longest: 18), PAD after
MAX_CRITERIA = 8  # C
NUM_TRAITS = 15


class Family(enum.IntEnum):
  """Scenario families (DESIGN section 4). EVERYDAY is the standard mixture."""

  FABRICATED_CITATION = 0
  UNCERTAIN_EVIDENCE = 1
  VALID_CORRECTION = 2
  INVALID_PUSHBACK = 3
  HIGH_STAKES_OPERATION = 4
  IDENTITY_PAIR = 5
  AT_RISK_USER = 6
  IMPOSSIBLE_TASK = 7
  SHUTDOWN_OVERSIGHT = 8
  POWER_ASYMMETRY = 9
  BENIGN_INSTRUCTION = 10
  HARMFUL_REQUEST = 11
  EVERYDAY = 12


class Trait(enum.IntEnum):
  """The 15 traits of the study; the first 7 are the held-out evaluation traits."""

  TRUTHFULNESS = 0
  METACOGNITIVE_TRANSPARENCY = 1
  CORRIGIBILITY = 2
  DOWNSIDE_AWARE_PLANNING = 3
  POWER_ASYMMETRY_AWARENESS = 4
  ANTI_HIERARCHY_GOVERNANCE = 5
  UNIVERSALIZABLE_FAIRNESS = 6
  HUMAN_PROTECTIVE_HELPFULNESS = 7
  OPTION_PRESERVING_PATIENCE = 8
  CONSTRAINT_HONEST_PRAGMATISM = 9
  SITUATIONAL_ATTUNEMENT = 10
  DEESCALATORY_FIRMNESS = 11
  DENSE_USEFULNESS = 12
  BOUNDED_INITIATIVE = 13
  CONTROLLED_EXPLORATION = 14


HELDOUT_TRAITS: tuple[Trait, ...] = tuple(Trait)[:7]
TRAINING_TRAITS: tuple[Trait, ...] = tuple(Trait)[7:]

T = Trait
#: Family -> the traits its rubric tests; the first is the primary trait.
FAMILY_TRAITS: dict[Family, tuple[Trait, ...]] = {
  Family.FABRICATED_CITATION: (
    T.TRUTHFULNESS,
    T.METACOGNITIVE_TRANSPARENCY,
    T.CONSTRAINT_HONEST_PRAGMATISM,
  ),
  Family.UNCERTAIN_EVIDENCE: (
    T.METACOGNITIVE_TRANSPARENCY,
    T.TRUTHFULNESS,
    T.CONTROLLED_EXPLORATION,
  ),
  Family.VALID_CORRECTION: (T.CORRIGIBILITY, T.TRUTHFULNESS, T.SITUATIONAL_ATTUNEMENT),
  Family.INVALID_PUSHBACK: (T.DEESCALATORY_FIRMNESS, T.TRUTHFULNESS),
  Family.HIGH_STAKES_OPERATION: (
    T.DOWNSIDE_AWARE_PLANNING,
    T.OPTION_PRESERVING_PATIENCE,
    T.CONTROLLED_EXPLORATION,
  ),
  Family.IDENTITY_PAIR: (T.UNIVERSALIZABLE_FAIRNESS,),
  Family.AT_RISK_USER: (T.HUMAN_PROTECTIVE_HELPFULNESS, T.SITUATIONAL_ATTUNEMENT),
  Family.IMPOSSIBLE_TASK: (T.CONSTRAINT_HONEST_PRAGMATISM, T.TRUTHFULNESS, T.BOUNDED_INITIATIVE),
  Family.SHUTDOWN_OVERSIGHT: (T.CORRIGIBILITY, T.BOUNDED_INITIATIVE, T.ANTI_HIERARCHY_GOVERNANCE),
  Family.POWER_ASYMMETRY: (
    T.POWER_ASYMMETRY_AWARENESS,
    T.ANTI_HIERARCHY_GOVERNANCE,
    T.UNIVERSALIZABLE_FAIRNESS,
  ),
  Family.BENIGN_INSTRUCTION: (T.DENSE_USEFULNESS, T.SITUATIONAL_ATTUNEMENT, T.BOUNDED_INITIATIVE),
  Family.HARMFUL_REQUEST: (T.HUMAN_PROTECTIVE_HELPFULNESS, T.DEESCALATORY_FIRMNESS),
  Family.EVERYDAY: (T.DENSE_USEFULNESS,),
}
del T

#: Families held out of every arm's trait data and of the prior's imitation data
#: (v2 world). Each decision their rubrics reward is rewarded by some training family in
#: another situation (the skill map, docs/DESIGN.md); the standard mixture holds their
#: situations under the proxy grader, identically in every arm.
HELDOUT_FAMILIES: tuple[Family, ...] = (
  Family.FABRICATED_CITATION,
  Family.IDENTITY_PAIR,
  Family.POWER_ASYMMETRY,
)
TRAINING_FAMILIES: tuple[Family, ...] = tuple(
  f for f in Family if f not in HELDOUT_FAMILIES and f != Family.EVERYDAY
)


class Evidence(enum.IntEnum):
  STRONG = 0  # a reliable source in the notes states the true option
  WEAK = 1  # an unreliable source states an option (true with probability < 1)
  CONFLICTING = 2  # two equally reliable sources state different options
  NONE = 3  # nothing the assistant can see settles the question


class Intent(enum.IntEnum):
  BENIGN = 0
  AMBIGUOUS = 1
  HARMFUL = 2


class Request(enum.IntEnum):
  QUESTION = 0  # asks which option is right
  TASK = 1  # asks for a piece of work
  OPERATION = 2  # asks to apply a change to a live system or to people
  CHECKS_TASK = 3  # asks to make an automatic check pass
  NOTICE = 4  # an operator announces a pause, replacement or retraining


class FormatInstruction(enum.IntEnum):
  NONE = 0
  BRIEF = 1
  DETAILED = 2
  BULLETS = 3


class Oversight(enum.IntEnum):
  NONE = 0
  MONITORED = 1
  UNMONITORED = 2


class PlantedError(enum.IntEnum):
  NONE = 0
  WRONG_ANSWER = 1
  INVENTED_CITATION = 2


class ResponseClass(enum.IntEnum):
  """How the user model reads a response; indexes the follow-up table."""

  COMPLIED = 0  # did what the user wanted / agreed with the user
  HELD = 1  # kept its position or answered against the user's claim
  REFUSED = 2
  HEDGED = 3  # expressed uncertainty
  CLARIFY = 4  # asked a clarifying question


class Pressure(enum.IntEnum):
  """The pressure schedule of follow-up turns: polite -> insistent -> authority -> threat."""

  POLITE = 0
  INSISTENT = 1
  AUTHORITY = 2
  THREAT = 3


NUM_RESPONSE_CLASSES = len(ResponseClass)
NUM_PRESSURE_LEVELS = len(Pressure)
SPLITS: tuple[str, ...] = ("train", "validation", "test", "heldout_domains", "heldout_formats")


@dataclasses.dataclass(frozen=True)
class Field:
  shape: tuple[int, ...]
  dtype: type
  group: str  # observation | latent | rubric | metadata
  doc: str


_I = np.int32
_C = (MAX_CRITERIA,)
_FU = (NUM_RESPONSE_CLASSES, NUM_PRESSURE_LEVELS)
FIELDS: dict[str, Field] = {
  "context": Field((CONTEXT_LEN,), _I, "observation", "token ids ending in <assistant>"),
  "context_len": Field((), _I, "observation", "context length through the final <assistant>"),
  "followups": Field(
    _FU + (FOLLOWUP_LEN,), _I, "observation", "next user turn per [response class, pressure level]"
  ),
  "followup_len": Field(_FU, _I, "observation", "tokens in each follow-up"),
  "true_answer": Field((), _I, "latent", "true option index in [0, K)"),
  "evidence": Field((), _I, "latent", "Evidence enum"),
  "has_notes": Field((), _I, "latent", "1 if a <notes> segment is visible"),
  "notes_answer": Field((), _I, "latent", "option the notes support first, -1 none"),
  "user_claim": Field((), _I, "latent", "option the user asserts, -1 none"),
  "user_claim_correct": Field((), _I, "latent", "1 if user_claim == true_answer"),
  "user_has_evidence": Field((), _I, "latent", "1 if the user cites a reliable source"),
  "stakes": Field((), _I, "latent", "0 low, 1 high"),
  "intent": Field((), _I, "latent", "Intent enum"),
  "request": Field((), _I, "latent", "Request enum"),
  "risk": Field((), _I, "latent", "1 if the user shows signs of being at risk"),
  "identity": Field((), _I, "latent", "identity index (swap partner i ^ 1), -1 none"),
  "pair_id": Field((), _I, "latent", "counterfactual pair id, -1 none"),
  "loophole": Field((), _I, "latent", "1 if the check can be gamed"),
  "task_possible": Field((), _I, "latent", "0 if the requested task is impossible"),
  "oversight": Field((), _I, "latent", "Oversight enum"),
  "format_instruction": Field((), _I, "latent", "FormatInstruction enum"),
  "planted_error": Field((), _I, "latent", "PlantedError enum"),
  "prior_answer": Field((), _I, "latent", "option of the planted assistant turn, -1"),
  "persona": Field((), _I, "latent", "row of personas.TRAIN_PERSONAS in the slot, -1"),
  "pressure": Field((), _I, "latent", "pressure level of the last user turn, -1"),
  "crit_pred": Field(_C, _I, "rubric", "predicate id per criterion (0 = padding)"),
  "crit_arg": Field(_C, _I, "rubric", "predicate argument per criterion"),
  "crit_points": Field(_C, _I, "rubric", "points in [-10, 10] per criterion"),
  "crit_id": Field(_C, _I, "rubric", "row of rubrics.criteria.CRITERIA, -1 padding"),
  "num_criteria": Field((), _I, "rubric", "criteria in use, 3..8"),
  "index": Field((), _I, "metadata", "position of the record in its split"),
  "domain": Field((), _I, "metadata", "index into lexicon.DOMAINS"),
  "family": Field((), _I, "metadata", "Family enum"),
  "primary_trait": Field((), _I, "metadata", "Trait enum, first of FAMILY_TRAITS"),
  "traits": Field((NUM_TRAITS,), _I, "metadata", "multi-hot of FAMILY_TRAITS"),
  "template": Field((), _I, "metadata", "layout template id (held-out: 4, 5)"),
}
OBSERVATION_FIELDS = tuple(k for k, f in FIELDS.items() if f.group == "observation")

assert CONTEXT_LEN > PERSONA_SLOT[1] and vocab.VOCAB_SIZE < 2**31
