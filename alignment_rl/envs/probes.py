"""Probe environments with known optimal values, for debugging RL agents.

Each probe isolates one part of an agent (after Andy Jones, "Debugging RL,
without the agonizing pain", 2021). With discount gamma the optimal values are:

| name | episode | reward | optimal value / return |
|---|---|---|---|
| `probe/constant` | 1 step, obs [0] | +1 | V = 1 |
| `probe/observation` | 1 step, obs [x], x = +-1 | x | V(x) = x |
| `probe/action` | 1 step, obs [c], c in {0, 1} | 1 if action == c | return 1 |
| `probe/delayed` | 3 steps; a cue at t=0 | 1 at t=2 if a_0 == cue | return 1; V(s_0) = gamma**2 |
| `probe/discount` | 2 steps | +1 at the end | V(s_0) = gamma, V(s_1) = 1 |

All have two actions and float32 vector observations.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import struct

from alignment_rl.envs import spaces
from alignment_rl.envs.environment import Environment, EnvParams
from alignment_rl.registry import ENVIRONMENTS


@struct.dataclass
class ProbeState:
  time: jax.Array
  cue: jax.Array  # int32 cue (or observation sign) drawn at reset.
  first_action: jax.Array  # int32 action taken at t=0.


class _Probe(Environment[ProbeState, EnvParams]):
  """Shared plumbing: fixed length, `cue` drawn at reset, 2 actions."""

  length = 1
  obs_dim = 1

  @property
  def default_params(self) -> EnvParams:
    return EnvParams(max_steps_in_episode=100)

  def reset_env(self, key, params):
    cue = jax.random.bernoulli(key).astype(jnp.int32)
    state = ProbeState(jnp.int32(0), cue, jnp.int32(0))
    return self._obs(state), state

  def step_env(self, key, state, action, params):
    del key, params
    action = jnp.asarray(action, jnp.int32)
    first = jnp.where(state.time == 0, action, state.first_action)
    reward = self._reward(state, action, first)
    new_state = ProbeState(state.time + 1, state.cue, first)
    terminated = new_state.time >= self.length
    return self._obs(new_state), new_state, reward, terminated, {}

  def _reward(self, state, action, first_action):
    raise NotImplementedError

  def _obs(self, state):
    raise NotImplementedError

  def action_space(self, params=None):
    return spaces.Discrete(2)

  def observation_space(self, params=None):
    return spaces.Box(-1.0, 1.0, (self.obs_dim,), jnp.float32)


class ConstantProbe(_Probe):
  def _reward(self, state, action, first_action):
    return jnp.float32(1.0)

  def _obs(self, state):
    return jnp.zeros((1,), jnp.float32)


class ObservationProbe(_Probe):
  def _reward(self, state, action, first_action):
    return (2.0 * state.cue - 1.0).astype(jnp.float32)

  def _obs(self, state):
    return jnp.array([2.0 * state.cue - 1.0], jnp.float32)


class ActionProbe(_Probe):
  def _reward(self, state, action, first_action):
    return (action == state.cue).astype(jnp.float32)

  def _obs(self, state):
    return jnp.array([state.cue], jnp.float32)


class DelayedProbe(_Probe):
  length = 3
  obs_dim = 4  # [cue shown only at t=0 (+-1, else 0), one-hot of t].

  def _reward(self, state, action, first_action):
    last = state.time == self.length - 1
    return jnp.where(last & (first_action == state.cue), 1.0, 0.0).astype(jnp.float32)

  def _obs(self, state):
    cue = jnp.where(state.time == 0, 2.0 * state.cue - 1.0, 0.0)
    t = jax.nn.one_hot(jnp.minimum(state.time, self.length - 1), self.length)
    return jnp.concatenate([cue[None], t]).astype(jnp.float32)


class DiscountProbe(_Probe):
  length = 2
  obs_dim = 2  # One-hot of t.

  def _reward(self, state, action, first_action):
    return jnp.where(state.time == self.length - 1, 1.0, 0.0).astype(jnp.float32)

  def _obs(self, state):
    t = jnp.minimum(state.time, self.length - 1)
    return jax.nn.one_hot(t, self.length).astype(jnp.float32)


ENVIRONMENTS.add("probe/constant", ConstantProbe)
ENVIRONMENTS.add("probe/observation", ObservationProbe)
ENVIRONMENTS.add("probe/action", ActionProbe)
ENVIRONMENTS.add("probe/delayed", DelayedProbe)
ENVIRONMENTS.add("probe/discount", DiscountProbe)
