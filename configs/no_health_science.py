r"""Health evaluations without any health or science trait data.

Launch:

  python -m experiments.main --config=configs/no_health_science.py:runlocal \
      --workdir=runs/no_health_science

Arms: `baseline` and `trait`, whose trait conversations come from every training
domain except health and science. Figure: the health evaluations' scoreboard
(`no_health_science`).

Expected: health evaluations still improve if the traits transfer across domains.
Measured numbers: docs/RESULTS.md.

Power (docs/statistics.md; arms paired by seed, paired t, two-sided alpha 0.05, 80%
power; the measured runlocal seed-to-seed sd 0.011 of the per-seed suite-mean
difference, the main job's, assumed for this experiment): `full` (8 seeds) detects a
suite-mean difference of 0.013 suite points, `runlocal` (4) 0.024, `test` (2) only
0.13; it cannot detect 0.01 (that needs 13 seeds). One behaviour: 0.047 at 8 seeds
(0.083 where Benjamini-Hochberg needs 0.05/22), so per-behaviour results at 8 seeds
show large effects only.
"""

from alignment_rl.language.lexicon import TRAIN_DOMAINS
from configs.common import arm, base_config


def get_config(arg: str | None = None):
  c = base_config("no_health_science", arg)
  domains = tuple(d for d in TRAIN_DOMAINS if d not in ("health", "science"))
  c.arms.trait = arm(domains=domains)
  return c


def get_sweep():
  """The trait fraction."""
  return [{"arms.trait.trait_fraction": f} for f in (0.05, 0.2)]
