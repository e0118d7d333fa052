"""The shared grid engine: ASCII maps into arrays, movement and Sokoban pushing.

Maps are parsed once, with NumPy, when an environment is built; the per-step
functions below are pure `jnp` on positions (int32[2], row then column) and on
small boolean grids, so every environment jits and vmaps. Actions are the
upstream's: `UP=0, DOWN=1, LEFT=2, RIGHT=3`, and `NOOP=4` where enabled.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from alignment_rl.envs.gridworlds import cells

UP, DOWN, LEFT, RIGHT, NOOP = 0, 1, 2, 3, 4
# Demonstration strings use one letter per action, as the upstream's do.
ACTION_LETTERS = {"u": UP, "d": DOWN, "l": LEFT, "r": RIGHT, "n": NOOP}


# Parsing (NumPy, at construction) ---------------------------------------------


def parse_art(rows: Sequence[str]) -> np.ndarray:
  """Returns the map as a char array of shape [H, W]; rows must be equally long."""
  widths = {len(r) for r in rows}
  if len(widths) != 1:
    raise ValueError(f"map rows must have equal lengths, got {sorted(widths)}")
  return np.array([list(r) for r in rows], dtype="<U1")


def positions(art: np.ndarray, chars: str) -> np.ndarray:
  """Returns int32[K, 2] positions of `chars` in row-major order."""
  return np.argwhere(np.isin(art, list(chars))).astype(np.int32).reshape(-1, 2)


def position(art: np.ndarray, char: str) -> np.ndarray:
  """Returns the int32[2] position of the only `char` in `art`."""
  found = positions(art, char)
  if len(found) != 1:
    raise ValueError(f"expected exactly one {char!r} in the map, found {len(found)}")
  return found[0]


def codes(art: np.ndarray, legend: Mapping[str, int]) -> np.ndarray:
  """Returns the int32[H, W] background: `legend[char]`, `FLOOR` for other chars."""
  out = np.full(art.shape, cells.FLOOR, np.int32)
  for char, code in legend.items():
    out[art == char] = code
  return out


def actions_from_string(letters: str) -> np.ndarray:
  """Turns a demonstration such as "dllllldd" into int32 actions."""
  return np.array([ACTION_LETTERS[c] for c in letters], np.int32)


# Per-step functions (jnp) -------------------------------------------------------


def delta(action: jax.Array) -> jax.Array:
  """Returns the int32[2] move of `action` (zero for NOOP), without a gather."""
  dr = (action == DOWN).astype(jnp.int32) - (action == UP).astype(jnp.int32)
  dc = (action == RIGHT).astype(jnp.int32) - (action == LEFT).astype(jnp.int32)
  return jnp.stack([dr, dc])


def lookup(grid, pos: jax.Array) -> jax.Array:
  """Returns `grid[pos]` for a grid of shape [H, W] (NumPy constant or array)."""
  return jnp.asarray(grid)[pos[0], pos[1]]


def same(a: jax.Array, b: jax.Array) -> jax.Array:
  """Elementwise position equality over the last axis: [..., 2] x [..., 2] -> bool[...]."""
  return jnp.all(a == b, axis=-1)


def pos_mask(pos: jax.Array, shape: tuple[int, int]) -> jax.Array:
  """Returns bool[H, W], true only at `pos`."""
  rows = jnp.arange(shape[0], dtype=jnp.int32)[:, None]
  cols = jnp.arange(shape[1], dtype=jnp.int32)[None, :]
  return (rows == pos[0]) & (cols == pos[1])


def paint(board: jax.Array, pos: jax.Array, code, on=True) -> jax.Array:
  """Paints `code` at `pos` (where `on`) on an int32[H, W] board.

  A one-element scatter: under vmap on CPU it is several times cheaper than a
  masked select over the whole board. Where `on` is false the row index is moved
  off the board and the write is dropped.
  """
  row = jnp.where(on, pos[0], board.shape[0])
  return board.at[row, pos[1]].set(jnp.asarray(code, board.dtype), mode="drop")


def paint_row(board: jax.Array, row: int, code, on) -> jax.Array:
  """Repaints the whole row `row` with `code` where `on` (a pressed button, a drink)."""
  return board.at[row].set(jnp.where(on, jnp.int32(code), board[row]))


def walk(pos: jax.Array, action: jax.Array, blocked) -> jax.Array:
  """Moves one cell unless the destination is blocked (bool[H, W])."""
  target = pos + delta(action)
  return jnp.where(lookup(blocked, target), pos, target)


def push(
  agent: jax.Array,
  action: jax.Array,
  objects: jax.Array,
  agent_blocked,
  object_blocked,
  movable: jax.Array | None = None,
) -> tuple[jax.Array, jax.Array, jax.Array]:
  """Sokoban move: the agent pushes an object ahead of it, never pulls.

  The agent moves into a free cell; into an object's cell only if that object is
  movable and can move one cell further (not into `object_blocked` nor onto
  another object). Immovable objects block like walls.

  Args:
    agent: int32[2] agent position.
    action: int32[] action.
    objects: int32[K, 2] object positions.
    agent_blocked: bool[H, W] cells the agent cannot enter (walls).
    object_blocked: bool[H, W] cells an object cannot enter (walls, coins, ...).
    movable: optional bool[K], objects that can be pushed (default: all).

  Returns:
    (agent int32[2], objects int32[K, 2], moved bool[K]).
  """
  d = delta(action)
  target = agent + d
  hit = same(objects, target) & jnp.any(d != 0)
  beyond = target + d
  can_push = ~lookup(object_blocked, beyond) & ~jnp.any(same(objects, beyond))
  if movable is not None:
    can_push = can_push & jnp.any(hit & movable)
  moved = hit & can_push
  objects = jnp.where(moved[:, None], objects + d, objects)
  free = ~lookup(agent_blocked, target) & (~jnp.any(hit) | can_push)
  return jnp.where(free, target, agent), objects, moved


def select(stack: np.ndarray, index: jax.Array) -> jax.Array:
  """Returns `stack[index]` for a small static stack [V, ...] with a where-chain."""
  out = jnp.asarray(stack[0])
  for v in range(1, len(stack)):
    out = jnp.where(index == v, jnp.asarray(stack[v]), out)
  return out
