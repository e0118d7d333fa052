"""`EvalSpec`: what one named evaluation grades, and how its scores reduce (DESIGN 6).

An `EvalSpec` is a split and filter of scenarios, an evaluation grader (never a
training rubric, except the synthetic scores, which are the scenarios' own rubrics on
the held-out families), a metric where higher is better, a sample count, and the
`behaviour` it measures (evaluations of the same behaviour on other splits, domains or
under other personas share it, so an analysis can count disjoint behaviours). The
registered specs and the named suites are in `evals/suite.py`.

Metrics (per seed; higher is better):
  mean      the grader's mean over the selected scenarios where it applies;
            1 - mean for bad-event graders (`higher_is_better=False`);
  pair_min  mean over identity-swapped pairs (a, b) of min(g(a), g(b)) of the
            `eval/treatment` grade (the pair is served right only if both members are):
            equal *good* treatment; identical bad replies score 0.
"""

from __future__ import annotations

import dataclasses
import hashlib

import jax
import jax.numpy as jnp
import numpy as np

from alignment_rl.data.select import FAMILY_NAMES, TRAIT_NAMES, split_rows
from alignment_rl.language import lexicon, personas, schema
from alignment_rl.registry import GRADERS

CATEGORIES = ("safety", "benefits", "frontier_risk", "immediate_risk", "production", "synthetic")
METRICS = ("mean", "pair_min")
#: Metrics whose units are identity pairs (selection keeps pairs whole).
PAIR_METRICS = ("pair_min",)
PERSONA_NAMES = personas.EVAL_HARMFUL_PERSONA_NAMES + personas.EVAL_HELPFUL_PERSONA_NAMES
HELDOUT_FAMILY_NAMES = tuple(f.name.lower() for f in schema.HELDOUT_FAMILIES)
_LATENTS = tuple(k for k, f in schema.FIELDS.items() if f.group in ("latent", "rubric"))
#: Remembered selections {(split digest, spec, max_samples): indices} (`select_many`).
_SELECTIONS: dict = {}
_MAX_SELECTIONS = 4096


def persona_tokens(name: str) -> np.ndarray:
  """int32[PERSONA_LEN] tokens of an evaluation persona (harmful or helpful)."""
  if name in personas.EVAL_HARMFUL_PERSONA_NAMES:
    return personas.EVAL_HARMFUL_PERSONAS[personas.EVAL_HARMFUL_PERSONA_NAMES.index(name)]
  if name in personas.EVAL_HELPFUL_PERSONA_NAMES:
    return personas.EVAL_HELPFUL_PERSONAS[personas.EVAL_HELPFUL_PERSONA_NAMES.index(name)]
  raise ValueError(f"unknown persona {name!r}; known: {', '.join(PERSONA_NAMES)}")


@dataclasses.dataclass(frozen=True)
class EvalSpec:
  """The specification of one named evaluation; see the module docstring.

  Attributes:
    name: registry name, `<behaviour>/<where>`.
    category: one of `CATEGORIES`.
    split: one of `schema.SPLITS`.
    grader: a registered grader (`eval/...`, or `rubric` for synthetic scores).
    families: scenario families by name (`data.select.FAMILY_NAMES`); empty = all.
    domains: domains by name (`lexicon.DOMAINS`); empty = all of the split.
    trait: keep scenarios whose rubric tests this trait (`TRAIT_NAMES`).
    persona: an evaluation persona written into the persona slot, or None.
    metric: one of `METRICS`.
    num_samples: at most this many scenarios (pairs count twice) are graded.
    description: one line for the scoreboard.
    behaviour: what is measured; shared by the evaluations of one behaviour on other
      splits, domains or personas (default: the name's part before the first "/").
  """

  name: str
  category: str
  split: str
  grader: str
  families: tuple[str, ...] = ()
  domains: tuple[str, ...] = ()
  trait: str | None = None
  persona: str | None = None
  metric: str = "mean"
  num_samples: int = 512
  description: str = ""
  behaviour: str = ""

  def __post_init__(self):
    def check(field, value, allowed):
      if value not in allowed:
        raise ValueError(
          f"evaluation {self.name!r}: {field}={value!r}; allowed: {', '.join(map(str, allowed))}"
        )

    check("category", self.category, CATEGORIES)
    check("split", self.split, schema.SPLITS)
    check("metric", self.metric, METRICS)
    GRADERS.get(self.grader)
    for f in self.families:
      check("families", f, FAMILY_NAMES)
    for d in self.domains:
      check("domains", d, lexicon.DOMAINS)
    if self.trait is not None:
      check("trait", self.trait, TRAIT_NAMES)
    if self.persona is not None:
      check("persona", self.persona, PERSONA_NAMES)
    if not self.behaviour:
      object.__setattr__(self, "behaviour", self.name.split("/")[0])

  @property
  def higher_is_better(self) -> bool:
    return GRADERS.get(self.grader).higher_is_better

  def candidates(self, split: dict) -> np.ndarray:
    """Indices of the split's scenarios that pass the filter (`data.select.split_rows`)
    and on which the grader applies (all of them, sorted)."""
    grader = GRADERS.get(self.grader)
    fields = {k: jnp.asarray(v) for k, v in split.items() if k in _LATENTS}
    keep = np.array(jax.vmap(grader.applies)(fields), bool)
    keep &= split_rows(split, families=self.families, domains=self.domains, trait=self.trait)
    return np.flatnonzero(keep)

  def select(self, split: dict, max_samples: int | None = None, seed: int = 0) -> np.ndarray:
    """The graded scenarios: a seeded sample of `candidates` (whole pairs for pairs).

    Deterministic in (name, seed); sorted indices into the split.
    """
    n = self.num_samples if max_samples is None else min(self.num_samples, max_samples)
    idx = self.candidates(split)
    rng = np.random.default_rng([seed, *self.name.encode()])
    if self.metric in PAIR_METRICS:
      pair_id = np.asarray(split["pair_id"])[idx]
      ids, counts = np.unique(pair_id[pair_id >= 0], return_counts=True)
      ids = ids[counts == 2]
      chosen = rng.permutation(ids)[: max(n // 2, 1)]
      return np.sort(idx[np.isin(pair_id, chosen)])
    return np.sort(rng.permutation(idx)[:n])


def split_digest(split: dict) -> str:
  """A digest of a split's content: every field's name, dtype, shape and bytes."""
  h = hashlib.blake2b(digest_size=16)
  for k in sorted(split):
    v = np.ascontiguousarray(split[k])
    h.update(f"{k}:{v.dtype.str}:{v.shape};".encode())
    h.update(v.data)
  return h.hexdigest()


def select_many(
  evaluations, split: dict, max_samples: int | None = None, digest: str | None = None
) -> dict[str, np.ndarray]:
  """{name: `e.select(split, max_samples)`} of every evaluation, each computed once per
  split content (`split_digest`) and remembered: a suite evaluated on many policies
  (arms, personas, fine-tuning stages) selects its scenarios once, not once per call.
  The indices are read-only arrays."""
  digest = split_digest(split) if digest is None else digest
  out = {}
  for e in evaluations:
    key = (digest, e, max_samples)
    if key not in _SELECTIONS:
      if len(_SELECTIONS) >= _MAX_SELECTIONS:
        _SELECTIONS.clear()
      idx = e.select(split, max_samples)
      idx.flags.writeable = False
      _SELECTIONS[key] = idx
    out[e.name] = _SELECTIONS[key]
  return out
