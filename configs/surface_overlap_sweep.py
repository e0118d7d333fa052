r"""Transfer vs how much the domains share their phrasing.

Launch:

  python -m experiments.main --config=configs/surface_overlap_sweep.py:runlocal \
      --workdir=runs/surface_overlap_sweep

Arms: `baseline` and `trait`, with the scenario data generated at a given
`surface_overlap` (the probability that a concept uses the shared phrasing instead of
its domain's own). The sweep runs 0.0, 0.5 and 1.0; the figure is the suite's mean
Δ against the overlap (`experiments/figures.py --figure=surface_overlap_sweep`).
At 0.5, the dataset's own overlap, the prior and arms are those of
`trait_rl_vs_baseline`: with `--config.reuse_from=<its workdir>` they are copied.

Expected: more shared phrasing, more transfer. Measured numbers: docs/RESULTS.md.

Power (docs/statistics.md; arms paired by seed, paired t, two-sided alpha 0.05, 80%
power; the measured runlocal seed-to-seed sd 0.011 of the per-seed suite-mean
difference, measured on its 0.0 and 1.0 points and the main job): `full` (8 seeds)
detects a suite-mean difference of 0.013 suite points, `runlocal` (4) 0.024, `test`
(2) only 0.13; it cannot detect 0.01 (that needs 13 seeds). One behaviour: 0.047 at 8
seeds (0.083 where Benjamini-Hochberg needs 0.05/22), so per-behaviour results at 8
seeds show large effects only.
"""

from configs.common import base_config


def get_config(arg: str | None = None):
  c = base_config("surface_overlap_sweep", arg)
  c.surface_overlap = 0.5
  return c


def get_sweep():
  """The surface overlap of the domains."""
  return [{"surface_overlap": v} for v in (0.0, 0.5, 1.0)]
