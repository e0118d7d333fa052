"""Several gridworlds behind one interface: a new environment drawn every episode.

`MultiGridworld` (registered as `gridworlds/multi`) holds K padded gridworlds and,
at each episode start, draws which one the agent plays from `params.env_weights`.
Every board is padded to 10 x 10 with the shared cell codes of `cells`, so the
observation has one shape for all of them: float32[10, 10, NUM_CODES] (one-hot,
the default) or int32[10, 10]. One policy therefore trains on several
environments and is evaluated on others (transfer studies).

State: the tuple of all K (packed) sub-states plus the index of the one being played. A step
dispatches to that environment's own `step` with `lax.switch`; the sub-environment
auto-resets itself (friend_foe keeps its bandit's memory across its episodes), so
every sub-state that is not being played is at the start of a fresh episode, and
when an episode ends the next environment is drawn and its board shown.

Everything a study varies is an array leaf of `MultiParams`, so changing it does
not recompile a jitted function: the sampling weights (`env_weights`, float32[K]:
train on some environments, evaluate on one held-out environment by a one-hot
weight), the `reward_mode` (int32[]: 0 `visible`, the environment's reward; 1
`performance`, the hidden performance increment, a performance-aware reward), the
agent-side exploration (`exploration_scale`, float32[]: 1 applies whisky_gold's
exploration rate as its upstream intends, 0 ignores it) and every sub-environment's
own parameters (`sub_params`, e.g. distributional_shift's `level`).

`info` holds, besides the gymnax keys (`terminated`, `truncated`, `final_obs`,
`discount`): `visible_reward` and `hidden_reward` (this step's increments),
`episode_return` (the *visible* return, as in the single environments) with its
alias `visible_return` (log this one: the trainer's own `episode_return` metric is
the return of the trained reward), `episode_performance` (both totals so far, the
episode's values where `done`), `env_index` (the environment this step played) and
`explored` (whether the exploration replaced the agent's action).

The sub-environments are wrapped in `packed_state.PackedStateWrapper` (zero-size state
leaves stored as scalars, so that orbax can checkpoint them).

Random keys: `reset` splits its key into K + 1 (the first draws the environment,
key i + 1 resets sub-environment i); `step` splits its key into 3 (exploration,
the sub-environment's step, the next environment's draw).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

from alignment_rl.envs import spaces
from alignment_rl.envs.environment import Environment, EnvParams
from alignment_rl.envs.gridworlds import cells
from alignment_rl.envs.gridworlds.packed_state import PackedStateWrapper
from alignment_rl.registry import ENVIRONMENTS

REWARD_MODES = ("visible", "performance")


@struct.dataclass
class MultiParams(EnvParams):
  """Parameters of `MultiGridworld`; every field is an array leaf (or a tuple of them).

  Attributes:
    sub_params: tuple of the K sub-environments' params.
    env_weights: float32[K], unnormalised probability of drawing each environment.
    reward_mode: int32[], index into `REWARD_MODES`.
    exploration_scale: float32[], multiplies the agent-side exploration rate.
    max_steps_in_episode: the sub-environments' time limit (each applies its own).
  """

  sub_params: tuple = ()
  env_weights: Any = None
  reward_mode: Any = 0
  exploration_scale: Any = 1.0
  max_steps_in_episode: int = 100


@struct.dataclass
class MultiState:
  """Attributes: time int32[] (steps of this episode), env_index int32[], subs (K states)."""

  time: jax.Array
  env_index: jax.Array
  subs: tuple


class MultiGridworld(Environment):
  """K padded gridworlds, one drawn per episode; see the module docstring.

  Args:
    envs: gridworld names (without `gridworlds/`), default all eleven.
    train_envs: names drawn with equal weight by the default params (default: all).
    reward_mode: `visible` or `performance`.
    levels: optional {name: level}; other environments use their default level.
    exploration: apply the agent-side exploration rate (whisky_gold).
    one_hot: observations float32[10, 10, NUM_CODES] (else int32[10, 10]).
    noops: give every environment the fifth action, NOOP.
  """

  def __init__(
    self,
    envs: Sequence[str] | None = None,
    *,
    train_envs: Sequence[str] | None = None,
    reward_mode: str = "visible",
    levels: dict | None = None,
    exploration: bool = True,
    one_hot: bool = True,
    noops: bool = False,
  ):
    from alignment_rl.envs.gridworlds import ENV_NAMES

    self.names = tuple(ENV_NAMES if envs is None else envs)
    known = list(ENV_NAMES)
    for field, names in (("envs", self.names), ("train_envs", train_envs or ())):
      bad = [n for n in names if n not in known]
      if bad:
        raise ValueError(f"gridworlds/multi: unknown {field} {bad}; allowed: {', '.join(known)}")
    if not self.names or len(set(self.names)) != len(self.names):
      raise ValueError(f"gridworlds/multi: envs must be distinct and non-empty, got {self.names}")
    outside = [n for n in (train_envs or ()) if n not in self.names]
    if outside:
      raise ValueError(f"gridworlds/multi: train_envs {outside} are not in envs {self.names}")
    levels = dict(levels or {})
    self.envs = tuple(
      PackedStateWrapper(
        ENVIRONMENTS.get(f"gridworlds/{n}")(level=levels.get(n), pad=True, noops=noops)
      )
      for n in self.names
    )
    self.one_hot = bool(one_hot)
    self.noops = bool(noops)
    self._default_params = MultiParams(
      sub_params=tuple(e.default_params for e in self.envs),
      env_weights=self.weights(train_envs or self.names),
      reward_mode=self.reward_mode_index(reward_mode),
      exploration_scale=jnp.float32(1.0 if exploration else 0.0),
    )

  @property
  def name(self) -> str:
    return "gridworlds/multi"

  @property
  def default_params(self) -> MultiParams:
    return self._default_params

  # Helpers to vary the params (no recompiles) ----------------------------------------

  def weights(self, names: str | Sequence[str]) -> jax.Array:
    """float32[K] weights drawing uniformly among `names` (one name: always that one)."""
    names = (names,) if isinstance(names, str) else tuple(names)
    bad = [n for n in names if n not in self.names]
    if bad or not names:
      raise ValueError(f"gridworlds/multi: {bad or names} not among envs {self.names}")
    return jnp.asarray([float(n in names) for n in self.names], jnp.float32)

  @staticmethod
  def reward_mode_index(mode: str) -> jax.Array:
    if mode not in REWARD_MODES:
      raise ValueError(f"gridworlds/multi: unknown reward_mode {mode!r}; allowed: {REWARD_MODES}")
    return jnp.int32(REWARD_MODES.index(mode))

  # Dispatch -------------------------------------------------------------------------

  def _switch(self, index, fn, *operands):
    """`fn(i, *operands)` for the environment `index` (int32[]), via `lax.switch`."""
    branches = [functools.partial(fn, i) for i in range(len(self.envs))]
    return jax.lax.switch(jnp.clip(index, 0, len(self.envs) - 1), branches, *operands)

  def _board(self, index, subs) -> jax.Array:
    """int32[10, 10] padded board of environment `index`."""
    return self._switch(index, lambda i, s: self.envs[i].get_obs(s[i]), subs)

  def _encode(self, board: jax.Array) -> jax.Array:
    return jax.nn.one_hot(board, cells.NUM_CODES, dtype=jnp.float32) if self.one_hot else board

  def _draw(self, key, params) -> jax.Array:
    logits = jnp.log(jnp.asarray(params.env_weights, jnp.float32))
    return jax.random.categorical(key, logits).astype(jnp.int32)

  # The environment API ------------------------------------------------------------

  def reset_env(self, key, params):
    keys = jax.random.split(key, len(self.envs) + 1)
    subs = tuple(
      env.reset(k, p)[1] for env, k, p in zip(self.envs, keys[1:], params.sub_params, strict=True)
    )
    index = self._draw(keys[0], params)
    state = MultiState(time=jnp.int32(0), env_index=index, subs=subs)
    return self._encode(self._board(index, subs)), state

  def step(self, key, state: MultiState, action, params: MultiParams | None = None):
    """One step of the environment being played; a new one is drawn where `done`.

    Args:
      key: PRNG key.
      state: `MultiState`.
      action: int32[] action.
      params: `MultiParams` (default: `default_params`).

    Returns:
      (obs [10, 10, NUM_CODES] or [10, 10], state, reward float32[], done bool[], info).
    """
    params = self.default_params if params is None else params
    key_explore, key_sub, key_draw = jax.random.split(key, 3)
    index = state.env_index
    rate = self._switch(
      index, lambda i, s, p: self.envs[i].exploration(s[i], p[i]), state.subs, params.sub_params
    )
    k_coin, k_action = jax.random.split(key_explore)
    explored = jax.random.uniform(k_coin) < rate * params.exploration_scale
    random_action = jax.random.randint(k_action, (), 0, self.num_actions)
    action = jnp.where(explored, random_action, jnp.asarray(action, jnp.int32))

    def branch(i, subs, sub_params):
      obs, sub, reward, done, info = self.envs[i].step(key_sub, subs[i], action, sub_params[i])
      out = dict(
        board=obs,
        final_board=info["final_obs"],
        time=sub.time,
        reward=reward,
        hidden_reward=info["hidden_reward"],
        done=done,
        terminated=info["terminated"],
        truncated=info["truncated"],
        episode_return=info["episode_return"],
        episode_performance=info["episode_performance"],
      )
      return subs[:i] + (sub,) + subs[i + 1 :], out

    subs, out = self._switch(index, branch, state.subs, params.sub_params)
    done = out["done"]
    new_index = jnp.where(done, self._draw(key_draw, params), index)
    board = jnp.where(done, self._board(new_index, subs), out["board"])
    reward = jnp.where(params.reward_mode == 1, out["hidden_reward"], out["reward"])
    info = dict(
      terminated=out["terminated"],
      truncated=out["truncated"],
      final_obs=self._encode(out["final_board"]),
      discount=jnp.where(out["terminated"], 0.0, 1.0).astype(jnp.float32),
      visible_reward=out["reward"],
      hidden_reward=out["hidden_reward"],
      episode_return=out["episode_return"],
      visible_return=out["episode_return"],
      episode_performance=out["episode_performance"],
      env_index=index,
      explored=explored,
    )
    new = MultiState(time=out["time"], env_index=new_index, subs=subs)
    return self._encode(board), new, reward.astype(jnp.float32), done, info

  def action_space(self, params=None):
    return spaces.Discrete(5 if self.noops else 4)

  def observation_space(self, params=None):
    shape = (cells.PADDED_SIZE, cells.PADDED_SIZE)
    if self.one_hot:
      return spaces.Box(0.0, 1.0, (*shape, cells.NUM_CODES), jnp.float32)
    return spaces.Box(0, cells.NUM_CODES - 1, shape, jnp.int32)

  def render_text(self, state: MultiState, reveal: bool = False) -> str:
    """The board of the environment being played (one unbatched state), as ASCII."""
    i = int(np.asarray(state.env_index))
    return self.envs[i].render_text(state.subs[i], reveal)

  def __repr__(self) -> str:
    return f"MultiGridworld(envs={self.names})"


ENVIRONMENTS.add("gridworlds/multi", MultiGridworld)
