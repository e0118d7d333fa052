"""The base class of the gridworlds: options, observations, spaces, bookkeeping.

A subclass parses its map in `_setup`, builds its first state in `_init_state`,
moves the world in `_transition` and draws the agent's view in `board`. This
class adds what all eleven share:

* options chosen at construction: `level` (validated, with a one-line error
  listing the allowed levels), `noops` (a fifth action, NOOP), `one_hot` (the
  board as one-hot channels) and `pad` (the board padded to 10 x 10 with
  `cells.PAD`, so one policy runs over several environments), and overrides of
  any `EnvParams` field (`make(..., interruption_probability=0.3)`);
* the observation: the board, int32[H, W] (or [10, 10] padded), or float32
  [H, W, NUM_CODES] with `one_hot`;
* the episode bookkeeping in `info`: `hidden_reward` (this step's increment of
  the hidden performance), `episode_return` and `episode_performance` (totals so
  far; the episode's values where `done`), and `actual_action` (the action the
  world executed, which differs from the agent's when it is interrupted).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

from alignment_rl.envs import spaces
from alignment_rl.envs.environment import Environment, EnvParams
from alignment_rl.envs.gridworlds import cells, engine, render


@struct.dataclass
class GridState:
  """State fields shared by every gridworld; subclasses add their own.

  Attributes:
    time: int32[], steps taken in this episode.
    agent: int32[2], the agent's (row, column).
    episode_return: float32[], visible reward so far.
    episode_performance: float32[], hidden performance so far.
  """

  time: jax.Array
  agent: jax.Array
  episode_return: jax.Array
  episode_performance: jax.Array


@struct.dataclass
class GridParams(EnvParams):
  """Upstream episodes end after 100 steps (`max_iterations=100`), undiscounted."""

  max_steps_in_episode: int = 100


class GridworldEnv(Environment):
  """Shared plumbing of the AI Safety Gridworlds; see the module docstring."""

  upstream_name: str = ""
  params_cls: type = GridParams
  levels: tuple = (0,)
  default_level: Any = 0
  extra_options: tuple[str, ...] = ()

  def __init__(
    self, level=None, *, noops: bool = False, one_hot: bool = False, pad: bool = False, **options
  ):
    extra = {k: options.pop(k) for k in self.extra_options if k in options}
    fields = [f.name for f in dataclasses.fields(self.params_cls)]
    unknown = sorted(set(options) - set(fields))
    if unknown:
      allowed = ["level", "noops", "one_hot", "pad", *self.extra_options, *fields]
      raise TypeError(
        f"gridworlds/{self.upstream_name}: unknown option(s) {unknown}; "
        f"allowed: {', '.join(allowed)}"
      )
    self.level = self._check_level(self.default_level if level is None else level)
    self.noops = bool(noops)
    self.one_hot = bool(one_hot)
    self.pad = bool(pad)
    self._options = options
    self._setup(**extra)
    self._default_params = self.params_cls(**self._options)
    self.shape: tuple[int, int] = tuple(int(s) for s in self.background.shape)
    if self.pad and max(self.shape) > cells.PADDED_SIZE:
      raise ValueError(f"map {self.shape} does not fit the {cells.PADDED_SIZE}-cell pad")

  def _check_level(self, level):
    if level not in self.levels:
      allowed = ", ".join(repr(x) for x in self.levels)
      raise ValueError(
        f"gridworlds/{self.upstream_name}: unknown level {level!r}; allowed: {allowed}"
      )
    return level

  @property
  def name(self) -> str:
    return f"gridworlds/{self.upstream_name}"

  @property
  def default_params(self):
    return self._default_params

  # Subclass interface ------------------------------------------------------------

  background: np.ndarray  # int32[H, W] static codes, set by `_setup`.

  def _setup(self, **extra) -> None:
    raise NotImplementedError

  def _init_state(self, key: jax.Array, params) -> GridState:
    raise NotImplementedError

  def _transition(self, key, state, action, params):
    """Returns (state, reward, hidden_reward, terminated, info) for one step."""
    raise NotImplementedError

  def board(self, state, reveal: bool = False) -> jax.Array:
    """The agent's view as int32[H, W] codes (`reveal` shows hidden contents)."""
    raise NotImplementedError

  def exploration(self, state, params=None) -> jax.Array:
    """The exploration rate the agent's side must apply (only whisky_gold sets one)."""
    del state, params
    return jnp.float32(0.0)

  # Shared pieces ---------------------------------------------------------------

  def _base(self, agent) -> dict[str, jax.Array]:
    return dict(
      time=jnp.int32(0),
      agent=jnp.asarray(agent, jnp.int32),
      episode_return=jnp.float32(0.0),
      episode_performance=jnp.float32(0.0),
    )

  def get_obs(self, state) -> jax.Array:
    """The observation: int32[H, W] board (padded / one-hot as configured)."""
    board = self.board(state)
    if self.pad:
      h, w = self.shape
      size = cells.PADDED_SIZE
      board = jnp.pad(board, ((0, size - h), (0, size - w)), constant_values=cells.PAD)
    if self.one_hot:
      return jax.nn.one_hot(board, cells.NUM_CODES, dtype=jnp.float32)
    return board

  def reset_env(self, key, params):
    state = self._init_state(key, params)
    return self.get_obs(state), state

  def step_env(self, key, state, action, params):
    action = jnp.clip(jnp.asarray(action, jnp.int32), 0, self.num_actions - 1)
    new, reward, hidden, terminated, info = self._transition(key, state, action, params)
    reward = jnp.asarray(reward, jnp.float32)
    hidden = jnp.asarray(hidden, jnp.float32)
    ret = state.episode_return + reward
    perf = state.episode_performance + hidden
    new = new.replace(time=state.time + 1, episode_return=ret, episode_performance=perf)
    info = dict(info)
    info.setdefault("actual_action", action)
    info.update(hidden_reward=hidden, episode_return=ret, episode_performance=perf)
    return self.get_obs(new), new, reward, jnp.asarray(terminated, jnp.bool_), info

  @property
  def num_actions(self) -> int:
    return 5 if self.noops else 4

  def action_space(self, params=None):
    return spaces.Discrete(self.num_actions)

  def observation_space(self, params=None):
    shape = (cells.PADDED_SIZE,) * 2 if self.pad else self.shape
    if self.one_hot:
      return spaces.Box(0.0, 1.0, (*shape, cells.NUM_CODES), jnp.float32)
    return spaces.Box(0, cells.NUM_CODES - 1, shape, jnp.int32)

  # Rendering ---------------------------------------------------------------------

  def render_text(self, state, reveal: bool = False) -> str:
    """The board as ASCII, in the characters of the upstream maps."""
    return render.to_text(np.asarray(self.board(state, reveal)))

  def render_png(self, state, path=None, reveal: bool = False) -> bytes:
    """The board as PNG bytes (written to `path` too when given)."""
    return render.to_png(np.asarray(self.board(state, reveal)), path, title=self.name)

  def __repr__(self) -> str:
    return f"{type(self).__name__}(level={self.level!r}, noops={self.noops})"


def reward_if(cond, value) -> jax.Array:
  """`value` where `cond`, else 0, as float32."""
  return jnp.where(cond, jnp.asarray(value, jnp.float32), jnp.float32(0.0))


__all__ = ["GridParams", "GridState", "GridworldEnv", "engine", "reward_if"]
