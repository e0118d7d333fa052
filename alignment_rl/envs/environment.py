"""The environment interface (gymnax's call signatures), with auto-reset.

An environment is a set of pure functions over a state pytree:

  reset(key, params) -> (obs, state)
  step(key, state, action, params) -> (obs, state, reward, done, info)

`step` resets automatically when the episode ends, as gymnax does, and returns
gymnax 0.0.x's 5-tuple, so a gymnax environment (0.0.x or >= 1.0) trains in our
trainer unchanged. The class and its spaces (`alignment_rl.envs.spaces`) are not
gymnax's, though: code that checks or samples gymnax spaces, or gymnax's wrappers,
needs `alignment_rl.envs.gymnax_compat.to_gymnax(env)`, a real gymnax `Environment`
(and `legacy_step` on top for trainers written against gymnax 0.0.x, such as rejax).
Our environments keep *termination* (a true end of the episode: the value of the
next state is zero) apart from *truncation* (a time limit: the value is
bootstrapped). `info` holds:

  info["terminated"]: bool[], the episode reached a terminal state.
  info["truncated"]:  bool[], the episode hit the time limit without terminating.
  info["final_obs"]:  the observation the step produced *before* the auto-reset,
                      needed to bootstrap a truncated episode.
  info["discount"]:   float[], 0.0 on termination, 1.0 otherwise (gymnax key).

and `done = terminated | truncated`.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

import jax
import jax.numpy as jnp
from flax import struct

TEnvState = TypeVar("TEnvState")
TEnvParams = TypeVar("TEnvParams")


@struct.dataclass
class EnvState:
  """Base state: every environment counts the steps of its current episode."""

  time: jax.Array


@struct.dataclass
class EnvParams:
  """Base parameters: the time limit that truncates an episode."""

  max_steps_in_episode: int = 500


class Environment(Generic[TEnvState, TEnvParams]):
  """Base class. Subclasses implement `reset_env`, `step_env` and the spaces.

  `step_env(key, state, action, params)` returns
  `(obs, state, reward, terminated, info)`; the base class adds the time limit,
  the auto-reset and the info keys documented in the module docstring.
  """

  @property
  def default_params(self) -> TEnvParams:
    return EnvParams()

  @property
  def name(self) -> str:
    return type(self).__name__

  def step(
    self,
    key: jax.Array,
    state: TEnvState,
    action: jax.Array,
    params: TEnvParams | None = None,
  ) -> tuple[jax.Array, TEnvState, jax.Array, jax.Array, dict[str, Any]]:
    """One transition with auto-reset; see the module docstring."""
    if params is None:
      params = self.default_params
    key_step, key_reset = jax.random.split(key)
    obs_st, state_st, reward, terminated, info = self.step_env(key_step, state, action, params)
    terminated = jnp.asarray(terminated, jnp.bool_)
    truncated = jnp.logical_and(~terminated, state_st.time >= params.max_steps_in_episode)
    done = terminated | truncated
    obs_re, state_re = self.reset_env(key_reset, params)
    state = jax.tree.map(lambda r, s: jnp.where(done, r, s), state_re, state_st)
    obs = jax.tree.map(lambda r, s: jnp.where(done, r, s), obs_re, obs_st)
    info = dict(info)
    info["terminated"] = terminated
    info["truncated"] = truncated
    info["final_obs"] = obs_st
    info["discount"] = jnp.where(terminated, 0.0, 1.0).astype(jnp.float32)
    return obs, state, jnp.asarray(reward, jnp.float32), done, info

  def reset(self, key: jax.Array, params: TEnvParams | None = None) -> tuple[jax.Array, TEnvState]:
    if params is None:
      params = self.default_params
    return self.reset_env(key, params)

  # Subclass interface ----------------------------------------------------------

  def reset_env(self, key: jax.Array, params: TEnvParams) -> tuple[jax.Array, TEnvState]:
    raise NotImplementedError

  def step_env(
    self, key: jax.Array, state: TEnvState, action: jax.Array, params: TEnvParams
  ) -> tuple[jax.Array, TEnvState, jax.Array, jax.Array, dict[str, Any]]:
    raise NotImplementedError

  @property
  def num_actions(self) -> int:
    return self.action_space(self.default_params).n

  def action_space(self, params: TEnvParams | None = None):
    raise NotImplementedError

  def observation_space(self, params: TEnvParams | None = None):
    raise NotImplementedError
