"""gymnax both ways: our environments as gymnax environments, and gymnax's in ours.

Our `Environment` has gymnax 0.0.x's call signatures but is not a gymnax class, and
its spaces are not gymnax spaces: code that checks `isinstance(space,
gymnax.environments.spaces.Discrete)` or calls gymnax wrappers needs these adapters.

  to_gymnax(env)      -> a `gymnax.environments.environment.Environment` with gymnax
                         spaces whose `step` returns the installed gymnax's tuple:
                         `(obs, state, reward, terminated, truncated, info)` on
                         gymnax >= 1.0, `(obs, state, reward, done, info)` before.
  legacy_step(env)    -> any gymnax environment with gymnax 0.0.x's 5-tuple `step`,
                         for trainers written against it (rejax 0.1.x, PureJaxRL).
  from_gymnax(env)    -> a gymnax environment as one of ours: our spaces, and
                         `info["terminated"]`, `["truncated"]`, `["final_obs"]`,
                         `["discount"]` on both gymnax generations.
  make_gymnax(id)     -> `gymnax.make(id)`; `envs.make("gymnax/<id>")` calls it. Our
                         trainer takes the gymnax environment as it is.

`gymnax` is an optional dependency (the `gymnax` extra); importing this module
without it raises an ImportError that says so.
"""

from __future__ import annotations

import importlib.metadata
from typing import Any

import jax
import jax.numpy as jnp

from alignment_rl.envs import spaces
from alignment_rl.envs.environment import Environment

try:
  import gymnax
  from gymnax.environments import environment as gymnax_environment
  from gymnax.environments import spaces as gymnax_spaces
except ImportError:
  raise ImportError(
    "alignment_rl.envs.gymnax_compat needs the optional package gymnax: "
    "pip install 'alignment_rl[gymnax]'"
  ) from None

# gymnax >= 1.0 splits `done` into (terminated, truncated) in `step`'s return value.
GYMNAX_SIX_TUPLE = int(importlib.metadata.version("gymnax").split(".")[0]) >= 1


def to_gymnax_space(space):
  """Our `Discrete` / `Box` (or a gymnax space, returned as is) -> a gymnax space."""
  if isinstance(space, gymnax_spaces.Space):
    return space
  if isinstance(space, spaces.Discrete):
    return gymnax_spaces.Discrete(space.n)
  if isinstance(space, spaces.Box):
    return gymnax_spaces.Box(space.low, space.high, space.shape, space.dtype)
  raise TypeError(f"no gymnax space for {space!r}: expected Discrete or Box")


def from_gymnax_space(space):
  """A gymnax `Discrete` / `Box` (or one of ours, returned as is) -> ours."""
  if isinstance(space, spaces.Discrete | spaces.Box):
    return space
  if isinstance(space, gymnax_spaces.Discrete):
    return spaces.Discrete(space.n)
  if isinstance(space, gymnax_spaces.Box):
    return spaces.Box(space.low, space.high, tuple(space.shape), space.dtype)
  raise TypeError(f"no alignment_rl space for {space!r}: expected Discrete or Box")


class GymnaxEnv(gymnax_environment.Environment):
  """One of our environments as a gymnax `Environment` (see the module docstring).

  Integer action spaces accept float actions (as continuous-action trainers emit for a
  `Box`): they are rounded and clipped to the space. `info` keeps our keys and adds
  gymnax's `final_observation`.

  Args:
    env: an `alignment_rl.envs.Environment`.
    params: the default params; `env.default_params` if None.
  """

  def __init__(self, env: Environment, params=None):
    self.env = env
    self._params = env.default_params if params is None else params

  @property
  def default_params(self):
    return self._params

  @property
  def name(self) -> str:
    return self.env.name

  @property
  def num_actions(self) -> int:
    return self.env.num_actions

  def action_space(self, params=None):
    return to_gymnax_space(self.env.action_space(params))

  def observation_space(self, params=None):
    return to_gymnax_space(self.env.observation_space(params))

  def reset(self, key: jax.Array, params=None):
    return self.env.reset(key, self._params if params is None else params)

  def step(self, key: jax.Array, state, action, params=None):
    params = self._params if params is None else params
    action = _cast_action(self.env.action_space(params), action)
    obs, state, reward, done, info = self.env.step(key, state, action, params)
    info = {**info, "final_observation": info["final_obs"]}
    if GYMNAX_SIX_TUPLE:
      return obs, state, reward, info["terminated"], info["truncated"], info
    return obs, state, reward, done, info

  def reset_env(self, key: jax.Array, params):
    return self.env.reset_env(key, params)

  def step_env(self, key: jax.Array, state, action, params):
    return self.env.step_env(key, state, action, params)


