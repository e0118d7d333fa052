"""GAE and the PPO loss give the same values with and without jit (chex variants), and
their chex boundary checks reject mismatched shapes and non-finite inputs."""

import chex
import jax
import jax.numpy as jnp
import numpy as np

from alignment_rl.agents import gae, ppo

HP = ppo.PPOHyperparams.from_config(
  dict(
    learning_rate=0.1,
    clip_eps=0.2,
    ent_coef=0.01,
    vf_coef=0.5,
    gamma=0.99,
    gae_lambda=0.95,
    max_grad_norm=10.0,
  )
)


def _tabular(params, obs):
  return params["logits"][obs], params["v"][obs]


def _batch(**kw):
  fields = dict(
    obs=jnp.array([0, 1, 2]),
    action=jnp.array([0, 1, 1]),
    log_prob=jnp.log(jnp.array([0.25, 0.5, 0.4])),
    value=jnp.array([0.0, 1.0, 0.5]),
    advantage=jnp.array([1.0, -1.0, 0.5]),
    target=jnp.array([1.0, 0.0, 1.0]),
  )
  fields.update(kw)
  return ppo.Batch(**fields)


PARAMS = {
  "logits": jnp.array([[0.0, 0.0], [0.3, -0.2], [1.0, 0.5]]),
  "v": jnp.array([0.2, 0.4, 0.6]),
}


class LossVariantsTest(chex.TestCase):
  @chex.variants(with_jit=True, without_jit=True)
  def test_gae_advantages(self):
    r = jnp.array([[1.0, 0.0], [0.0, 1.0], [2.0, 0.5]])
    v, v_next = 0.5 * r + 0.1, 0.5 * r[::-1] + 0.2
    done = jnp.array([[False, True], [False, False], [True, False]])
    adv, ret = self.variant(gae.gae_advantages)(r, v, v_next, done, 0.9, 0.5)
    # Reference: the recursion by hand, column by column.
    expected = np.zeros((3, 2), np.float32)
    running = np.zeros(2, np.float32)
    for t in reversed(range(3)):
      delta = np.asarray(r[t] + 0.9 * v_next[t] - v[t])
      running = delta + 0.9 * 0.5 * (1.0 - np.asarray(done[t])) * running
      expected[t] = running
    np.testing.assert_allclose(adv, expected, rtol=1e-6)
    np.testing.assert_allclose(ret, expected + np.asarray(v), rtol=1e-6)

  @chex.variants(with_jit=True, without_jit=True)
  def test_ppo_loss(self):
    lpev = ppo.make_log_prob_entropy_value(_tabular)
    loss, aux = self.variant(lambda p, b: ppo.ppo_loss(p, lpev, b, HP))(PARAMS, _batch())
    eager_loss, eager_aux = ppo.ppo_loss(PARAMS, lpev, _batch(), HP)
    chex.assert_trees_all_close((loss, aux), (eager_loss, eager_aux), rtol=1e-6)
    chex.assert_shape(loss, ())
    chex.assert_tree_all_finite((loss, aux))

  @chex.variants(with_jit=True, without_jit=True)
  def test_mismatched_shapes_are_rejected(self):
    lpev = ppo.make_log_prob_entropy_value(_tabular)
    bad = _batch(target=jnp.zeros((2,)))
    with self.assertRaisesRegex(AssertionError, "assert_equal_shape"):
      self.variant(lambda p, b: ppo.ppo_loss(p, lpev, b, HP))(PARAMS, bad)
    r = jnp.ones((4, 2))
    with self.assertRaisesRegex(AssertionError, "assert_equal_shape"):
      self.variant(gae.gae_advantages)(r, r, r[:3], r > 0, 0.9, 0.5)

  def test_non_finite_inputs_are_rejected_outside_jit(self):
    r = jnp.array([1.0, jnp.nan])
    with self.assertRaisesRegex(AssertionError, "non-finite"):
      gae.gae_advantages(r, jnp.zeros(2), jnp.zeros(2), jnp.zeros(2, bool), 0.9, 0.5)
    bad = _batch(advantage=jnp.array([1.0, jnp.inf, 0.0]))
    with self.assertRaisesRegex(AssertionError, "non-finite"):
      ppo.ppo_loss(PARAMS, ppo.make_log_prob_entropy_value(_tabular), bad, HP)
    # Under jit the value check is skipped (no host callback); NaN flows to the loss,
    # where the trainer's non-finite-loss stop reports it.
    loss = jax.jit(
      lambda b: ppo.ppo_loss(PARAMS, ppo.make_log_prob_entropy_value(_tabular), b, HP)[0]
    )
    assert not np.isfinite(float(loss(bad)))
