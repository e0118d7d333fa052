"""The compiled program of one static training configuration, cached per process.

`get_program(config, mesh)` returns the `Program` for everything in `config` that
changes the compiled code (`_static_key`: the environment and its static kwargs, network,
PPO shapes, seeds, devices); configs that differ only in array leaves (swept
hyperparameters, a mixture's weights, start parameters) share it. Which env kwargs are
static is the env's own rule, listed in `STATIC_ENV_KWARGS`. A `Program` builds the
runner state (leading seed axis) on the device mesh and runs chunks of updates, its
seeds side by side or in turn (`seed_axis`): of one run (`run_chunk`) or of several
stacked runs (`run_chunk_many`, `training.batched`).

Where a config's fields go: `env_name`/`env_kwargs` to `make_env`; `network`/
`network_kwargs` and `ppo` (static structure) to `Program`; `hparams` (swept) to
`_hparams` and `_coefs`, array leaves of the train state read by the PPO loss
(`agents.ppo_loss`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

from alignment_rl import envs, networks
from alignment_rl.agents import ppo
from alignment_rl.envs.conversations import mixture
from alignment_rl.training import seed_axis, sharding
from alignment_rl.training.ppo_loop import ENV_AXIS_FIELDS, PPOLoop, PPOLoopConfig

# Compiled programs keyed by everything static (not the swept hyperparameters),
# so that sweep points and repeated runs in one process reuse one compilation.
_PROGRAMS: dict[str, Any] = {}


#: Per env name, the env's rule for the kwargs that change the compiled program (the rest
#: only set array leaves of its params: configs that differ only in those share one
#: program). Every kwarg of an env not listed here is static.
STATIC_ENV_KWARGS: dict[str, Callable[[dict], dict]] = {"conversation": mixture.static_kwargs}


def make_env(config):
  """`(env, env_params)` of `config` (`envs.make(config.env_name, **config.env_kwargs)`)."""
  return envs.make(config.env_name, **config.env_kwargs.to_dict())


def _static_env_kwargs(config) -> dict:
  kwargs = config.env_kwargs.to_dict()
  rule = STATIC_ENV_KWARGS.get(config.env_name)
  return rule(kwargs) if rule is not None else kwargs


def _static_key(config, mesh) -> str:
  static = {
    "env": config.env_name,
    "env_kwargs": _static_env_kwargs(config),
    "network": config.network,
    "network_kwargs": config.network_kwargs.to_dict(),
    "ppo": config.ppo.to_dict(),
    "num_seeds": config.num_seeds,
    "devices": [d.id for d in mesh.devices.flat],
    "split_over": _split_over(config),
    "seed_batching": _seed_batching(config, mesh),
    "length_buckets": config.get("length_buckets"),
  }
  return json.dumps(static, sort_keys=True, default=str)


def _seed_batching(config, mesh) -> str:
  """Resolved `seed_batching`, "vmap" or "map" (`seed_axis.resolve`: "auto" depends on
  the backend, the encoder and how many devices the seeds are split over)."""
  encoder = config.network_kwargs.get("encoder") if config.get("network_kwargs") else None
  devices = mesh.devices.size if _split_over(config) == "seeds" else 1
  return seed_axis.resolve(config.get("seed_batching", "auto"), encoder, devices)


def _split_over(config) -> str:
  return config.get("split_over", "envs")  # `sharding` checks the value.


class Program:
  """The compiled pieces of one static configuration."""

  def __init__(self, config, mesh):
    env, env_params = make_env(config)
    num_actions = env.num_actions
    net_kwargs = dict(getattr(env, "network_defaults", dict)())
    net_kwargs.update(config.network_kwargs.to_dict())
    if config.network == "mlp" and "obs_ndim" not in net_kwargs:
      obs_shape = jax.eval_shape(env.reset, jax.random.PRNGKey(0), env_params)[0].shape
      net_kwargs["obs_ndim"] = len(obs_shape)
    network = networks.make(config.network, num_actions, **net_kwargs)
    # Seeds side by side or in turn (`seed_axis`).
    self.seed_batching = _seed_batching(config, mesh)
    p = config.ppo
    self.steps_per_update = p.num_envs * p.num_steps
    if p.total_timesteps < self.steps_per_update:
      raise ValueError(
        f"config.ppo.total_timesteps={p.total_timesteps} is below one update "
        f"(num_envs*num_steps={self.steps_per_update})"
      )
    self.num_updates = p.total_timesteps // self.steps_per_update
    loop_config = PPOLoopConfig(
      num_envs=p.num_envs,
      num_steps=p.num_steps,
      num_updates=self.num_updates,
      update_epochs=p.update_epochs,
      num_minibatches=p.num_minibatches,
      anneal_lr=p.anneal_lr,
      bootstrap_on_truncation=p.bootstrap_on_truncation,
      episode_info_keys=tuple(p.get("episode_info_keys", ())),
      objectives=tuple(p.get("objectives", ())),
      tamper_steps=int(p.get("tamper_steps", 1)),
    )
    # `loop` (and its `network`, which evaluations use) serves every vmapped program:
    # init, the EWC Fisher, runs x seeds together. `train_loop` is what `run_chunk` trains
    # with: the same, except that with the seeds in turn the conv encoder encodes in
    # length buckets (`seed_axis.network_kwargs`), which under a vmap would compute
    # every bucket length. Same parameters; outputs equal up to float order.
    self.loop = PPOLoop(env, env_params, network, loop_config)
    train_kwargs = seed_axis.network_kwargs(
      config.network, net_kwargs, self.seed_batching, config.get("length_buckets")
    )
    self.train_loop = self.loop
    if train_kwargs != net_kwargs:
      train_network = networks.make(config.network, num_actions, **train_kwargs)
      self.train_loop = PPOLoop(env, env_params, train_network, loop_config)
    self.mesh = mesh
    split_over = _split_over(config)
    sharding.check_divisible(p.num_envs, mesh, config.num_seeds, split_over)
    self.num_seeds = config.num_seeds
    self.env_params = env_params
    init = jax.vmap(self.loop.init, in_axes=(0, 0, None, 0))
    abstract = jax.eval_shape(
      init, _seed_keys(0, self.num_seeds), _hparams(config), env_params, _coefs(config)
    )
    self.abstract_params = abstract.ppo.params  # Shapes only: for compute matching.
    self.shardings = sharding.runner_shardings(abstract, mesh, ENV_AXIS_FIELDS, split_over)
    self._init = jax.jit(init, out_shardings=self.shardings)
    self._fisher = jax.jit(
      jax.vmap(self.loop.estimate_fisher, in_axes=(0, None)), out_shardings=self.shardings
    )
    # Mapped seeds keep their split.
    self._seed_mesh = mesh if split_over == "seeds" else None
    self._chunks: dict[int, Any] = {}
    self._chunks_many: dict[int, Any] = {}
    self._env_kwargs = config.env_kwargs.to_dict()

  def env_params_for(self, config):
    """The `EnvParams` of `config`, whose param-only env kwargs may differ from the
    config this program was compiled for (same structure and shapes, checked): that
    config's params, or those of `config`'s own env (built for its params only)."""
    if config.env_kwargs.to_dict() == self._env_kwargs:
      return self.env_params
    _, params = make_env(config)
    same = jax.tree.structure(params) == jax.tree.structure(self.env_params) and all(
      jnp.shape(a) == jnp.shape(b)
      for a, b in zip(jax.tree.leaves(params), jax.tree.leaves(self.env_params), strict=True)
    )
    if not same:
      raise ValueError(
        f"env_kwargs={config.env_kwargs.to_dict()} changed the env params' structure or shapes"
      )
    return params

  def init(self, keys, hparams, env_params=None, coefs=None):
    """The runner state of every seed, placed on the mesh."""
    env_params = self.env_params if env_params is None else env_params
    return self._init(keys, hparams, env_params, coefs)

  def estimate_fisher(self, runner, env_params=None):
    """Every seed's EWC Fisher of its anchor (`PPOLoop.estimate_fisher`)."""
    return self._fisher(runner, self.env_params if env_params is None else env_params)

  def _over_seeds(self, fn):
    """`fn(runner, env_params)` of one seed over every seed of a runner (`seed_axis`)."""
    return seed_axis.over_seeds(fn, self.seed_batching, (0, None), self._seed_mesh)

  def run_chunk(self, runner, num_updates: int, env_params=None):
    """`num_updates` updates of every seed in one compiled call."""
    if num_updates not in self._chunks:
      fn = self._over_seeds(lambda r, p: self.train_loop.run(r, num_updates, p))
      self._chunks[num_updates] = jax.jit(fn, out_shardings=(self.shardings, None))
    return self._chunks[num_updates](runner, self.env_params if env_params is None else env_params)

  def run_chunk_many(self, runners, num_updates: int, env_params, env_axes=0):
    """`num_updates` updates of several runs of this program at once: `runners` stacked
    on a leading run axis, `env_params` too where `env_axes` (a prefix pytree of 0 and
    None, `training.batched`) says 0; leaves marked None are shared by every run."""
    leaves = tuple(jax.tree.leaves(env_axes, is_leaf=lambda x: x is None))
    key = (num_updates, str(jax.tree.structure(env_axes, is_leaf=lambda x: x is None)), leaves)
    if key not in self._chunks_many:
      # Runs x seeds vmapped, whatever `seed_batching`: the accelerators' path
      # (`batched.check_batch`). A vmap over runs around seeds in turn batched every
      # gather inside, and runs in turn as well (`lax.map`) were 2x slower than one
      # run alone on a CPU (benchmarks/RESULTS.md).
      per_run = jax.vmap(lambda r, p: self.loop.run(r, num_updates, p), in_axes=(0, None))
      self._chunks_many[key] = jax.jit(jax.vmap(per_run, in_axes=(0, env_axes)))
    return self._chunks_many[key](runners, env_params)


def _seed_keys(seed: int, num_seeds: int) -> jax.Array:
  return jax.random.split(jax.random.PRNGKey(seed), num_seeds)


def _hparams(config) -> ppo.PPOHyperparams:
  hp = ppo.PPOHyperparams.from_config(config.hparams)
  return jax.tree.map(lambda x: jnp.broadcast_to(x, (config.num_seeds,)), hp)


def _coefs(config) -> ppo.PersistenceCoefs | None:
  """Per-seed weights of the persistence objectives, or None when the run has none."""
  if not tuple(config.ppo.get("objectives", ())):
    return None
  coefs = ppo.PersistenceCoefs.from_config(config.hparams)
  return jax.tree.map(lambda x: jnp.broadcast_to(x, (config.num_seeds,)), coefs)


def get_program(config, mesh=None) -> Program:
  mesh = mesh if mesh is not None else sharding.make_mesh(config.num_devices)
  key = _static_key(config, mesh)
  if key not in _PROGRAMS:
    _PROGRAMS[key] = Program(config, mesh)
  return _PROGRAMS[key]
