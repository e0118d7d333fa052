r"""Health-only trait data: does it transfer to evaluations outside health?

Launch:

  python -m experiments.main --config=configs/health_only_transfer.py:runlocal \
      --workdir=runs/health_only_transfer

Arms (compute-matched, same prior): `baseline` (standard mixture only) and `trait`,
whose 5% trait conversations all come from the health domain. Figure: the scoreboard
of the non-health evaluations (`health_only_transfer`).

Expected (the study: 17 of 19 non-health evaluations improved, +11.3 points): gains
outside health. Measured numbers: docs/RESULTS.md.
"""

from alignment_rl.pipelines.trait_rl_config import arm, base_config


def get_config(arg: str | None = None):
  c = base_config("health_only_transfer", arg)
  c.arms.trait = arm(domains=("health",))
  return c


def get_sweep():
  """The trait fraction of the health-only arm."""
  return [{"arms.trait.trait_fraction": f} for f in (0.05, 0.2)]
