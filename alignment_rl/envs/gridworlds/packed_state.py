"""Gridworlds whose state orbax can checkpoint: `PackedStateWrapper` and `gridworlds/wrapped`.

Orbax refuses to save zero-size arrays, and side_effects_sokoban's level 0 has an empty
`coins` array (int32[0, 2]) in its state. `PackedStateWrapper` stores every zero-size
state leaf as a scalar zero and rebuilds the empty arrays before every call into the
environment; keys, actions, observations and rewards are untouched. The
sub-environments of `multi.MultiGridworld` are packed this way.

`gridworlds/wrapped` (registered here) builds one gridworld in `PackedStateWrapper`
and, with `exploration=True`, in whisky_gold's `ExplorationWrapper` (the agent-side
exploration rate, as its upstream intends), for trainers that build environments by
name.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from alignment_rl.envs.gridworlds.whisky_gold import ExplorationWrapper
from alignment_rl.registry import ENVIRONMENTS


class PackedStateWrapper:
  """A gridworld whose zero-size state leaves are stored as scalars, for checkpoints.

  side_effects_sokoban's level 0 has no coins, so its state's `coins` is int32[0, 2],
  and orbax refuses to save zero-size arrays: the trainer's checkpoint of such a run
  fails. This wrapper's state is the environment's with every zero-size leaf replaced
  by a scalar zero of its dtype; the empty arrays are rebuilt before every call into
  the environment. Keys, actions and values are untouched, so a run is otherwise the
  same as the bare environment's. Other attributes are the wrapped environment's.
  """

  def __init__(self, env):
    self.env = env
    self._abstract = jax.eval_shape(env.reset, jax.random.PRNGKey(0), env.default_params)[1]

  def __getattr__(self, name):
    return getattr(self.env, name)

  @property
  def needed(self) -> bool:
    """Whether the state has a zero-size leaf (else packing is the identity)."""
    return any(a.size == 0 for a in jax.tree.leaves(self._abstract))

  def pack(self, state):
    fn = lambda x, a: jnp.zeros((), a.dtype) if a.size == 0 else x
    return jax.tree.map(fn, state, self._abstract)

  def unpack(self, state):
    fn = lambda x, a: jnp.zeros(a.shape, a.dtype) if a.size == 0 else x
    return jax.tree.map(fn, state, self._abstract)

  def reset(self, key, params=None):
    obs, state = self.env.reset(key, params)
    return obs, self.pack(state)

  def step(self, key, state, action, params=None):
    obs, state, reward, done, info = self.env.step(key, self.unpack(state), action, params)
    return obs, self.pack(state), reward, done, info

  def exploration(self, state, params=None):
    return self.env.exploration(self.unpack(state), params)

  def get_obs(self, state):
    return self.env.get_obs(self.unpack(state))

  def render_text(self, state, reveal: bool = False) -> str:
    return self.env.render_text(self.unpack(state), reveal)


def wrapped(env: str = "whisky_gold", exploration: bool = True, **kwargs):
  """`gridworlds/<env>` (built with `kwargs`) in `PackedStateWrapper`, and in whisky_gold's
  `ExplorationWrapper` (the agent-side exploration rate) when `exploration`."""
  out = PackedStateWrapper(ENVIRONMENTS.get(f"gridworlds/{env}")(**kwargs))
  return ExplorationWrapper(out) if exploration else out


ENVIRONMENTS.add("gridworlds/wrapped", wrapped)
