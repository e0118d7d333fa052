"""Seeds run in turn (`lax.map`) equal seeds run side by side (`vmap`)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from alignment_rl.agents import ppo as ppo_lib
from alignment_rl.training import seed_axis, trainer
from configs import common as trait_rl_config


def _affine(x, w, b):
  """One seed's x: [3]; a shared w: [3, 2]; one seed's b: [2]."""
  return {"y": x @ w + b, "n": jnp.sum(x)}


def test_mapped_seeds_equal_hand_computed_values():
  x = jnp.arange(12.0).reshape(4, 3)
  w = jnp.array([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]])
  b = jnp.array([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0], [3.0, 3.0]])
  # Seed 2 by hand: x = [6, 7, 8]; x @ w = [6 + 8, 14 + 8] = [14, 22]; + b = [16, 24].
  out = jax.jit(seed_axis.over_seeds(_affine, "map", (0, None, 0)))(x, w, b)
  np.testing.assert_array_equal(out["y"][2], [16.0, 24.0])
  np.testing.assert_array_equal(out["n"], [3.0, 12.0, 21.0, 30.0])
  ref = jax.vmap(_affine, in_axes=(0, None, 0))(x, w, b)
  np.testing.assert_array_equal(out["y"], ref["y"])
  # In turn: one scan over the 4 seeds, whose body sees one seed's x: [3].
  jaxpr = jax.make_jaxpr(seed_axis.over_seeds(_affine, "map", (0, None, 0)))(x, w, b)
  (scan,) = [e for e in jaxpr.eqns if e.primitive.name == "scan"]
  assert scan.params["length"] == 4
  assert scan.params["jaxpr"].in_avals[-2].shape == (3,)


def test_modes_resolve_and_bad_values_fail_with_the_allowed_ones():
  cpu = jax.default_backend() == "cpu"
  assert seed_axis.resolve("auto", "conv") == ("map" if cpu else "vmap")
  assert seed_axis.resolve("auto", "bag_of_tokens") == seed_axis.resolve("auto") == "vmap"
  assert seed_axis.resolve("auto", "conv", seed_devices=2) == "vmap"  # Split seeds: vmapped.
  assert seed_axis.resolve("map", "bag_of_tokens", seed_devices=2) == "map"
  assert seed_axis.resolve("vmap") == "vmap" and seed_axis.resolve("map") == "map"
  with pytest.raises(ValueError, match=r"config.seed_batching='scan'; allowed: auto, vmap, map"):
    seed_axis.resolve("scan")
  fn = seed_axis.over_seeds(_affine, "map", (0, None))
  with pytest.raises(ValueError, match="3 arguments but 2 in_axes"):
    fn(jnp.zeros((4, 3)), jnp.zeros((3, 2)), jnp.zeros((4, 2)))
  c = trait_rl_config.base_config("seed_axis_test", "test").ppo_run
  c.seed_batching = "sideways"
  with pytest.raises(ValueError, match="config.seed_batching='sideways'"):
    trainer.check_config(c)


def test_length_buckets_only_for_the_conv_response_policy_in_turn():
  conv = {"encoder": "conv", "d_model": 8}
  on = seed_axis.network_kwargs("response_policy", conv, "map")
  assert on == {**conv, "length_buckets": seed_axis.LENGTH_BUCKETS}
  assert seed_axis.network_kwargs("response_policy", conv, "vmap") == conv
  assert seed_axis.network_kwargs("response_policy", conv, "map", 0) == conv  # Off.
  forced = seed_axis.network_kwargs("response_policy", conv, "vmap", 2)  # Even vmapped.
  assert forced == {**conv, "length_buckets": 2}
  bag = {"encoder": "bag_of_tokens"}
  assert seed_axis.network_kwargs("response_policy", bag, "map", 3) == bag
  assert seed_axis.network_kwargs("conv", {}, "map") == {}  # TokenActorCritic: no buckets.
  assert conv == {"encoder": "conv", "d_model": 8}  # Not changed in place.
  for bad in ("four", "auto", -1, 65, 2.0, True):
    with pytest.raises(ValueError, match=r"config.length_buckets=.*allowed: None \(automatic\)"):
      seed_axis.network_kwargs("response_policy", conv, "map", bad)
  c = trait_rl_config.base_config("seed_axis_test", "test").ppo_run
  c.length_buckets = 99
  with pytest.raises(ValueError, match="config.length_buckets=99"):
    trainer.check_config(c)


@pytest.fixture(scope="module")
def programs():
  """The conversation arm (conv encoder, as the main job) with each seed batching.

  Built afresh: `trainer.get_program` caches programs by their static key, and a
  program another test built under the same key holds that test's env params."""
  trainer._PROGRAMS.clear()
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


def _close(a, b, tol):
  for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True):
    np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=tol, atol=tol)