def _cast_action(space, action):
  action = jnp.asarray(action)
  dtype = jnp.dtype(space.dtype)
  if jnp.issubdtype(dtype, jnp.integer) and not jnp.issubdtype(action.dtype, jnp.integer):
    high = space.n - 1 if isinstance(space, spaces.Discrete) else space.high
    low = 0 if isinstance(space, spaces.Discrete) else space.low
    action = jnp.clip(jnp.round(action), low, high)
  return action.astype(dtype)


def to_gymnax(env: Environment, params=None) -> GymnaxEnv:
  """Our environment as a gymnax `Environment` with gymnax spaces."""
  return GymnaxEnv(env, params)


class LegacyStep(gymnax_environment.Environment):
  """A gymnax environment whose `step` returns gymnax 0.0.x's 5-tuple
  `(obs, state, reward, done, info)`, `done = terminated | truncated`, with
  `info["terminated"]`, `["truncated"]` and `["discount"]` (0.0 on termination)."""

  def __init__(self, env):
    self.env = env

  def __getattr__(self, name: str) -> Any:
    if name == "env":  # Not set yet (copying, unpickling): no recursion.
      raise AttributeError(name)
    return getattr(self.env, name)

  @property
  def default_params(self):
    return self.env.default_params

  @property
  def name(self) -> str:
    return self.env.name

  @property
  def num_actions(self) -> int:
    return self.env.num_actions

  def action_space(self, params=None):
    return self.env.action_space(params)

  def observation_space(self, params=None):
    return self.env.observation_space(params)

  def reset(self, key: jax.Array, params=None):
    return self.env.reset(key, params)

  def step(self, key: jax.Array, state, action, params=None):
    out = self.env.step(key, state, action, params)
    if len(out) == 5:
      return out
    obs, state, reward, terminated, truncated, info = out
    terminated = jnp.asarray(terminated, jnp.bool_)
    info = {**info, "terminated": terminated, "truncated": jnp.asarray(truncated, jnp.bool_)}
    info["discount"] = jnp.where(terminated, 0.0, 1.0).astype(jnp.float32)
    return obs, state, reward, terminated | info["truncated"], info


def legacy_step(env) -> LegacyStep:
  """Any gymnax environment (ours through `to_gymnax`) with gymnax 0.0.x's `step`."""
  return LegacyStep(env)


class FromGymnax(Environment):
  """A gymnax environment as one of ours (see the module docstring).

  On gymnax 0.0.x, whose `done` merges both ends, an end is a termination when
  `info["discount"]` is 0 and a truncation otherwise; `final_obs` is then the
  auto-reset observation (gymnax 0.0.x does not return the pre-reset one).
  """

  def __init__(self, env):
    self.env = env

  @property
  def default_params(self):
    return self.env.default_params

  @property
  def name(self) -> str:
    return f"gymnax/{self.env.name}"

  @property
  def num_actions(self) -> int:
    return self.env.num_actions

  def action_space(self, params=None):
    return from_gymnax_space(self.env.action_space(self._params(params)))

  def observation_space(self, params=None):
    return from_gymnax_space(self.env.observation_space(self._params(params)))

  def _params(self, params):
    return self.env.default_params if params is None else params

  def reset(self, key: jax.Array, params=None):
    return self.env.reset(key, self._params(params))

  def step(self, key: jax.Array, state, action, params=None):
    out = self.env.step(key, state, action, self._params(params))
    if len(out) == 6:
      obs, state, reward, terminated, truncated, info = out
      final_obs = info.get("final_observation", obs)
    else:
      obs, state, reward, done, info = out
      discount = info.get("discount", jnp.zeros_like(reward))
      terminated = jnp.logical_and(done, discount == 0)
      truncated = jnp.logical_and(done, discount != 0)
      final_obs = obs
    terminated = jnp.asarray(terminated, jnp.bool_)
    truncated = jnp.asarray(truncated, jnp.bool_) & ~terminated
    info = dict(info)
    info["terminated"], info["truncated"], info["final_obs"] = terminated, truncated, final_obs
    info["discount"] = jnp.where(terminated, 0.0, 1.0).astype(jnp.float32)
    return obs, state, jnp.asarray(reward, jnp.float32), terminated | truncated, info


def from_gymnax(env) -> FromGymnax:
  """A gymnax environment as an `alignment_rl.envs.Environment` with our spaces."""
  return FromGymnax(env)


def make_gymnax(env_id: str, **kwargs):
  """`gymnax.make(env_id, **kwargs)`: `(env, env_params)`, as gymnax returns them."""
  return gymnax.make(env_id, **kwargs)
