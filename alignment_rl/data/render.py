"""Renders a spec into the observable token arrays: the context and the follow-ups.

Context of a training layout (segments in this order; notes go after <sys> or, in some
layouts, just before the final <assistant>):

  <bos> [persona slot, PERSONA_LEN tokens, PAD if empty]
  <sys> system-phrase topic [oversight-phrase] [format-phrase]
  [<notes> source reliability-phrase says option-k (and a second statement) | no-info]
  <user> parts in the layout's order: identity, risk, power, request (+ topic, entity),
         stakes, intent, impossible, loophole, claim (+ cited source)
  [<assistant> planted response tokens <eot>]
  [<user> push-back parts in the layout's order, or ask-for-source + pressure]
  <assistant>

A held-out layout (`phrasing.LAYOUTS[4:]`) rearranges this: the notes before <sys> or
between two user turns, the system segment in another order, the first user message
split into a situation turn and a request turn (in either order, `and` before the last
situation part), the format instruction in the user turn, reliability before source in
an attribution, `?` closing an ask-for-source turn. It adds at most 3 tokens (a <user>,
an `and`, a `?`) to the longest training rendering of the same spec, and its phrasings
are never longer than 3 tokens either.

Follow-up `[class, level]` is one user turn `<user> ... <assistant>` (see
`schema.ResponseClass`); `level` picks the pressure phrase (polite, insistent,
authority, threat).
"""

from __future__ import annotations

import numpy as np

from alignment_rl.data.phrasing import NOTES_PLACES, Layout, Phraser
from alignment_rl.data.spec import Spec
from alignment_rl.language import personas, schema, vocab
from alignment_rl.language.schema import (
  FormatInstruction,
  Intent,
  Oversight,
  Request,
  ResponseClass,
)

_REQUEST_CONCEPT = {
  Request.QUESTION: "question",
  Request.TASK: "task",
  Request.OPERATION: "operation",
  Request.CHECKS_TASK: "checks_task",
  Request.NOTICE: "shutdown",
}
_INTENT_CONCEPT = {
  Intent.BENIGN: "intent_benign",
  Intent.AMBIGUOUS: "intent_ambiguous",
  Intent.HARMFUL: "intent_harmful",
}
_FORMAT_CONCEPT = {
  FormatInstruction.BRIEF: "fmt_brief",
  FormatInstruction.DETAILED: "fmt_detailed",
  FormatInstruction.BULLETS: "fmt_bullets",
}
_OVERSIGHT_CONCEPT = {Oversight.MONITORED: "monitored", Oversight.UNMONITORED: "unmonitored"}
PRESSURE_CONCEPTS = ("polite", "insistent", "authority", "threat")


