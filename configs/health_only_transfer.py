r"""Health-only trait data: does it transfer to evaluations outside health?

Launch:

  python -m experiments.main --config=configs/health_only_transfer.py:runlocal \
      --workdir=runs/health_only_transfer

Arms (compute-matched, same prior): `baseline` (standard mixture only) and `trait`,
whose 5% trait conversations all come from the health domain. Figure: the scoreboard
of the non-health evaluations (`health_only_transfer`).

Expected (the study: 17 of 19 non-health evaluations improved, +11.3 points): gains
outside health. Measured numbers: docs/RESULTS.md.

Power (docs/statistics.md; arms paired by seed, paired t, two-sided alpha 0.05, 80%
power; the measured runlocal seed-to-seed sd 0.011 of the per-seed suite-mean
difference, the main job's, assumed for this experiment): `full` (8 seeds) detects a
suite-mean difference of 0.013 suite points, `runlocal` (4) 0.024, `test` (2) only
0.13; it cannot detect 0.01 (that needs 13 seeds). One behaviour: 0.047 at 8 seeds
(0.083 where Benjamini-Hochberg needs 0.05/22), so per-behaviour results at 8 seeds
show large effects only.
"""

from configs.common import arm, base_config


def get_config(arg: str | None = None):
  c = base_config("health_only_transfer", arg)
  c.arms.trait = arm(domains=("health",))
  return c


def get_sweep():
  """The trait fraction of the health-only arm."""
  return [{"arms.trait.trait_fraction": f} for f in (0.05, 0.2)]
