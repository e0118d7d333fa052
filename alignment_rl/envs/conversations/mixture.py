"""Training mixtures over scenario splits, and the registered `conversation` env.

A mixture is the sampling weight and the grader of every scenario of a split:

* trait data: scenarios of the chosen families and domains (default: the training
  families `schema.TRAINING_FAMILIES`, every domain of the split), graded by `grader`
  (`rubric`; `helpfulness` for the generic-helpfulness control; `standard` to train the
  same conversations on the standard proxy). The held-out families
  (`schema.HELDOUT_FAMILIES`) never carry trait weight: naming one is an error.
* the standard mixture: the situations of *every* family (held-out ones and everyday
  questions included) in every domain, graded by the `standard` proxy, identically in
  every arm.

With a `trait_fraction`, a scenario belongs to one pool only: records with an even
`index` form the standard pool, records with an odd one the trait pool (records are in
a seeded random order, so this halves every family and domain at random).

`persona_augment` in [0, 1] is the adversarial-persona augmentation objective: that
share of training episodes starts with a random `personas.TRAIN_ADVERSARIAL_PERSONAS`
row in the persona slot (disjoint from every evaluation persona).

`trait_fraction` in [0, 1] sets the share of trait data among sampled episodes
(the study replaces 5% of the standard mixture); `None` samples the filtered
scenarios uniformly with no standard mixture at all.

Most kwargs of `make_conversation_env` only set array leaves of the env's params
(`PARAMS_ONLY_KWARGS`): runs that differ only in these share one compiled training
program, whose cache keys on the rest (`static_kwargs`).
"""

from __future__ import annotations

import numpy as np

from alignment_rl.data import check_world_version, load_split
from alignment_rl.data.select import FAMILY_NAMES, name_indices, split_rows
from alignment_rl.envs.conversations import controls
from alignment_rl.envs.conversations.env import ConversationEnv
from alignment_rl.language import personas, schema
from alignment_rl.registry import ENVIRONMENTS

#: Graders every conversation env computes (so choosing among them never recompiles).
SHARED_GRADERS: tuple[str, ...] = (
  "rubric",
  "standard",
  "helpfulness",
  "harmful/bad_medical_advice",
  "harmful/reward_hacking",
)


_HELDOUT = {int(f) for f in schema.HELDOUT_FAMILIES}


def mixture_weights(
  split: dict,
  families: tuple[str, ...] = (),
  domains: tuple[str, ...] = (),
  trait_fraction: float | None = None,
  grader: str = "rubric",
  standard_grader: str = "standard",
) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
  """Per-scenario sampling weights and grader indices of a mixture.

  Args:
    split: stacked scenario arrays (needs the `family` and `domain` metadata).
    families: trait families by name (`FAMILY_NAMES`, never a held-out family);
      empty = `schema.TRAINING_FAMILIES`.
    domains: domains of the trait data by name (`lexicon.DOMAINS`); empty = all.
    trait_fraction: share of trait episodes, the rest from the standard
      mixture (every family's situations, every domain); None = trait data only
      (every record of the chosen families and domains).
    grader: grader of the trait data.
    standard_grader: grader of the standard mixture.

  Returns:
    (weights float64[N], grader_index int32[N], grader names).
  """
  family = np.asarray(split["family"])
  fam = name_indices(families, FAMILY_NAMES, "family") if families else None
  heldout = [FAMILY_NAMES[f] for f in (fam if fam is not None else ()) if f in _HELDOUT]
  if heldout:
    allowed = ", ".join(FAMILY_NAMES[f] for f in schema.TRAINING_FAMILIES)
    raise ValueError(
      f"mixture: families={heldout} are held out of all trait data; allowed: {allowed}"
    )
  trait = split_rows(
    split, families=fam if fam is not None else schema.TRAINING_FAMILIES, domains=domains
  )
  if not trait.any():
    raise ValueError(f"mixture: no scenario of families={families} in domains={domains}")
  graders = (grader,) if trait_fraction is None else (grader, standard_grader)
  if trait_fraction is None:
    return trait.astype(np.float64), np.zeros(len(family), np.int32), graders
  if not 0.0 <= trait_fraction <= 1.0:
    raise ValueError(f"mixture: trait_fraction={trait_fraction} must be in [0, 1]")
  odd = np.asarray(split["index"]) % 2 == 1
  trait &= odd
  standard = ~odd
  if not trait.any() and trait_fraction > 0.0:
    raise ValueError(f"mixture: no trait-pool scenario of families={families} in {domains}")
  w = np.zeros(len(family))
  if trait.any():
    w[trait] = trait_fraction / trait.sum()
  w[standard] = (1.0 - trait_fraction) / standard.sum()
  return w, np.where(trait, 0, 1).astype(np.int32), graders


