"""Encoding a batch of padded sequences without the work on their padding.

A causal encoder whose per-row summary ignores the positions after a row's last
token (`ConvEncoder`: a causal convolution, then a masked mean and max) gives the same
summary for `tokens[:, :L']` as for `tokens` whenever every row ends by position L'.
The conversation world's observations hold every position an episode can fill, so most
rows are mostly padding: at the main job's runlocal shapes the real contexts are 23
tokens long (median) of 72, 48 at the 99th percentile and 54 at most; at full scale
34, 83 and 99 of 128.

`bucketed_rows` sorts the rows by length, cuts the sorted batch into `num_buckets`
static row ranges, and encodes each range at the shortest length of a fixed ladder
that holds its longest row (`lax.switch` over one compiled branch per ladder length):

  l_i = 1 + index of the last non-PAD token of row i   (0 for an all-PAD row)
  pi  = argsort(l)                    (stable)
  B_k = rows pi[s_k:e_k],  L_k = min{L' in ladder : L' >= l_{pi[e_k - 1]}}
  out[pi[s_k:e_k]] = f(tokens[B_k, :L_k])

Row by row this is `f(tokens)` (up to floating-point reduction order, as the sums run
over fewer zeros): the ladder ends at the full length, so a bucket that no shorter
length holds falls back to it, and no content is ever cut. The gradient is a
`jax.custom_vjp` whose backward pass re-runs the chosen branch's forward under
`jax.vjp`: a `switch` differentiated by JAX would keep every branch's residuals
(zero-filled for the branches not taken), [n, L', D] arrays written for nothing.

`switch` picks one branch at run time only outside `vmap`: under `vmap` with a batched
index it becomes a select that computes every branch. Use it where each program runs
one seed at a time (`training/seed_axis.py`, seeds in turn on a CPU); elsewhere leave
it off (`ConvEncoder.length_buckets = 0`).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import jax
import jax.numpy as jnp


def row_lengths(tokens: jax.Array) -> jax.Array:
  """1 + the index of each row's last non-PAD (non-zero) token; 0 for an all-PAD row.

  tokens: int32[N, L] -> int32[N].
  """
  length = tokens.shape[-1]
  from_end = jnp.argmax(jnp.flip(tokens != 0, axis=-1), axis=-1)
  return jnp.where(jnp.any(tokens != 0, axis=-1), length - from_end, 0).astype(jnp.int32)


def length_ladder(length: int) -> tuple[int, ...]:
  """The lengths a bucket may be cut to: L/4, 3L/8, L/2, 3L/4 rounded up to a multiple
  of 8 (at most L), and L itself (the fallback that always holds a row).

  72 -> (24, 32, 40, 56, 72); 128 -> (32, 48, 64, 96, 128).
  """
  cuts = {min(length, 8 * math.ceil(length * f / 8)) for f in (1 / 4, 3 / 8, 1 / 2, 3 / 4)}
  return tuple(sorted(cuts | {length}))


def bucket_bounds(n: int, num_buckets: int) -> tuple[tuple[int, int], ...]:
  """`num_buckets` contiguous row ranges of sizes differing by at most one (no empty one)."""
  num_buckets = max(1, min(num_buckets, n))
  edges = [round(k * n / num_buckets) for k in range(num_buckets + 1)]
  return tuple((s, e) for s, e in zip(edges[:-1], edges[1:], strict=True))


def _switch_encode(fn: Callable, ladder: tuple[int, ...]):
  """g(params, tokens, branch) = fn(params, tokens[:, :ladder[branch]]), with a VJP that
  re-runs only the chosen branch (see the module docstring)."""
  branches = [lambda p, t, cut=cut: fn(p, t[:, :cut]) for cut in ladder]

  @jax.custom_vjp
  def encode(params, tokens, branch):
    return jax.lax.switch(branch, branches, params, tokens)

  def fwd(params, tokens, branch):
    return encode(params, tokens, branch), (params, tokens, branch)

  def bwd(res, g):
    params, tokens, branch = res

    def grad_of(b):
      return lambda p, t, g: jax.vjp(lambda q: b(q, t), p)[1](g)[0]

    d_params = jax.lax.switch(branch, [grad_of(b) for b in branches], params, tokens, g)
    return d_params, None, None

  encode.defvjp(fwd, bwd)
  return encode


def bucketed_rows(
  fn: Callable,
  params,
  tokens: jax.Array,
  num_buckets: int,
) -> jax.Array:
  """`fn(params, tokens)` computed on length buckets (the module docstring's equations).

  Args:
    fn: (params, int32[n, L']) -> float32[n, F]; row i of its output depends only on
      row i of its input and not on positions after that row's last non-PAD token.
    params: a pytree of arrays (differentiable).
    tokens: int32[N, L], PAD = 0.
    num_buckets: how many row ranges; 0 or 1 with N rows computes `fn` on the whole
      batch at one ladder length (still cut when every row is short).

  Returns:
    float32[N, F], row i equal to `fn(params, tokens)[i]` up to reduction order.
  """
  n, length = tokens.shape
  ladder = length_ladder(length)
  if len(ladder) == 1:
    return fn(params, tokens)
  encode = _switch_encode(fn, ladder)
  lengths = row_lengths(tokens)
  order = jnp.argsort(lengths, stable=True)
  sorted_tokens, sorted_lengths = tokens[order], lengths[order]
  outs = []
  for s, e in bucket_bounds(n, max(num_buckets, 1)):
    branch = jnp.searchsorted(jnp.asarray(ladder, jnp.int32), sorted_lengths[e - 1])
    outs.append(encode(params, sorted_tokens[s:e], branch.astype(jnp.int32)))
  out = jnp.concatenate(outs, axis=0)
  return jnp.zeros_like(out).at[order].set(out, unique_indices=True)
