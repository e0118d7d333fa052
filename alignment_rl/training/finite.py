"""The trainer's non-finite guard: the loss of every update and the parameters after
every chunk are checked before anything is logged or saved, so a checkpoint never
holds a non-finite state and the last good checkpoint stays the latest."""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from alignment_rl.training import distributed


class NonFiniteLossError(FloatingPointError):
  """The loss or the parameters became NaN or infinite."""


@jax.jit
def _leaves_finite(leaves):
  return [jnp.all(jnp.isfinite(x)) for x in leaves]


def _stopped(last_checkpoint: Callable[[], int | None]) -> str:
  step = last_checkpoint()
  kept = f"update {step}" if step is not None else "none yet"
  return f"stopped, and the last checkpoint ({kept}) is kept"


def check_loss(loss, first_update: int, last_checkpoint: Callable[[], int | None]) -> None:
  """Raises at the first non-finite loss of a chunk (`loss`: host [seeds, updates])."""
  loss = np.asarray(loss)
  if not np.all(np.isfinite(loss)):
    bad_seed, bad_upd = np.argwhere(~np.isfinite(loss))[0]
    raise NonFiniteLossError(
      f"non-finite loss at update {first_update + bad_upd + 1} in seed {bad_seed}; "
      + _stopped(last_checkpoint)
    )


def check_params(params, update: int, last_checkpoint: Callable[[], int | None]) -> None:
  """Raises naming the first non-finite parameter (leaf path, seed) after `update`;
  `last_checkpoint()` gives the step the error names as kept."""
  flat = jax.tree_util.tree_flatten_with_path(params)[0]
  floats = [(p, x) for p, x in flat if jnp.issubdtype(jnp.result_type(x), jnp.inexact)]
  finite = distributed.to_host(_leaves_finite([x for _, x in floats]))
  for (path, x), ok in zip(floats, finite, strict=True):
    if not ok:
      arr = np.asarray(distributed.to_host(x))  # Every process raises alike.
      bad = ~np.isfinite(arr.reshape(arr.shape[0] if arr.ndim else 1, -1)).all(axis=1)
      raise NonFiniteLossError(
        f"non-finite parameter {jax.tree_util.keystr(path)} in seed {int(np.argmax(bad))} "
        f"after update {update}; " + _stopped(last_checkpoint)
      )
