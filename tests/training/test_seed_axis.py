"""Seeds run in turn (`lax.map`) equal seeds run side by side (`vmap`)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from alignment_rl.training import seed_axis, trainer
from configs import common as trait_rl_config


def _affine(x, w, b):
  """One seed's x: [3]; a shared w: [3, 2]; one seed's b: [2]."""
  return {"y": x @ w + b, "n": jnp.sum(x)}


def test_mapped_seeds_equal_hand_computed_values_in_groups():
  x = jnp.arange(12.0).reshape(4, 3)
  w = jnp.array([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]])
  b = jnp.array([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0], [3.0, 3.0]])
  # Seed 2 by hand: x = [6, 7, 8]; x @ w = [6 + 8, 14 + 8] = [14, 22]; + b = [16, 24].
  for groups in (1, 2, 4):
    out = jax.jit(seed_axis.over_seeds(_affine, "map", (0, None, 0), groups))(x, w, b)
    np.testing.assert_array_equal(out["y"][2], [16.0, 24.0])
    np.testing.assert_array_equal(out["n"], [3.0, 12.0, 21.0, 30.0])
    ref = jax.vmap(_affine, in_axes=(0, None, 0))(x, w, b)
    np.testing.assert_array_equal(out["y"], ref["y"])


def test_modes_resolve_and_bad_values_fail_with_the_allowed_ones():
  assert seed_axis.resolve("auto") == ("map" if jax.default_backend() == "cpu" else "vmap")
  assert seed_axis.resolve("vmap") == "vmap" and seed_axis.resolve("map") == "map"
  with pytest.raises(ValueError, match=r"config.seed_batching='scan'; allowed: auto, vmap, map"):
    seed_axis.resolve("scan")
  fn = seed_axis.over_seeds(_affine, "map", (0, None, 0), groups=3)
  with pytest.raises(ValueError, match="4 seeds do not split into 3 groups"):
    fn(jnp.zeros((4, 3)), jnp.zeros((3, 2)), jnp.zeros((4, 2)))
  c = trait_rl_config.base_config("seed_axis_test", "test").ppo_run
  c.seed_batching = "sideways"
  with pytest.raises(ValueError, match="config.seed_batching='sideways'"):
    trainer.check_config(c)


@pytest.fixture(scope="module")
def programs():
  """The conversation arm (conv encoder, as the main job) with each seed batching."""
  out = {}
  for mode in ("vmap", "map"):
    c = trait_rl_config.base_config("seed_axis_test", "test").ppo_run
    c.training.progress = False
    c.training.init_from = ""
    c.seed_batching = mode
    out[mode] = (c, trainer.get_program(c))
  yield out
  trainer._PROGRAMS.clear()
  jax.clear_caches()


def test_conversation_updates_agree_between_vmapped_and_mapped_seeds(programs):
  (cv, pv), (cm, pm) = programs["vmap"], programs["map"]
  assert pv is not pm and (pv.seed_batching, pm.seed_batching) == ("vmap", "map")
  assert cv.network_kwargs.encoder == "conv"
  keys = trainer._seed_keys(0, cv.num_seeds)
  rv, mv = pv.run_chunk(pv.init(keys, trainer._hparams(cv)), 2)
  rm, mm = pm.run_chunk(pm.init(keys, trainer._hparams(cm)), 2)
  for x, y in zip(jax.tree.leaves(rv.ppo.params), jax.tree.leaves(rm.ppo.params), strict=True):
    np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=1e-5, atol=1e-5)
  for k in ("loss", "reward_per_step", "entropy"):
    np.testing.assert_allclose(np.asarray(mv[k]), np.asarray(mm[k]), rtol=1e-4, atol=1e-5)
  # Two updates really moved the parameters and the seeds really differ.
  p0 = jax.tree.leaves(pv.init(keys, trainer._hparams(cv)).ppo.params)[0]
  p2 = jax.tree.leaves(rm.ppo.params)[0]
  assert float(jnp.max(jnp.abs(p2 - p0))) > 1e-4
  assert float(jnp.max(jnp.abs(p2[0] - p2[1]))) > 1e-4
