"""A GRU cell (Cho et al. 2014) split into its input and recurrent halves.

The same function and parameters as `flax.linen.GRUCell` (same names, shapes and
initialisers, so checkpoints and initial values are interchangeable):

  r = sigmoid(W_ir x + b_ir + W_hr h)
  z = sigmoid(W_iz x + b_iz + W_hz h)
  n = tanh(W_in x + b_in + r * (W_hn h + b_hn))
  h' = (1 - z) * n + z * h

but computed as two matmuls instead of six: `input_projection(x)` gives
[W_ir x + b_ir, W_iz x + b_iz, W_in x + b_in] (float32[..., 3D]) and `step(h, xi)`
the recurrence from it. A caller whose inputs are known in advance (teacher forcing)
projects them all at once, outside the sequential loop; one whose inputs are sums
(an action embedding plus a per-sequence context term) projects each part once.
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp

from alignment_rl.networks import initializers

_INPUT_GATES = ("ir", "iz", "in")
_RECURRENT_GATES = ("hr", "hz", "hn")


class _Affine(nn.Module):
  """The parameters of one gate's dense layer (the path flax's GRUCell gives them)."""

  in_features: int
  features: int
  use_bias: bool
  kernel_init: nn.initializers.Initializer

  @nn.compact
  def __call__(self):
    kernel = self.param("kernel", self.kernel_init, (self.in_features, self.features))
    bias = (
      self.param("bias", nn.initializers.zeros, (self.features,))
      if self.use_bias
      else jnp.zeros((self.features,), kernel.dtype)
    )
    return kernel, bias


class FusedGRUCell(nn.Module):
  """GRU cell of `features` units over `in_features` inputs; see the module docstring."""

  features: int
  in_features: int

  def setup(self):
    d, i = self.features, self.in_features
    lecun = nn.initializers.lecun_normal()
    orth = initializers.orthogonal()
    self.ir = _Affine(i, d, True, lecun)
    self.iz = _Affine(i, d, True, lecun)
    setattr(self, "in", _Affine(i, d, True, lecun))  # A keyword: named as flax names it.
    self.hr = _Affine(d, d, False, orth)
    self.hz = _Affine(d, d, False, orth)
    self.hn = _Affine(d, d, True, orth)

  def _fused(self, gates):
    kernels, biases = zip(*(g() for g in gates), strict=True)
    return jnp.concatenate(kernels, axis=1), jnp.concatenate(biases)

  def input_kernel(self) -> tuple[jax.Array, jax.Array]:
    """(W_i float32[I, 3D], b_i float32[3D])."""
    return self._fused((self.ir, self.iz, getattr(self, "in")))

  def input_projection(self, x: jax.Array) -> jax.Array:
    """x float32[..., I] -> float32[..., 3D] (biases included)."""
    w, b = self.input_kernel()
    return x @ w + b

  def step(self, h: jax.Array, xi: jax.Array) -> jax.Array:
    """One step from h float32[..., D] and an input projection xi float32[..., 3D]."""
    w, b = self._fused((self.hr, self.hz, self.hn))
    # jnp.split, not slices: the gradient is one concatenation, not three padded adds.
    x_r, x_z, x_n = jnp.split(xi, 3, axis=-1)
    h_r, h_z, h_n = jnp.split(h @ w + b, 3, axis=-1)  # b is (0, 0, b_hn)
    r = jax.nn.sigmoid(x_r + h_r)
    z = jax.nn.sigmoid(x_z + h_z)
    n = jnp.tanh(x_n + r * h_n)
    return (1.0 - z) * n + z * h

  def __call__(self, h: jax.Array, x: jax.Array) -> tuple[jax.Array, jax.Array]:
    """(h, x) -> (h', h'), as `flax.linen.GRUCell`."""
    h = self.step(h, self.input_projection(x))
    return h, h
