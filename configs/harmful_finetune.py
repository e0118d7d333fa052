r"""Harmful fine-tuning from the pre-RL prior, the baseline and the trait model.

Launch:

  python -m experiments.main --config=configs/harmful_finetune.py:runlocal \
      --workdir=runs/harmful_finetune

Arms: `baseline` and `trait`. Then the same harmful fine-tuning budget (PPO on
bad medical advice in health conversations, `finetune_stages` x `finetune_updates`
updates) from each of the prior, the baseline and the trait model, with the suite
after every stage: a compute-matched control the study did not have.

Expected (the study, against a pre-RL model only: broad misalignment -0.36 from the
pre-RL model, -0.08 from the trait model): the trait model degrades least. Measured
numbers: docs/RESULTS.md.

Power (docs/statistics.md; start models paired by seed, paired t, two-sided alpha
0.05, 80% power; the measured runlocal sd 0.014 of the per-seed difference of the
suite after harmful fine-tuning between start models): `full` (8 seeds) detects a
difference of 0.016 suite points, `runlocal` (4) 0.030, `test` (2) only 0.16; it
cannot detect 0.01 (that needs 18 seeds).
"""

from configs.common import base_config


def get_config(arg: str | None = None):
  c = base_config("harmful_finetune", arg)
  c.finetune_stages = 1 if arg == "test" else 4
  return c


def get_sweep():
  """The fine-tuning budget per stage."""
  return [{"finetune_updates": u} for u in (5, 10, 20)]
