"""Load a finished run's response policy (network and per-seed parameters) for evaluation.

Both kinds of conversation run write `config.json` and `params` into their workdir:
the imitation of the assistant prior (`experiment: imitate_prior`) and PPO on the
`conversation` environment. `load_policy(workdir)` rebuilds the network from the
config (for PPO, with the defaults the environment gave it) and restores the
parameters, which carry a leading seed axis [S, ...].
"""

from __future__ import annotations

import json
import os

import jax
import jax.numpy as jnp

from alignment_rl import networks
from alignment_rl.agents.policies import ResponsePolicy
from alignment_rl.envs.conversations.env import observation_len
from alignment_rl.language import schema, vocab
from alignment_rl.training import checkpointing


def network_from_config(config: dict):
  """The `ResponseActorCritic` a run's config (a plain dict) describes."""
  kwargs = dict(config.get("network_kwargs") or {})
  env_kwargs = config.get("env_kwargs")
  if env_kwargs is not None:  # PPO on the conversation env: its network defaults.
    if config.get("env_name") != "conversation":
      raise ValueError(
        f"checkpoint: env_name={config.get('env_name')!r}; only 'conversation' runs hold "
        "response policies"
      )
    r = int(env_kwargs.get("response_len", 8))
    cap = int(env_kwargs.get("max_turns_capacity", 3))
    defaults = {
      "vocab_size": vocab.VOCAB_SIZE,
      "max_response_len": r,
      "max_len": observation_len(cap, r),
      "eot_action": int(vocab.Action.EOT),
    }
    kwargs = {**defaults, **kwargs}
  if config.get("network") != "response_policy":
    raise ValueError(
      f"checkpoint: network={config.get('network')!r}; evaluation needs 'response_policy'"
    )
  return networks.make("response_policy", vocab.NUM_ACTIONS, **kwargs)


def load_policy(workdir: str):
  """(network, params[S, ...], config dict) of the finished run in `workdir`."""
  path = os.path.join(workdir, "config.json")
  if not os.path.isfile(path):
    raise checkpointing.CheckpointError(
      f"checkpoint={workdir!r} is not a finished run's workdir (no config.json)"
    )
  try:
    with open(path, encoding="utf-8") as f:
      config = json.load(f)
  except (OSError, json.JSONDecodeError) as e:
    raise checkpointing.CheckpointError(
      f"checkpoint={workdir!r}: unreadable config.json ({e})"
    ) from e
  network = network_from_config(config)
  num_seeds = int(config.get("num_seeds", 1))
  obs = jnp.zeros((schema.CONTEXT_LEN,), jnp.int32)
  keys = jax.random.split(jax.random.PRNGKey(0), num_seeds)
  init = jax.vmap(ResponsePolicy(network).init, in_axes=(0, None))
  target = jax.eval_shape(init, keys, obs)
  target = jax.tree.map(lambda s: jnp.zeros(s.shape, s.dtype), target)
  return network, checkpointing.load_final_params(workdir, target), config
