"""Runs trained together (one vmapped program) equal the same runs trained alone."""

import json

import jax
import numpy as np
import pytest

from alignment_rl.training import batched, metrics_writer, trainer
from configs import common as trait_rl_config


def _arm(trait_fraction: float, control: str = "none"):
  c = trait_rl_config.base_config("batched_test", "test").ppo_run
  c.training.progress = False
  c.training.init_from = ""
  c.env_kwargs.trait_fraction = trait_fraction
  if control != "none":
    c.env_kwargs.rubric_control = control
  return c


@pytest.fixture(scope="module")
def arms():
  yield [_arm(0.0), _arm(0.5, "random_sign")]
  # Free the conversation programs and their compiled executables for later tests.
  trainer._PROGRAMS.clear()
  jax.clear_caches()


def _leaves_close(a, b, atol=1e-5):
  for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True):
    np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=1e-5, atol=atol)


def test_runs_trained_together_equal_runs_trained_alone(arms, tmp_path):
  assert len({id(trainer.get_program(c)) for c in arms}) == 1  # One shared program.
  together = batched.train_together(arms, [str(tmp_path / f"t{i}") for i in range(2)], batch="on")
  alone = [trainer.train(c, str(tmp_path / f"a{i}")) for i, c in enumerate(arms)]
  for t, a in zip(together, alone, strict=True):
    assert t.num_updates == a.num_updates == 2
    _leaves_close(t.runner.ppo.params, a.runner.ppo.params)
    assert [h["update"] for h in t.history] == [1, 2]
    for ht, ha in zip(t.history, a.history, strict=True):
      for k in ("reward_per_step", "loss", "episode_return"):
        assert ht[k] == pytest.approx(ha[k], rel=1e-4, abs=1e-5)
  # The arms really differ (different rewards), so equality is not trivial.
  r = [h.history[0]["reward_per_step"] for h in together]
  assert len(set(np.round(r, 6))) > 1
  # Each run's own workdir holds what a lone run writes, and a rerun does no work.
  for i in range(2):
    lone = metrics_writer.read_metrics(str(tmp_path / f"a{i}"))
    both = metrics_writer.read_metrics(str(tmp_path / f"t{i}"))
    assert [m["update"] for m in both] == [m["update"] for m in lone]
    with open(tmp_path / f"t{i}" / "config.json") as f:
      assert json.load(f)["env_kwargs"]["trait_fraction"] == arms[i].env_kwargs.trait_fraction
  again = batched.train_together(arms, [str(tmp_path / f"t{i}") for i in range(2)], batch="on")
  assert all(r.resumed_from == 2 for r in again)
  _leaves_close(again[1].runner.ppo.params, together[1].runner.ppo.params, atol=0)


def test_mismatched_lengths_fail_clearly(arms):
  with pytest.raises(ValueError, match="2 configs but 1 workdirs"):
    batched.train_together(arms, ["a"])


def test_scenario_data_is_kept_once_and_arm_weights_are_stacked(arms):
  params = [trainer.get_program(c).env_params_for(c) for c in arms]
  tree, axes = batched.stack_shared(params)
  flat = jax.tree.leaves(axes, is_leaf=lambda x: x is None)
  leaves = jax.tree.leaves(tree)
  shared = [x for x, a in zip(leaves, flat, strict=True) if a is None]
  stacked = [x for x, a in zip(leaves, flat, strict=True) if a == 0]
  assert shared and stacked  # The dataset once; what differs per arm, per arm.
  assert all(np.shape(x)[0] == 2 for x in stacked)
  biggest = max(leaves, key=np.size)
  assert any(biggest is x for x in shared)


def test_batch_mode_is_checked_and_auto_is_off_on_cpu():
  assert batched.check_batch("on") and not batched.check_batch("off")
  assert batched.check_batch("auto") == (jax.default_backend() != "cpu")
  with pytest.raises(ValueError, match="batch_runs='sometimes'; allowed: auto, on, off"):
    batched.check_batch("sometimes")
