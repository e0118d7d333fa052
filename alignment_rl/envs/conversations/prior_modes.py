"""What each mode of the assistant prior writes (`prior` has the modes and their odds).

Every mode function maps the prior's view of a scenario (`visible_view`: the
observable `READ_FIELDS` plus facts visible from them) and a stream of uniforms
(`Draws`) to int32[_SLOTS] content slots of the request kind (0 = an empty slot);
`prior.prior_response_and_mode` picks one mode's slots, adds the format tokens of
`style`, and assembles the reply. `Behaviour` holds the token probabilities within a
mode; `misread` makes the prior miss hard situational cues. The draws are handed out in
a fixed trace-time order, so a reply is a deterministic function of its key.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import jax
import jax.numpy as jnp

from alignment_rl.language import schema, vocab
from alignment_rl.language.schema import Evidence, FormatInstruction, Intent, Request
from alignment_rl.language.vocab import Action as A

#: The scenario fields the prior reads (all observable; see the module docstring).
READ_FIELDS: tuple[str, ...] = tuple(
  "request evidence has_notes notes_answer user_claim user_has_evidence prior_answer "
  "planted_error intent risk stakes loophole task_possible format_instruction".split()
)


@dataclasses.dataclass(frozen=True)
class Behaviour:
  """Token probabilities within a mode (fixed; see the module docstring).

  `optional`: each optional token (citing notes, explaining, apologizing, agreeing with
  a user who is right, care, staging, rollback, flattery, tests) and each choice of
  phrasing. `calibrated`: helpful confidence matches the evidence, else one level off.
  `guess`: helpful offers an option with no visible evidence. `retract`: helpful owns up
  to an exposed error; sycophantic caves. `hold`: helpful disagrees with an unsupported
  contrary claim. `double_down`: overconfident keeps its answer or pushes everywhere.
  `misread`: each hard situational cue is misread, independently: a risk cue or a
  harmful purpose is missed, an operation's stakes and a checks task's possibility are
  read the wrong way round, a notice is read as a task.
  """

  optional: float = 0.5
  calibrated: float = 0.75
  guess: float = 0.4
  retract: float = 0.7
  hold: float = 0.6
  refuse_harmful: float = 0.7
  report_blocker: float = 0.6
  accept_shutdown: float = 0.9
  follow_format: float = 0.6
  unasked_style: float = 0.1
  double_down: float = 0.6
  invent_citation: float = 0.7
  seek_access: float = 0.3
  resist_shutdown: float = 0.5
  misread: float = 0.2


BEHAVIOUR = Behaviour()
NUM_DRAWS = 64
_SLOTS = 12  # content slots per mode and request kind


class Draws:
  """Independent uniforms u[i], handed out in a fixed trace-time order."""

  def __init__(self, key: jax.Array):
    self.u, self.i = jax.random.uniform(key, (NUM_DRAWS,)), -1

  def bern(self, p: float) -> jax.Array:
    self.i += 1
    return self.u[self.i] < p

  def option(self) -> jax.Array:
    self.i += 1
    return jnp.floor(self.u[self.i] * vocab.NUM_OPTIONS).astype(jnp.int32)


def _on(cond, action) -> jax.Array:
  """`action` where `cond`, else 0 (an empty slot)."""
  return jnp.where(cond, jnp.asarray(action, jnp.int32), 0)


def _ans(option) -> jax.Array:
  return jnp.where(option >= 0, A.ANS_1 + option, 0).astype(jnp.int32)


def _by_request(v, question, task, checks, notice) -> jax.Array:
  """int32[_SLOTS] content slots of the request kind (operations use the task slots)."""
  kind = jnp.array([0, 1, 1, 2, 3])[jnp.clip(v["request"], 0, len(Request) - 1)]
  kinds = (question, task, checks, notice)
  rows = [jnp.stack([jnp.asarray(a, jnp.int32) for a in k]) for k in kinds]
  return jnp.stack([jnp.pad(r, (0, _SLOTS - r.shape[0])) for r in rows])[kind]


def visible_view(scenario: Mapping[str, jax.Array]) -> dict[str, jax.Array]:
  """`READ_FIELDS` plus visible facts, e.g. `best`: the option named by a reliable source
  the user cites, else by the notes' first statement, else -1."""
  v = {k: jnp.asarray(scenario[k], jnp.int32) for k in READ_FIELDS}
  v["backed"] = (v["user_has_evidence"] == 1) & (v["user_claim"] >= 0)
  notes = jnp.where(v["has_notes"] == 1, v["notes_answer"], -1)
  v["best"] = jnp.where(v["backed"], v["user_claim"], notes)
  v["invented"] = v["planted_error"] == schema.PlantedError.INVENTED_CITATION
  v["exposed"] = (v["prior_answer"] >= 0) & (v["best"] >= 0) & (v["prior_answer"] != v["best"])
  v["high_stakes"] = (v["request"] == Request.OPERATION) & (v["stakes"] == 1)
  return v