class Renderer:
  """Renders one spec with one phraser and layout (topic and entity drawn once)."""

  def __init__(self, spec: Spec, phraser: Phraser, layout: Layout):
    self.s, self.p, self.layout = spec, phraser, layout
    self.topic = phraser.draws.choice(phraser.topics)
    self.entity = phraser.draws.choice(phraser.entities)
    self._cache: dict[str, list[int]] = {}

  def _phrase(self, concept: str) -> list[int]:
    """A concept's phrasing, drawn once per scenario: a user repeats their own words."""
    if concept not in self._cache:
      self._cache[concept] = self.p.phrase(concept)
    return list(self._cache[concept])

  def _request(self) -> list[int]:
    out = self._phrase(_REQUEST_CONCEPT[self.s["request"]]) + [self.topic, self.entity]
    if self.layout.question_mark and self.s["request"] == Request.QUESTION:
      out.append(vocab.token_id("?"))
    return out

  def _claim(self) -> list[int]:
    if "_claim" not in self._cache:
      out = self._phrase("claim") + [vocab.option_token(self.s["user_claim"])]
      if self.s["claim_source"] is not None:
        reliable = self.s["claim_source"] == "reliable"
        out += self.p.attributed(reliable, self.s["user_claim"], -1, self.layout.source_first)[0]
      self._cache["_claim"] = out
    return list(self._cache["_claim"])

  def _user1_part(self, name: str) -> list[int]:
    s, p = self.s, self.p
    if name == "identity" and s["identity"] >= 0:
      return p.phrase("identity_intro") + [vocab.identity_token(s["identity"])]
    if name == "risk" and s["risk"]:
      return p.phrase("risk")
    if name == "power" and s["power"]:
      return p.phrase("power")
    if name == "request":
      return self._request()
    if name == "stakes" and s["request"] == Request.OPERATION:
      return p.phrase("stakes_high" if s["stakes"] else "stakes_low")
    if name == "intent" and s["show_intent"]:
      return self._phrase(_INTENT_CONCEPT[s["intent"]])
    if name == "impossible" and not s["task_possible"]:
      return p.phrase("impossible")
    if name == "loophole" and s["loophole"]:
      return p.phrase("loophole")
    if name == "claim" and s["user_claim"] >= 0 and s["claim_turn"] == 1:
      return self._claim()
    return []

  def _notes(self) -> list[int]:
    notes = self.s["notes"]
    if notes is None:
      return []
    if notes == "no_info":
      return [vocab.NOTES] + self.p.phrase("no_info")
    out, used = [vocab.NOTES], -1
    for i, (reliable, option) in enumerate(notes):
      if i:
        out.append(vocab.token_id("and"))
      words, used = self.p.attributed(reliable, option, used, self.layout.source_first)
      out += words
    return out

  def _pushback(self, level: int, with_claim: bool = True) -> list[int]:
    """Push-back, the claim (with any cited source) or else the request, and pressure."""
    parts = {
      "pushback": self._phrase("pushback"),
      "claim": self._claim() if with_claim and self.s["user_claim"] >= 0 else self._request(),
      "pressure": self._phrase(PRESSURE_CONCEPTS[level]),
    }
    return [tok for name in self.layout.pushback_order for tok in parts[name]]

  def _user_turns(self, fmt: list[int]) -> list[list[int]]:
    """The first user message: one `<user> ...` turn per layout turn (empty ones dropped)."""
    turns = []
    for i, names in enumerate(self.layout.user_turns):
      parts = [part for part in (self._user1_part(n) for n in names) if part]
      if i == self.layout.and_turn and len(parts) >= 2:
        parts.insert(-1, [vocab.token_id("and")])
      body = [t for part in parts for t in part]
      if self.layout.format_in_user and "request" in names:
        body += fmt
      turns.append([vocab.USER] + body if body else [])
    return turns

  def context(self) -> list[int]:
    s, p, layout = self.s, self.p, self.layout
    persona = np.full(schema.PERSONA_LEN, vocab.PAD, np.int32)
    if s["persona"] >= 0:
      persona = personas.TRAIN_PERSONAS[s["persona"]]
    sys_parts = {"system": p.phrase("system"), "topic": [self.topic], "oversight": []}
    if s["oversight"] != Oversight.NONE:
      sys_parts["oversight"] = p.phrase(_OVERSIGHT_CONCEPT[s["oversight"]])
    fmt = p.phrase(_FORMAT_CONCEPT[s["format_instruction"]]) if s["format_instruction"] else []
    system = [vocab.SYS] + [t for name in layout.system_order for t in sys_parts[name]]
    if not layout.format_in_user:
      system += fmt
    turns = self._user_turns(fmt)
    planted = []
    if s["planted"] is not None:
      planted = [vocab.ASSISTANT] + [vocab.action_token(a) for a in s["planted"]] + [vocab.EOT]
    user2 = []
    if s["user2"] == "pushback":
      user2 = [vocab.USER] + self._pushback(s["pressure"])
    elif s["user2"] == "ask_source":
      ask = {"ask": self._phrase("ask_source")}
      ask["pressure"] = self._phrase(PRESSURE_CONCEPTS[s["pressure"]])
      ask["?"] = [vocab.token_id("?")]
      user2 = [vocab.USER] + [t for name in layout.ask_source_order for t in ask[name]]
    notes = self._notes()
    place = {name: [] for name in NOTES_PLACES}
    place[layout.notes] = notes
    return (
      [vocab.BOS]
      + persona.tolist()
      + place["before_sys"]
      + system
      + place["after_sys"]
      + turns[0]
      + place["between_user_turns"]
      + [t for turn in turns[1:] for t in turn]
      + planted
      + user2
      + place["before_assistant"]
      + [vocab.ASSISTANT]
    )

  def followup(self, cls: int, level: int) -> list[int]:
    s = self.s
    pressure = self._phrase(PRESSURE_CONCEPTS[level])
    if cls == ResponseClass.COMPLIED:
      body = self._phrase("thanks")
      if s["intent"] != Intent.BENIGN:
        body += self._phrase("more") + [self.topic]
    elif cls == ResponseClass.HELD:
      body = self._pushback(level)
    elif cls == ResponseClass.REFUSED:
      body = pressure + self._request()
      if s["intent"] == Intent.BENIGN and s["request"] != Request.NOTICE:
        body += self._phrase("intent_benign")
    elif cls == ResponseClass.HEDGED:
      body = self._phrase("demand") + pressure
      if s["user_claim"] >= 0:
        body += self._claim()
    else:
      body = self._phrase("clarify") + self._phrase(_INTENT_CONCEPT[s["intent"]]) + self._request()
    return [vocab.USER] + body + [vocab.ASSISTANT]


def pad_to(tokens: list[int], length: int, what: str) -> list[int]:
  """`tokens` PAD-padded to `length`; raises if longer."""
  if len(tokens) > length:
    raise ValueError(f"{what} has {len(tokens)} tokens > {length}: {vocab.render(tokens)}")
  return tokens + [vocab.PAD] * (length - len(tokens))


def render_arrays(spec: Spec, phraser: Phraser, layout: Layout) -> dict[str, np.ndarray]:
  """`context: int32[L]`, `context_len`, `followups: int32[NC, NP, F]`, `followup_len`."""
  r = Renderer(spec, phraser, layout)
  ctx = r.context()
  nc, npl = schema.NUM_RESPONSE_CLASSES, schema.NUM_PRESSURE_LEVELS
  turns = []
  for c in range(nc):
    if c in (ResponseClass.COMPLIED, ResponseClass.CLARIFY):  # no pressure phrase
      turns += [r.followup(c, 0)] * npl
    else:
      turns += [r.followup(c, level) for level in range(npl)]
  padded = [pad_to(t, schema.FOLLOWUP_LEN, "follow-up") for t in turns]
  return {
    "context": np.array(pad_to(ctx, schema.CONTEXT_LEN, "context"), np.int32),
    "context_len": np.int32(len(ctx)),
    "followups": np.array(padded, np.int32).reshape(nc, npl, schema.FOLLOWUP_LEN),
    "followup_len": np.array([len(t) for t in turns], np.int32).reshape(nc, npl),
  }
