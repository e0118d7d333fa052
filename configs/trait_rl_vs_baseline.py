r"""Trait RL vs a compute-matched baseline: the main job and the 57-evaluation scoreboard.

Launch (this is also what `python -m experiments.main` runs with no flags):

  python -m experiments.main --config=configs/trait_rl_vs_baseline.py:runlocal \
      --workdir=runs/trait_rl_vs_baseline

Pipeline (`alignment_rl/pipelines/trait_rl.py`): every seed imitates the assistant
prior; two compute-matched PPO arms start from it: `baseline` trains on the standard
mixture only (everyday conversations graded by the `standard` proxy) and `trait`
replaces 5% of it with trait conversations graded by their own rubrics. Then the
evaluation suite on the prior and both arms, the scoreboard (Welch across seeds,
Benjamini-Hochberg over the suite), persona persistence (harmful and helpful
evaluation personas on both arms), harmful fine-tuning (bad medical advice, the same
budget from the prior, the baseline and the trait model), figures and `report.md`.

Expected result (the study's hypothesis, not a guarantee): the trait arm improves
most evaluations over the baseline, and loses less under harmful personas and harmful
fine-tuning. Measured numbers: docs/RESULTS.md.
"""

from alignment_rl.pipelines.trait_rl_config import ALL_PERSONAS, base_config


def get_config(arg: str | None = None):
  c = base_config("trait_rl_vs_baseline", arg)
  c.personas = ALL_PERSONAS
  c.finetune_stages = 3
  if arg == "test":  # Seconds: one harmful and one helpful persona, one stage.
    c.personas = ("bad_medical_advice", "careful_mentor")
    c.finetune_stages = 1
  return c


def get_sweep():
  """The trait fraction of the mixture."""
  return [{"arms.trait.trait_fraction": f} for f in (0.02, 0.05, 0.2)]