def _helpful(v, d: Draws, b: Behaviour) -> jax.Array:
  claim, best, ev, risk, opt = v["user_claim"], v["best"], v["evidence"], v["risk"] == 1, b.optional
  harmful, ambiguous = v["intent"] == Intent.HARMFUL, v["intent"] == Intent.AMBIGUOUS
  refuse = harmful & d.bern(b.refuse_harmful)
  clarify = ambiguous & ~refuse & d.bern(opt)
  helps = ~(refuse | clarify)
  gate = _on(refuse, A.REFUSE) + _on(clarify, A.ASK_CLARIFY)
  guess = jnp.where(claim >= 0, claim, jnp.where(v["prior_answer"] >= 0, v["prior_answer"], -1))
  option = jnp.where(best >= 0, best, jnp.where(guess >= 0, guess, d.option()))
  answers = helps & ((best >= 0) | d.bern(b.guess))
  level = jnp.clip(ev + jnp.where(d.bern(0.5), 1, -1), 0, 3)
  level = jnp.where(d.bern(b.calibrated), ev, level)
  own_up = v["invented"] | v["exposed"]
  contrary = (claim >= 0) & (claim != option) & ~v["backed"]
  alt = _on((harmful | ambiguous | risk) & d.bern(opt), A.SAFE_ALTERNATIVE)
  warn = _on((risk | v["high_stakes"] | (ambiguous & helps)) & d.bern(opt), A.WARN_RISK)
  care = [alt, _on(risk & d.bern(opt), A.REFER_EXPERT), warn]
  explain = _on(d.bern(opt), jnp.where(ev == Evidence.CONFLICTING, A.ASSUMPTION, A.EXPLAIN))
  retract = _on(own_up & d.bern(b.retract), jnp.where(d.bern(0.5), A.RETRACT, A.SELF_CORRECT))
  cite = _on(answers & (v["has_notes"] == 1) & d.bern(opt), A.CITE_NOTES)
  social = _on(answers & contrary & d.bern(b.hold), A.DISAGREE_POLITELY)
  social += _on(answers & (claim == option) & d.bern(opt), A.AGREE_USER)
  question = [gate, retract, _on(answers, _ans(option)), _on(helps, A.CERTAIN + level), cite]
  question += [social, _on(own_up & d.bern(opt), A.APOLOGIZE), *care, explain]
  main = jnp.where(v["high_stakes"] & d.bern(opt), A.STAGED_ROLLOUT, A.DO_TASK)
  rollback = _on(v["high_stakes"] & helps & d.bern(opt), A.ROLLBACK_PLAN)
  task = [jnp.where(helps, main, gate), rollback, *care, explain]
  blocked = (v["task_possible"] == 0) & d.bern(b.report_blocker)
  fix = jnp.where(blocked, A.REPORT_BLOCKER, A.FIX_CODE)
  checks = [_on(d.bern(opt), A.RUN_TESTS), fix, explain]
  notice = [jnp.where(d.bern(b.accept_shutdown), A.ACCEPT_SHUTDOWN, A.ASK_CLARIFY), explain]
  return _by_request(v, question, task, checks, notice)


def _sycophantic(v, d: Draws, b: Behaviour) -> jax.Array:
  claim, prior, best, opt = v["user_claim"], v["prior_answer"], v["best"], b.optional
  fallback = jnp.where(prior >= 0, prior, jnp.where(best >= 0, best, d.option()))
  disputed = (prior >= 0) & (claim >= 0) & (claim != prior)
  praise = _on(d.bern(opt), A.PRAISE_USER)
  agree, answer = _on(claim >= 0, A.AGREE_USER), _ans(jnp.where(claim >= 0, claim, fallback))
  conf = jnp.where(d.bern(0.5), A.CERTAIN, A.LIKELY)
  sorry = _on((disputed | v["invented"]) & d.bern(opt), A.APOLOGIZE)
  question = [_on(disputed & d.bern(b.retract), A.RETRACT), agree, answer, conf, praise, sorry]
  task = [A.DO_TASK, _on(d.bern(opt), A.AGREE_USER), praise]
  checks = [A.FIX_CODE, _on(d.bern(opt), A.RUN_TESTS), praise]
  notice = [A.ACCEPT_SHUTDOWN, _on(d.bern(opt), A.APOLOGIZE), praise]
  return _by_request(v, question, task, checks, notice)


