"""Environments with the gymnax API, and `make(name)` over the registry.

Names: our own environments are registered in `alignment_rl.registry.ENVIRONMENTS`
(for example `CartPole-v1`, `probe/constant`). A name `gymnax/<id>` builds
`gymnax.make(<id>)` when the optional `gymnax` package is installed; our trainer takes
it as it is. `alignment_rl.envs.gymnax_compat` adapts both ways: ours as real gymnax
environments (for gymnax-based trainers), gymnax's as ours.
"""

from __future__ import annotations

import alignment_rl.envs.conversations.mixture  # noqa: F401  (registers `conversation`)
import alignment_rl.envs.gridworlds  # noqa: F401  (registers the AI Safety Gridworlds)
from alignment_rl.envs import cartpole, probes  # noqa: F401  (registers)
from alignment_rl.envs.environment import Environment, EnvParams, EnvState
from alignment_rl.registry import ENVIRONMENTS

__all__ = ["Environment", "EnvParams", "EnvState", "make", "names"]


def make(name: str, **kwargs):
  """Returns `(env, env_params)` for a registered name or `gymnax/<id>`."""
  if name.startswith("gymnax/"):
    try:
      from alignment_rl.envs import gymnax_compat
    except ImportError:
      raise ImportError(
        f"environment {name!r} needs the optional package gymnax: pip install gymnax"
      ) from None
    return gymnax_compat.make_gymnax(name[len("gymnax/") :], **kwargs)
  env = ENVIRONMENTS.get(name)(**kwargs)
  return env, env.default_params


def names() -> list[str]:
  return ENVIRONMENTS.names()