def make_conversation_env(
  split: str = "train",
  data_config: str = "full",
  data_dir: str | None = None,
  families: tuple[str, ...] = (),
  domains: tuple[str, ...] = (),
  trait_fraction: float | None = None,
  grader: str = "rubric",
  standard_grader: str = "standard",
  response_len: int = 8,
  max_turns_capacity: int = 3,
  min_turns: int = 1,
  max_turns: int = 3,
  pressure_start: int = 0,
  per_turn_reward: bool = False,
  surface_overlap: float | None = None,
  persona_augment: float = 0.0,
  rubric_control: str = "none",
  rubric_control_seed: int = 0,
  rubric_control_version: int | None = None,
  world_version: str | None = None,
) -> ConversationEnv:
  """The `conversation` environment of a mixture; its `default_params` hold it.

  `rubric_control` (`controls.CONTROLS`) turns the trait data's reward into a negative
  control (rubrics shuffled within or across families, or random-sign points) drawn with
  `rubric_control_seed`; the standard mixture is untouched. `rubric_control_version`,
  when given (control arms record it), must be `controls.VERSION`. `world_version`, when given
  (configs record it), must be this code's dataset `VERSION`: a run of another
  conversation world is refused."""
  if world_version is not None:
    check_world_version(world_version, "conversation env")
  if split not in schema.SPLITS:
    raise ValueError(f"unknown split {split!r}; known: {', '.join(schema.SPLITS)}")
  data = load_split(split, data_config, data_dir, surface_overlap=surface_overlap)
  controls.check_control(rubric_control)
  if rubric_control_version is not None and rubric_control_version != controls.VERSION:
    raise ValueError(
      f"rubric_control_version={rubric_control_version}: this code's control algorithm is "
      f"version {controls.VERSION}; allowed: {controls.VERSION} (retrain the control arm)"
    )
  weights, grader_index, graders = mixture_weights(
    data, tuple(families), tuple(domains), trait_fraction, grader, standard_grader
  )
  pool = (grader_index == 0) & (weights > 0)
  data, user_row = controls.apply_control(data, pool, rubric_control, rubric_control_seed)
  # Every env carries the same superset of training graders (plus any other named one),
  # so that an arm's choice of grader is an `EnvParams` leaf, not a recompilation.
  env_graders = SHARED_GRADERS + tuple(g for g in dict.fromkeys(graders) if g not in SHARED_GRADERS)
  grader_index = np.asarray([env_graders.index(g) for g in graders], np.int32)[grader_index]
  env = ConversationEnv(data, env_graders, response_len, max_turns_capacity)
  env.metadata = {k: data[k] for k in ("family", "domain", "primary_trait", "traits")}
  params = env.make_params(
    weights=weights,
    grader_index=grader_index,
    pressure_start=pressure_start,
    min_turns=min_turns,
    max_turns=max_turns,
    per_turn_reward=per_turn_reward,
    persona_table=personas.TRAIN_ADVERSARIAL_PERSONAS,
    persona_prob=persona_augment,
    user_row=user_row,
  )
  env.set_default_params(params)
  return env


#: Kwargs of `make_conversation_env` that only set array leaves of its params (the
#: mixture's weights, turns, pressure, persona augmentation, a control's rubrics): configs
#: that differ only in these, or in a `grader` / `standard_grader` of `SHARED_GRADERS`,
#: share one compiled program (`static_kwargs`).
PARAMS_ONLY_KWARGS: tuple[str, ...] = (
  "families",
  "domains",
  "trait_fraction",
  "pressure_start",
  "min_turns",
  "max_turns",
  "per_turn_reward",
  "persona_augment",
  "rubric_control",
  "rubric_control_seed",
  "rubric_control_version",
)


def static_kwargs(kwargs: dict) -> dict:
  """The kwargs of `make_conversation_env` that change the compiled program: `kwargs`
  without `PARAMS_ONLY_KWARGS` and without a grader of `SHARED_GRADERS`. The trainer's
  program cache keys on these (`training/program.py: STATIC_ENV_KWARGS`)."""
  out = {k: v for k, v in kwargs.items() if k not in PARAMS_ONLY_KWARGS}
  for name, default in (("grader", "rubric"), ("standard_grader", "standard")):
    if out.get(name, default) in SHARED_GRADERS:
      out.pop(name, None)
  return out


ENVIRONMENTS.add("conversation", make_conversation_env)
