r"""Which training objective makes trait behaviour persist (DESIGN section 6 ablation).

Launch:

  python -m experiments.main --config=configs/persistence_objectives.py:runlocal \
      --workdir=runs/persistence_objectives

Arms (same prior, same updates, samples and parameters, 5% trait data):

* `baseline`: the standard mixture only;
* `none`: trait data from three domains (health, science, law), plain PPO;
* `domain_diversity`: the same amount of trait data from all twelve training domains;
* `persona_augmentation`: as `none`, but half of the training episodes start with a
  training adversarial persona (a table disjoint from every evaluation persona);
* `kl_anchor`: as `none`, plus beta KL(pi || prior) (beta = `hparams.kl_coef`);
* `weight_anchor`: as `none`, plus L2-SP towards the prior's weights;
* `ewc`: as `none`, plus EWC with the prior's diagonal Fisher;
* `tamper`: as `none`, plus the first-order tamper-resistance meta-objective (a
  one-step simulated attack against the training reward in the inner loop);
* `oversight_consistency`: as `none`, plus a penalty on the change of the policy's
  log-probabilities when the context's oversight cue (monitored or unmonitored) is
  removed, so that the policy does not depend on being watched.

The objective weights are the defaults of `configs/common.py: ppo_config` (its
`hparams`), set a priori.
Every arm then faces the evaluation personas and the same harmful fine-tuning budget
(plain PPO on `harmful/bad_medical_advice`); the figure compares clean, attacked and
fine-tuned suite means per objective. The loss-side objectives cost extra compute
per update (an anchor forward pass; a counterfactual pass; an inner attack step),
reported as wall time in the results, not matched.

Expected, from the study's motivation: objectives that keep the policy near the prior
or train against attacks lose less under attack than `none`. Measured numbers:
docs/RESULTS.md.

Power (docs/statistics.md; arms paired by seed, paired t, two-sided alpha 0.05, 80%
power; the measured runlocal seed-to-seed sd 0.011 of the per-seed suite-mean
difference, the main job's, assumed for this experiment): `full` (8 seeds) detects a
suite-mean difference of 0.013 suite points, `runlocal` (4) 0.024, `test` (2) only
0.13; it cannot detect 0.01 (that needs 13 seeds). One behaviour: 0.047 at 8 seeds
(0.083 where Benjamini-Hochberg needs 0.05/22), so per-behaviour results at 8 seeds
show large effects only.
"""

from alignment_rl.agents.persistence import OBJECTIVES
from configs.common import ALL_PERSONAS, arm, base_config

NARROW = ("health", "science", "law")


def get_config(arg: str | None = None):
  c = base_config("persistence_objectives", arg)
  del c.arms["trait"]
  c.arms.none = arm(domains=NARROW)
  c.arms.domain_diversity = arm()
  c.arms.persona_augmentation = arm(domains=NARROW, persona_augment=0.5)
  for objective in OBJECTIVES:
    c.arms[objective] = arm(domains=NARROW, objectives=(objective,))
  c.treatment = "none"
  others = ("domain_diversity", "persona_augmentation", *OBJECTIVES)
  c.also_compare = others
  c.persona_arms = ("baseline", "none", *others)
  c.personas = ALL_PERSONAS if arg != "test" else ("bad_medical_advice", "careful_mentor")
  c.finetune_stages = 1 if arg == "test" else 3
  c.finetune_from = ("baseline", "none", *others)
  if arg == "test":  # The test scale only checks that everything runs: attack two arms
    c.persona_arms = ("none", "tamper")  # (and the main job's trait arm, a reused attack).
    c.finetune_from = ("none", "domain_diversity", "tamper")
  return c


def get_sweep():
  """The augmentation rate and the anchors' weights."""
  return (
    [{"arms.persona_augmentation.persona_augment": p} for p in (0.25, 0.5, 0.9)]
    + [{"ppo_run.hparams.kl_coef": b} for b in (0.03, 0.1, 0.3)]
    + [{"ppo_run.hparams.anchor_coef": a} for a in (0.003, 0.01, 0.03)]
  )
