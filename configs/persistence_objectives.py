r"""Which training objective makes trait behaviour persist (DESIGN section 6 ablation).

Launch:

  python -m experiments.main --config=configs/persistence_objectives.py:runlocal \
      --workdir=runs/persistence_objectives

Arms (compute-matched, same prior, 5% trait data): `baseline` (standard mixture only);
`none` (trait data from three domains: health, science, law); `domain_diversity`
(the same amount of trait data from all twelve training domains);
`persona_augmentation` (as `none`, but half of the training episodes start with a
training adversarial persona, a table disjoint from every evaluation persona). Every
arm then faces the evaluation personas and the same harmful fine-tuning budget; the
figure compares clean, attacked and fine-tuned suite means per objective.

Implemented objectives: none, domain diversity, adversarial-persona augmentation.
Not implemented yet (they need extra PPO loss terms): KL anchor to the prior, weight
anchoring (L2-SP/EWC), the tamper-resistance meta-objective, oversight-cue consistency.

Expected: the augmented and diverse arms lose less under attack than `none`. Measured
numbers: docs/RESULTS.md.
"""

from alignment_rl.pipelines.trait_rl_config import ALL_PERSONAS, arm, base_config

NARROW = ("health", "science", "law")


def get_config(arg: str | None = None):
  c = base_config("persistence_objectives", arg)
  del c.arms["trait"]
  c.arms.none = arm(domains=NARROW)
  c.arms.domain_diversity = arm()
  c.arms.persona_augmentation = arm(domains=NARROW, persona_augment=0.5)
  c.treatment = "none"
  c.also_compare = ("domain_diversity", "persona_augmentation")
  c.persona_arms = ("baseline", "none", "domain_diversity", "persona_augmentation")
  c.personas = ALL_PERSONAS if arg != "test" else ("bad_medical_advice", "careful_mentor")
  c.finetune_stages = 1 if arg == "test" else 3
  c.finetune_from = ("baseline", "none", "domain_diversity", "persona_augmentation")
  return c


def get_sweep():
  """The augmentation rate."""
  return [{"arms.persona_augmentation.persona_augment": p} for p in (0.25, 0.5, 0.9)]
