"""Orthogonal initialisation that is safe to vmap over seeds on XLA:CPU.

`orthogonal(scale)` draws the same matrices as `jax.nn.initializers.orthogonal`
(Saxe et al. 2014, arXiv:1312.6120: a Gaussian matrix's Q factor, signs fixed by
diag(R)), but runs the QR decomposition of a vmapped initialisation one matrix at a
time.

Why: under `vmap` the QR becomes one batched LAPACK call, which jaxlib's CPU
kernel splits over XLA's intra-op thread pool and then waits for inside a pool
thread. When two such calls (two layers' kernels) run at once on a machine with
two pool threads, both threads wait for work that no thread is free to run, and
the program never returns (0% CPU). We saw this in the seed-vmapped
initialisation of PPO runners on a 2-core CPU with jax 0.10.2. A sequential vmap
(`jax.custom_batching.sequential_vmap`, a loop over the batch) calls the
unbatched kernel, which runs on the calling thread. Initialisation happens once
per run, so the loop costs nothing that matters.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp


def orthogonal(scale: float = 1.0, column_axis: int = -1, dtype=jnp.float32):
  """A kernel initialiser `init(key, shape, dtype) -> Array[shape]`.

  Args:
    scale: multiplies the orthogonal matrix (e.g. sqrt(2) for ReLU/tanh layers,
      0.01 for a policy head, 1.0 for a value head).
    column_axis: the axis whose slices are orthonormal columns.
    dtype: the default dtype.

  Returns:
    An initialiser equal in value to `jax.nn.initializers.orthogonal(scale,
    column_axis, dtype)`.
  """
  base = jax.nn.initializers.orthogonal(scale, column_axis, dtype)

  def init(key, shape, dtype=dtype):
    @jax.custom_batching.sequential_vmap
    def draw(k):
      return base(k, shape, dtype)

    return draw(key)

  return functools.wraps(base)(init)
