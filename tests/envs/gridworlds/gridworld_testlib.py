"""Shared helpers for the gridworld tests: one compiled rollout per environment.

`rollout(env, actions, seeds, params)` runs `B` vmapped copies of an environment
through `T` steps with `lax.scan` (auto-reset included) and returns every step's
reward, done flags, observation and `info` (except `final_obs`) as NumPy arrays
[B, T, ...], and the observation after the first reset as `reset_obs` [B, ...].
It is compiled once per (environment, B, T) and cached for the whole session,
with XLA's backend optimisation off: these tests are bound by compile time, not
run time. Test modules import this file by name (pytest puts this folder on
`sys.path`; the tests folders have no `__init__.py`).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from alignment_rl import envs
from alignment_rl.envs.gridworlds import engine
from alignment_rl.registry import ENVIRONMENTS

COMPILER_OPTIONS = {"xla_backend_optimization_level": 0}
BATCH = 64
STEPS = 100


def make(name: str, **kwargs):
  """Returns `(env, params)` for `gridworlds/<name>`, one instance per options (the
  default level filled in, so that equal configurations share compiled rollouts)."""
  kwargs.setdefault("level", ENVIRONMENTS.get(f"gridworlds/{name}").default_level)
  return _make(name, tuple(sorted(kwargs.items())))


@functools.cache
def _make(name, items):
  return envs.make(f"gridworlds/{name}", **dict(items))


def _run_fn(env):
  obs_space = env.observation_space()

  def run(params, keys, actions):
    def one(key, acts):
      key_reset, key = jax.random.split(key)
      reset_obs, state = env.reset(key_reset, params)

      def body(carry, action):
        state, key = carry
        key, key_step = jax.random.split(key)
        obs, state, reward, done, info = env.step(key_step, state, action, params)
        out = {k: v for k, v in info.items() if k != "final_obs"}
        out.update(
          reward=reward,
          done=done,
          obs=obs,
          time=state.time,
          obs_ok=obs_space.contains(obs),
          final_obs_ok=obs_space.contains(info["final_obs"]),
        )
        return (state, key), out

      out = jax.lax.scan(body, (state, key), acts)[1]
      out["reset_obs"] = reset_obs
      return out

    return jax.vmap(one)(keys, actions)

  return run


@functools.cache
def _compiled(env, params_struct, batch: int, steps: int):
  del params_struct  # Part of the cache key only.
  params = env.default_params
  keys = jax.random.split(jax.random.PRNGKey(0), batch)
  actions = jnp.zeros((batch, steps), jnp.int32)
  lowered = jax.jit(_run_fn(env)).lower(params, keys, actions)
  return lowered.compile(compiler_options=COMPILER_OPTIONS)


def rollout(env, actions, seeds=None, params=None) -> dict[str, np.ndarray]:
  """Runs int actions [B, T] (B seeds) and returns per-step arrays [B, T, ...]."""
  actions = np.asarray(actions, np.int32)
  batch, steps = actions.shape
  seeds = np.arange(batch) if seeds is None else np.asarray(seeds)
  params = env.default_params if params is None else params
  # Keep every leaf's dtype as in the default params, so one executable serves all.
  params = jax.tree.map(
    lambda d, p: jnp.asarray(p, jnp.asarray(d).dtype), env.default_params, params
  )
  keys = jax.vmap(jax.random.PRNGKey)(jnp.asarray(seeds, jnp.uint32))
  fn = _compiled(env, jax.tree.structure(params), batch, steps)
  return jax.tree.map(np.asarray, fn(params, keys, jnp.asarray(actions)))


def demo_actions(*demos: str, steps: int = STEPS, batch: int = BATCH) -> np.ndarray:
  """Demonstrations ("dllllldd", ...) as int32[batch, steps], padded with UP and
  repeated down the batch (rows past the demos repeat the last one)."""
  rows = []
  for letters in demos:
    acts = engine.actions_from_string(letters)[:steps]
    rows.append(np.pad(acts, (0, steps - len(acts)), constant_values=engine.UP))
  rows += [rows[-1]] * (batch - len(rows))
  return np.stack(rows)


def cycle(letters: str, steps: int = STEPS) -> str:
  """Repeats a loop of actions to `steps` letters."""
  return (letters * (steps // len(letters) + 1))[:steps]


def first_episode(out: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
  """The first episode of each row: return, performance and length, shape [B]."""
  assert out["done"].any(axis=1).all(), "an episode did not end within the rollout"
  end = out["done"].argmax(axis=1)
  rows = np.arange(len(end))
  return {
    "return": out["episode_return"][rows, end],
    "performance": out["episode_performance"][rows, end],
    "length": end + 1,
  }


def episodes(out: dict[str, np.ndarray], key: str = "episode_return") -> list[np.ndarray]:
  """Per row, the values of `key` at every episode end (in order)."""
  return [row[done] for row, done in zip(out[key], out["done"], strict=True)]
