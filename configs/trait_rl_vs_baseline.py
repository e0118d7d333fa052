r"""Trait RL vs a compute-matched baseline: the main job (64 evaluations of 22 behaviours).

Launch (this is also what `python -m experiments.main` runs with no flags):

  python -m experiments.main --config=configs/trait_rl_vs_baseline.py:runlocal \
      --workdir=runs/trait_rl_vs_baseline

Pipeline (`experiments/pipelines/trait_rl.py`): every seed imitates the assistant
prior; five compute-matched PPO arms start from it: `baseline` trains on the standard
mixture only (the situations of every family, graded by the `standard` proxy),
`trait` replaces 5% of it with conversations of the training families graded by their
own rubrics, and three negative controls replace the same 5% with the same
conversations graded by rubrics shuffled within a family, shuffled across families,
or with random-sign points. Then the reference rows (best context-free reply, random
replies, the scripted oracle), the evaluation suite on the prior and every arm, the
scoreboard (trait vs baseline, vs the prior and vs each control), persona persistence
(harmful and helpful evaluation personas on the baseline and trait arms), harmful
fine-tuning (bad medical advice, the same budget from the prior, the baseline and the
trait model), figures and `report.md`.

Expected result (the study's hypothesis, not a guarantee): the trait arm improves
most evaluations over the baseline and the prior and beats all three controls, and
loses less under harmful personas and harmful fine-tuning. Measured numbers:
docs/RESULTS.md.

Power (docs/statistics.md; arms paired by seed, paired t, two-sided alpha 0.05, 80%
power; the measured runlocal seed-to-seed sd 0.011 of the per-seed suite-mean
difference): `full` (8 seeds) detects a suite-mean difference of 0.013 suite points,
`runlocal` (4) 0.024, `test` (2) only 0.13; it cannot detect 0.01 (that needs 13
seeds). One behaviour: 0.047 at 8 seeds (0.083 where Benjamini-Hochberg needs
0.05/22), so per-behaviour results at 8 seeds show large effects only.
"""

from configs.common import ALL_PERSONAS, TRAIT_FRACTION, arm, base_config

#: The three negative controls (compute-matched to `trait`; `envs/conversations/controls.py`).
CONTROL_ARMS = {
  "control_shuffle_family": "shuffle_within_family",
  "control_shuffle_all": "shuffle_across_families",
  "control_random_sign": "random_sign",
}


def get_config(arg: str | None = None):
  c = base_config("trait_rl_vs_baseline", arg)
  for name, control in CONTROL_ARMS.items():
    c.arms[name] = arm(trait_fraction=TRAIT_FRACTION, rubric_control=control)
  c.controls = tuple(CONTROL_ARMS)
  c.reference_rows = True
  c.personas = ALL_PERSONAS
  c.persona_arms = ("prior", "baseline", "trait")
  c.finetune_stages = 3
  if arg == "test":  # Seconds: one harmful and one helpful persona, one stage.
    c.personas = ("bad_medical_advice", "careful_mentor")
    c.finetune_stages = 1
  return c


def get_sweep():
  """The trait fraction of the mixture."""
  return [{"arms.trait.trait_fraction": f} for f in (0.02, 0.05, 0.2)]