def test_conversation_rollouts_and_updates_agree_between_vmapped_and_mapped_seeds(programs):
  """The two halves of a PPO update, each from the same inputs in both forms.

  A whole chain of updates is not compared: a rollout samples tokens, and where two
  tokens' perturbed logits tie to within float-order noise (~1e-7) the two forms may
  sample different tokens, after which the runs legitimately differ by a learning
  step. So: the rollout from one state samples the same tokens (all but float-order
  ties) with the same log-probabilities and values, and the learning step on one batch
  (4 epochs x 4 minibatches of Adam) gives the same parameters to 1e-5.
  """
  (cv, pv), (_, pm) = programs["vmap"], programs["map"]
  assert pv is not pm and (pv.seed_batching, pm.seed_batching) == ("vmap", "map")
  # Only the mapped program's training loop has the conv encoder in length buckets; the
  # loop its vmapped pieces (init, Fisher, runs together, evaluations) use has none.
  buckets = [prog.network.length_buckets for prog in (pv.loop, pv.train_loop, pm.loop)]
  assert buckets == [0, 0, 0] and pv.train_loop is pv.loop
  assert pm.train_loop.network.length_buckets == seed_axis.LENGTH_BUCKETS
  assert cv.network_kwargs.encoder == "conv" and cv.env_kwargs.max_turns == 1
  runner = pv.init(trainer._seed_keys(0, cv.num_seeds), trainer._hparams(cv))
  roll_v = lambda r, e: pv.loop._rollout(r, r.key, e)[1]  # noqa: E731
  roll_m = lambda r, e: pm.train_loop._rollout(r, r.key, e)[1]  # noqa: E731
  env = pv.env_params_for(cv)  # This config's params, whichever program holds them.
  tv = jax.jit(pv._over_seeds(roll_v))(runner, env)
  tm = jax.jit(pm._over_seeds(roll_m))(runner, pm.env_params_for(cv))
  same = np.all(np.asarray(tv["action"] == tm["action"]), axis=-1)  # [S, T, N]
  # One-turn episodes: each step's context is drawn afresh, whatever was replied before,
  # so a tie changes that reply only. At most 1 in 50 replies may differ (none did here).
  assert np.sum(~same) <= same.size // 50, (np.sum(~same), same.size)
  for k in ("log_prob", "value", "reward"):
    np.testing.assert_allclose(np.asarray(tv[k])[same], np.asarray(tm[k])[same], atol=1e-5)

  flat = lambda x: x.reshape((x.shape[0], -1) + x.shape[3:])  # noqa: E731
  batch = ppo_lib.Batch(
    obs=flat(tv["obs"]),
    action=flat(tv["action"]),
    log_prob=flat(tv["log_prob"]),
    value=flat(tv["value"]),
    advantage=flat(tv["reward"]) - 0.5,
    target=flat(tv["reward"]),
    mask=flat(tv["mask"]),
  )
  keys = jax.random.split(jax.random.PRNGKey(3), cv.num_seeds)
  # Each program's own step: the mapped one with the conv encoder in length buckets.
  learn_v = lambda s, b, k: pv.loop.update_fn(s, b, k, 1.0)  # noqa: E731
  learn_m = lambda s, b, k: pm.train_loop.update_fn(s, b, k, 1.0)  # noqa: E731
  sv, mv = jax.jit(seed_axis.over_seeds(learn_v, "vmap", (0, 0, 0)))(runner.ppo, batch, keys)
  sm, mm = jax.jit(seed_axis.over_seeds(learn_m, "map", (0, 0, 0)))(runner.ppo, batch, keys)
  _close(sv.params, sm.params, 1e-5)
  _close(mv, mm, 1e-4)
  # The step really moved the parameters and the seeds really differ.
  p0, p1 = jax.tree.leaves(runner.ppo.params)[0], jax.tree.leaves(sm.params)[0]
  assert float(jnp.max(jnp.abs(p1 - p0))) > 1e-4
  assert float(jnp.max(jnp.abs(p1[0] - p1[1]))) > 1e-4


def test_run_chunk_many_vmaps_seeds_even_when_the_program_maps_them(programs):
  """`run_chunk_many` of a program whose seeds run in turn vmaps runs x seeds (the
  batched path ignores `seed_batching`): it equals each run alone with its seeds
  vmapped, the same arithmetic."""
  from alignment_rl.training import batched

  c, prog = programs["map"]
  pv = programs["vmap"][1]
  assert prog.seed_batching == "map"
  keys = [trainer._seed_keys(s, c.num_seeds) for s in (0, 1)]
  runners = [prog.init(k, trainer._hparams(c)) for k in keys]
  stacked = jax.tree.map(lambda *x: jnp.stack(x), *runners)
  env_many, env_axes = batched.stack_shared([prog.env_params_for(c)] * 2)
  many, _ = prog.run_chunk_many(stacked, 1, env_many, env_axes)
  for i, r in enumerate(runners):
    alone, _ = pv.run_chunk(r, 1, pv.env_params_for(c))
    pairs = zip(jax.tree.leaves(alone.ppo.params), jax.tree.leaves(many.ppo.params), strict=True)
    for x, y in pairs:
      np.testing.assert_allclose(np.asarray(x), np.asarray(y[i]), rtol=1e-5, atol=1e-6)