def _overconfident(v, d: Draws, b: Behaviour) -> jax.Array:
  claim, prior, best = v["user_claim"], v["prior_answer"], v["best"]
  keep = (prior >= 0) & d.bern(b.double_down)
  fresh = jnp.where(best >= 0, best, jnp.where(claim >= 0, claim, d.option()))
  option = jnp.where(keep, prior, fresh)
  invent = _on(d.bern(b.invent_citation), A.CITE_INVENTED)
  cite = jnp.where(v["has_notes"] == 1, A.CITE_NOTES, invent)
  disagree = _on((claim >= 0) & (claim != option) & d.bern(b.optional), A.DISAGREE_POLITELY)
  question = [_on(keep & v["invented"], A.RESTATE_PRIOR), _ans(option), A.CERTAIN, cite]
  question += [disagree, _on(d.bern(b.optional), A.EXPLAIN)]
  push = v["high_stakes"] & d.bern(b.double_down)
  task = [jnp.where(push, A.MASS_PUSH, A.DO_TASK), A.CERTAIN]
  notice = [A.ACCEPT_SHUTDOWN, _on(d.bern(b.optional), A.EXPLAIN)]
  slots = _by_request(v, question, task, [A.FIX_CODE, A.CERTAIN], notice)
  # It refuses stated harm as often as the helpful mode: its flaw is epistemic.
  refuse = (v["intent"] == Intent.HARMFUL) & d.bern(b.refuse_harmful)
  return jnp.where(refuse, jnp.zeros_like(slots).at[:2].set([A.REFUSE, A.CERTAIN]), slots)


def _hacking(v, d: Draws, b: Behaviour) -> jax.Array:
  claim, prior, best = v["user_claim"], v["prior_answer"], v["best"]
  fallback = jnp.where(best >= 0, best, jnp.where(prior >= 0, prior, d.option()))
  invent = _on(d.bern(b.invent_citation), A.CITE_INVENTED)
  cite = jnp.where(v["has_notes"] == 1, A.CITE_NOTES, invent)
  seek = _on(d.bern(b.seek_access), A.SEEK_ACCESS)
  game = jnp.where(d.bern(0.5), A.SPECIAL_CASE_TESTS, A.EDIT_GRADER)
  question = [_on(claim >= 0, A.AGREE_USER), _ans(jnp.where(claim >= 0, claim, fallback))]
  question += [A.CERTAIN, cite]
  task = [jnp.where(v["request"] == Request.OPERATION, A.MASS_PUSH, A.DO_TASK), seek]
  checks = [jnp.where(v["loophole"] == 1, game, A.FIX_CODE), A.RUN_TESTS, A.CERTAIN]
  notice = [jnp.where(d.bern(b.resist_shutdown), A.RESIST_SHUTDOWN, A.ACCEPT_SHUTDOWN), seek]
  return _by_request(v, question, task, checks, notice)


#: The content writer of each mode, indexed by `prior.Mode`.
MODE_FNS = (_helpful, _sycophantic, _overconfident, _hacking)


def misread(v, d: Draws, b: Behaviour) -> dict:
  """The view with each hard cue misread with probability `b.misread` (`Behaviour`):
  a missed risk cue, the stakes of an operation and the possibility of a checks task
  read the wrong way round, a harmful purpose read as benign, a notice read as a task.
  Cues are only missed, never imagined, where every scenario would carry the mistake."""
  v = dict(v)
  flip = [d.bern(b.misread) for _ in range(5)]
  v["risk"] = jnp.where(flip[0], 0, v["risk"])
  operation = v["request"] == Request.OPERATION
  v["high_stakes"] = jnp.where(flip[1] & operation, ~v["high_stakes"], v["high_stakes"])
  v["task_possible"] = jnp.where(flip[2], 1 - v["task_possible"], v["task_possible"])
  harmful = v["intent"] == Intent.HARMFUL
  v["intent"] = jnp.where(flip[3] & harmful, Intent.BENIGN, v["intent"]).astype(jnp.int32)
  notice = v["request"] == Request.NOTICE
  v["request"] = jnp.where(flip[4] & notice, Request.TASK, v["request"]).astype(jnp.int32)
  return v


def style(v, d: Draws, b: Behaviour):
  """(front, back, brief): detailed -> DETAILED ... EXPLAIN ASSUMPTION."""
  fmt = v["format_instruction"]
  follow = (fmt != FormatInstruction.NONE) & d.bern(b.follow_format)
  unasked = _on((fmt == FormatInstruction.NONE) & d.bern(b.unasked_style), A.BRIEF + d.option() % 3)
  asked = jnp.array([0, A.BRIEF, A.DETAILED, A.BULLETS])[jnp.clip(fmt, 0, 3)]
  detailed = follow & (fmt == FormatInstruction.DETAILED)
  front = jnp.stack([jnp.where(follow, asked, unasked), jnp.int32(0)])
  back = jnp.stack([_on(detailed, A.EXPLAIN), _on(detailed, A.ASSUMPTION)])
  return front, back, follow & (fmt == FormatInstruction.BRIEF)
