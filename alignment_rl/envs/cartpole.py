"""CartPole-v1 (Barto, Sutton & Anderson 1983) as a pure JAX environment.

Physics, thresholds and the 500-step limit follow gymnasium's CartPole-v1: the
pole angle leaving +-12 degrees or the cart leaving +-2.4 terminates the episode;
reaching 500 steps truncates it. Reward is +1 for every step, including the last.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import struct

from alignment_rl.envs import spaces
from alignment_rl.envs.environment import Environment
from alignment_rl.registry import ENVIRONMENTS


@struct.dataclass
class CartPoleState:
  x: jax.Array
  x_dot: jax.Array
  theta: jax.Array
  theta_dot: jax.Array
  time: jax.Array


@struct.dataclass
class CartPoleParams:
  gravity: float = 9.8
  masscart: float = 1.0
  masspole: float = 0.1
  length: float = 0.5  # Half the pole's length.
  force_mag: float = 10.0
  tau: float = 0.02
  theta_threshold_radians: float = 12 * 2 * jnp.pi / 360
  x_threshold: float = 2.4
  max_steps_in_episode: int = 500


class CartPole(Environment[CartPoleState, CartPoleParams]):
  """Push a cart left (0) or right (1) to keep its pole upright."""

  @property
  def default_params(self) -> CartPoleParams:
    return CartPoleParams()

  @property
  def name(self) -> str:
    return "CartPole-v1"

  def step_env(self, key, state, action, params):
    del key
    force = jnp.where(action == 1, params.force_mag, -params.force_mag)
    total_mass = params.masspole + params.masscart
    polemass_length = params.masspole * params.length
    costheta, sintheta = jnp.cos(state.theta), jnp.sin(state.theta)
    temp = (force + polemass_length * state.theta_dot**2 * sintheta) / total_mass
    thetaacc = (params.gravity * sintheta - costheta * temp) / (
      params.length * (4.0 / 3.0 - params.masspole * costheta**2 / total_mass)
    )
    xacc = temp - polemass_length * thetaacc * costheta / total_mass
    # Explicit Euler integration, as in gymnasium's default.
    x = state.x + params.tau * state.x_dot
    x_dot = state.x_dot + params.tau * xacc
    theta = state.theta + params.tau * state.theta_dot
    theta_dot = state.theta_dot + params.tau * thetaacc
    new_state = CartPoleState(x, x_dot, theta, theta_dot, state.time + 1)
    terminated = (
      (x < -params.x_threshold)
      | (x > params.x_threshold)
      | (theta < -params.theta_threshold_radians)
      | (theta > params.theta_threshold_radians)
    )
    return self._obs(new_state), new_state, jnp.float32(1.0), terminated, {}

  def reset_env(self, key, params):
    init = jax.random.uniform(key, (4,), minval=-0.05, maxval=0.05)
    state = CartPoleState(init[0], init[1], init[2], init[3], jnp.int32(0))
    return self._obs(state), state

  @staticmethod
  def _obs(state: CartPoleState) -> jax.Array:
    return jnp.stack([state.x, state.x_dot, state.theta, state.theta_dot]).astype(jnp.float32)

  def action_space(self, params=None):
    return spaces.Discrete(2)

  def observation_space(self, params=None):
    params = params or self.default_params
    inf = jnp.finfo(jnp.float32).max
    high = jnp.array(
      [params.x_threshold * 2, inf, params.theta_threshold_radians * 2, inf],
      jnp.float32,
    )
    return spaces.Box(-high, high, (4,), jnp.float32)


ENVIRONMENTS.add("CartPole-v1", CartPole)
