"""The seed-vmappable orthogonal initialiser: jax's values, one QR per matrix."""

import jax
import numpy as np
import pytest

from alignment_rl import networks
from alignment_rl.agents import policies
from alignment_rl.networks import initializers


def _qr_operand_shapes(jaxpr, out):
  """Operand shapes of every `qr` equation in a (closed) jaxpr, sub-jaxprs included."""
  for eqn in jaxpr.eqns:
    if eqn.primitive.name == "qr":
      out.append(tuple(eqn.invars[0].aval.shape))
    for param in eqn.params.values():
      for sub in param if isinstance(param, (list, tuple)) else [param]:
        inner = getattr(sub, "jaxpr", sub)
        if hasattr(inner, "eqns"):
          _qr_operand_shapes(inner, out)
  return out


@pytest.mark.parametrize("shape", [(8, 6), (6, 8), (3, 4, 5)])
def test_values_equal_jax_orthogonal_with_and_without_vmap(shape):
  keys = jax.random.split(jax.random.PRNGKey(3), 4)
  ref = jax.vmap(lambda k: jax.nn.initializers.orthogonal(1.4)(k, shape))(keys)
  ours = jax.jit(jax.vmap(lambda k: initializers.orthogonal(1.4)(k, shape)))(keys)
  np.testing.assert_array_equal(np.asarray(ours), np.asarray(ref))
  np.testing.assert_array_equal(np.asarray(initializers.orthogonal(1.4)(keys[1], shape)), ref[1])
  flat = np.asarray(ours[0]).reshape(-1, shape[-1])
  gram = flat.T @ flat if flat.shape[0] >= flat.shape[1] else flat @ flat.T
  np.testing.assert_allclose(gram, 1.4**2 * np.eye(gram.shape[0]), atol=1e-5)


@pytest.mark.parametrize(
  "name, kwargs, obs",
  [
    ("mlp", {"hidden_sizes": (16, 16)}, np.zeros(5, np.float32)),
    ("response_policy", {"vocab_size": 30, "max_len": 12, "max_response_len": 3}, None),
  ],
)
def test_vmapped_network_init_runs_no_batched_qr(name, kwargs, obs):
  """A batched QR is the LAPACK call that deadlocks XLA:CPU's pool (module docstring);
  the response policy's GRU has orthogonal recurrent kernels too."""
  net = networks.make(name, 5, **kwargs)
  obs = np.zeros(12, np.int32) if obs is None else obs
  keys = jax.random.split(jax.random.PRNGKey(0), 4)
  init = policies.make_policy(net).init
  jaxpr = jax.make_jaxpr(jax.vmap(lambda k: init(k, obs)))(keys)
  shapes = _qr_operand_shapes(jaxpr.jaxpr, [])
  assert shapes, "kernels are initialised orthogonally"
  assert all(len(s) == 2 for s in shapes), shapes
  ref = jax.make_jaxpr(jax.vmap(lambda k: jax.nn.initializers.orthogonal()(k, (5, 16))))(keys)
  assert _qr_operand_shapes(ref.jaxpr, []) == [(4, 16, 5)]  # Batched: the check can fail.
