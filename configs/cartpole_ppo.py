r"""PPO on CartPole-v1: the foundation's end-to-end check.

Launch (from the repository root):

  python -m experiments.main --config=configs/cartpole_ppo.py:runlocal \
      --workdir=runs/cartpole_ppo

Expected result: every one of the 4 seeds reaches a mean return of 500 (the
maximum; the time limit truncates at 500 steps) within 500k environment steps
each; `runlocal` takes well under a minute of CPU after compilation. The full
config runs 16 seeds for 1M steps each.

Sweep over learning rates (one compilation for all points):

  python -m experiments.main --config=configs/cartpole_ppo.py:runlocal --sweep
"""

from configs.common import ppo_config


def get_config(arg: str | None = None):
  config = ppo_config()
  config.experiment = "cartpole_ppo"
  config.env_name = "CartPole-v1"
  if arg == "runlocal":
    config.num_seeds = 4
    config.ppo.total_timesteps = 500_000
  elif arg in (None, "", "full"):
    config.num_seeds = 16
    config.ppo.total_timesteps = 1_000_000
  else:
    raise ValueError(f"cartpole_ppo: get_config arg={arg!r}; allowed: 'runlocal', 'full'")
  return config


def get_sweep():
  """Overrides per sweep point (dotted config field -> value)."""
  return [{"hparams.learning_rate": lr} for lr in (1e-4, 2.5e-4, 1e-3)]
