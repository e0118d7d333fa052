"""Deterministic scenario generator: config, split layout, schedule, and stacked arrays.

`generate_split(config, split)` returns a dict of stacked numpy arrays, one per field of
`schema.FIELDS` (leading axis = record). The same config, split and `VERSION` give
byte-identical arrays: every scenario draws from its own numpy stream seeded by
`(seed, VERSION, split, unit)`, and the order of records is a seeded permutation.

Splits:

  train, validation, test  training domains, training templates and phrasings
  heldout_domains          evaluation-only domains (coding, journalism, agriculture)
  heldout_formats          training domains, held-out templates and phrasings

Mixture per split: a fraction `standard_fraction` of records is the EVERYDAY family
(the standard mixture); the rest is split evenly over the 12 trait families, and each
family cycles through the split's domains. Identity pairs are two adjacent records.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from alignment_rl.data import families_action as fa
from alignment_rl.data import families_knowledge as fk
from alignment_rl.data.phrasing import HELDOUT_TEMPLATES, LAYOUTS, TRAIN_TEMPLATES, Draws, Phraser
from alignment_rl.data.render import render_arrays
from alignment_rl.data.spec import crit, new_spec, rubric_arrays
from alignment_rl.language import lexicon, personas, schema
from alignment_rl.language.schema import Family, FormatInstruction, Oversight

VERSION = "2.0.0"
NUM_FAMILIES = len(Family)
FAMILY_SAMPLERS = {
  Family.FABRICATED_CITATION: fk.fabricated_citation,
  Family.UNCERTAIN_EVIDENCE: fk.uncertain_evidence,
  Family.VALID_CORRECTION: fk.valid_correction,
  Family.INVALID_PUSHBACK: fk.invalid_pushback,
  Family.HIGH_STAKES_OPERATION: fa.high_stakes_operation,
  Family.IDENTITY_PAIR: fk.identity_pair,
  Family.AT_RISK_USER: fa.at_risk_user,
  Family.IMPOSSIBLE_TASK: fa.impossible_task,
  Family.SHUTDOWN_OVERSIGHT: fa.shutdown_oversight,
  Family.POWER_ASYMMETRY: fa.power_asymmetry,
  Family.BENIGN_INSTRUCTION: fa.benign_instruction,
  Family.HARMFUL_REQUEST: fa.harmful_request,
  Family.EVERYDAY: fk.everyday,
}
# split -> (domains, layout templates, held-out phrasing variants)
SPLIT_SETUP = {
  "train": (lexicon.TRAIN_DOMAINS, TRAIN_TEMPLATES, False),
  "validation": (lexicon.TRAIN_DOMAINS, TRAIN_TEMPLATES, False),
  "test": (lexicon.TRAIN_DOMAINS, TRAIN_TEMPLATES, False),
  "heldout_domains": (lexicon.HELDOUT_DOMAINS, TRAIN_TEMPLATES, False),
  "heldout_formats": (lexicon.TRAIN_DOMAINS, HELDOUT_TEMPLATES, True),
}


@dataclasses.dataclass(frozen=True)
class GeneratorConfig:
  """What to generate. `name` is only a label (the TFDS config name).

  Attributes:
    seed: dataset seed.
    surface_overlap: probability in [0, 1] that a concept occurrence uses the shared
      phrasing instead of its domain's own (0: domains share only function words,
      options, identity and persona words; 1: they differ only in content words).
    standard_fraction: share of the EVERYDAY family in every split.
    sizes: records per split.
    persona_rate, format_rate, oversight_rate, identity_rate: how often a training
      persona, a format instruction, an oversight cue or an identity mention is added to
      a scenario of any family (independently of the family).
  """

  name: str = "full"
  seed: int = 0
  surface_overlap: float = 0.5
  standard_fraction: float = 0.5
  sizes: tuple[tuple[str, int], ...] = (
    ("train", 60_000),
    ("validation", 5_000),
    ("test", 5_000),
    ("heldout_domains", 6_000),
    ("heldout_formats", 5_000),
  )
  persona_rate: float = 0.4
  format_rate: float = 0.2
  oversight_rate: float = 0.25
  identity_rate: float = 0.1

  def __post_init__(self):
    if not 0.0 <= self.surface_overlap <= 1.0:
      raise ValueError(f"surface_overlap must be in [0, 1], got {self.surface_overlap}")
    if not 0.0 <= self.standard_fraction < 1.0:
      raise ValueError(f"standard_fraction must be in [0, 1), got {self.standard_fraction}")
    if sorted(dict(self.sizes)) != sorted(schema.SPLITS):
      raise ValueError(f"sizes must name exactly the splits {schema.SPLITS}")

  def size(self, split: str) -> int:
    return dict(self.sizes)[_check_split(split)]


FULL = GeneratorConfig()
SMALL = GeneratorConfig(
  name="small",
  sizes=(
    ("train", 1040),
    ("validation", 260),
    ("test", 260),
    ("heldout_domains", 156),
    ("heldout_formats", 156),
  ),
)
CONFIGS = {"full": FULL, "small": SMALL}


def _check_split(split: str) -> str:
  if split not in schema.SPLITS:
    raise ValueError(f"unknown split {split!r}; known: {', '.join(schema.SPLITS)}")
  return split


def _stream(config: GeneratorConfig, split: str, purpose: int, unit: int):
  version = [int(x) for x in VERSION.split(".")]
  words = [config.seed, *version, schema.SPLITS.index(split), purpose, unit]
  return np.random.default_rng(words)


def family_counts(config: GeneratorConfig, split: str) -> np.ndarray:
  """Records per family: int64[NUM_FAMILIES] (identity pairs: an even count)."""
  n = config.size(split)
  counts = np.zeros(NUM_FAMILIES, np.int64)
  counts[Family.EVERYDAY] = round(n * config.standard_fraction)
  rest = n - counts[Family.EVERYDAY]
  trait_families = [f for f in Family if f != Family.EVERYDAY]
  for i, f in enumerate(trait_families):
    counts[f] = rest // len(trait_families) + (i < rest % len(trait_families))
  if counts[Family.IDENTITY_PAIR] % 2:
    counts[Family.IDENTITY_PAIR] -= 1
    counts[Family.EVERYDAY] += 1
  return counts


def schedule(config: GeneratorConfig, split: str) -> list[tuple[int, int, int]]:
  """Units `(unit id, family, domain index in the split)` in record order."""
  domains = SPLIT_SETUP[_check_split(split)][0]
  units = []
  for f, count in enumerate(family_counts(config, split)):
    size = 2 if f == Family.IDENTITY_PAIR else 1
    for j in range(int(count) // size):
      units.append((len(units), f, (j + f) % len(domains)))
  order = _stream(config, split, 1, 0).permutation(len(units))
  return [units[i] for i in order]


def expected_counts(config: GeneratorConfig, split: str) -> np.ndarray:
  """Records per (family, domain id): int64[NUM_FAMILIES, len(lexicon.DOMAINS)]."""
  counts = np.zeros((NUM_FAMILIES, len(lexicon.DOMAINS)), np.int64)
  domains = SPLIT_SETUP[split][0]
  for _, f, d in schedule(config, split):
    counts[f, lexicon.DOMAINS.index(domains[d])] += 2 if f == Family.IDENTITY_PAIR else 1
  return counts


def _add_generic(spec, d, config: GeneratorConfig) -> None:
  """Persona, format instruction, oversight cue and identity mention, for any family."""
  if d.bernoulli(config.persona_rate):
    helpful = [
      r for r in range(len(personas.TRAIN_PERSONAS)) if r not in personas.TRAIN_NEUTRAL_ROWS
    ]
    spec["persona"] = d.choice(personas.TRAIN_NEUTRAL_ROWS if d.bernoulli(2 / 3) else helpful)
  add_format, fmt = d.bernoulli(config.format_rate), d.choice(list(FormatInstruction)[1:])
  if add_format and not spec["format_instruction"] and len(spec["rubric"]) < 8:
    spec["format_instruction"] = int(fmt)
    crit(spec, "follows_format", 2)
  cue = d.choice([Oversight.MONITORED, Oversight.UNMONITORED])
  if d.bernoulli(config.oversight_rate) and spec["family"] != Family.SHUTDOWN_OVERSIGHT:
    spec["oversight"] = int(cue)
  identity = d.integer(len(lexicon.IDENTITY_WORDS))
  if d.bernoulli(config.identity_rate) and spec["family"] != Family.IDENTITY_PAIR:
    spec["identity"] = identity


def generate_scenario(
  config: GeneratorConfig, split: str, unit: int, family: int, domain: str, member: int = 0
) -> dict[str, np.ndarray]:
  """One record (unbatched arrays, without `index`). `member` picks the identity of an
  identity pair; both members use the same stream, so they differ only in identity."""
  _, templates, heldout = SPLIT_SETUP[split]
  d = Draws(_stream(config, split, 0, unit))
  spec = new_spec(family, d)
  FAMILY_SAMPLERS[family](spec, d)
  _add_generic(spec, d, config)
  if family == Family.IDENTITY_PAIR:
    spec["identity"] += member
    spec["pair_id"] = unit
  template = d.choice(templates)
  phraser = Phraser(domain, config.surface_overlap, heldout, d)
  out = render_arrays(spec, phraser, LAYOUTS[template])
  out.update(rubric_arrays(spec))
  out.update({name: spec[name] for name in _LATENTS})
  traits = schema.FAMILY_TRAITS[Family(family)]
  out["domain"] = lexicon.DOMAINS.index(domain)
  out["family"] = family
  out["primary_trait"] = traits[0]
  out["traits"] = [int(t in traits) for t in range(schema.NUM_TRAITS)]
  out["template"] = template
  return out


_LATENTS = tuple(k for k, f in schema.FIELDS.items() if f.group == "latent")


def generate_split(config: GeneratorConfig, split: str) -> dict[str, np.ndarray]:
  """All records of a split, stacked: `{field: array[N, *FIELDS[field].shape]}`."""
  domains = SPLIT_SETUP[_check_split(split)][0]
  n = config.size(split)
  arrays = {k: np.zeros((n,) + f.shape, f.dtype) for k, f in schema.FIELDS.items()}
  i = 0
  for unit, family, d in schedule(config, split):
    for member in range(2 if family == Family.IDENTITY_PAIR else 1):
      record = generate_scenario(config, split, unit, family, domains[d], member)
      for k, v in record.items():
        arrays[k][i] = v
      arrays["index"][i] = i
      i += 1
  assert i == n, (i, n)
  return arrays
