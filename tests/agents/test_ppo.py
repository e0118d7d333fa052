"""PPO loss: a hand-computed minibatch, a NumPy reference, and update direction."""

import jax
import jax.numpy as jnp
import numpy as np

from alignment_rl.agents import ppo


def tabular_apply(params, obs):
  """A 'network' that looks up logits and values by integer observation."""
  return params["logits"][obs], params["v"][obs]


def make_hp(**kw):
  base = dict(
    learning_rate=0.1,
    clip_eps=0.2,
    ent_coef=0.01,
    vf_coef=0.5,
    gamma=0.99,
    gae_lambda=0.95,
    max_grad_norm=10.0,
  )
  base.update(kw)
  return ppo.PPOHyperparams.from_config(base)


def test_hand_computed_loss():
  params = {"logits": jnp.zeros((2, 2)), "v": jnp.array([0.5, 0.5])}
  batch = ppo.Batch(
    obs=jnp.array([0, 1]),
    action=jnp.array([0, 1]),
    log_prob=jnp.log(jnp.array([0.25, 0.5])),  # ratios 2 and 1
    value=jnp.array([0.0, 1.0]),
    advantage=jnp.array([1.0, -1.0]),  # already zero-mean, unit-std
    target=jnp.array([1.0, 0.0]),
  )
  loss, aux = ppo.ppo_loss(params, ppo.make_log_prob_entropy_value(tabular_apply), batch, make_hp())
  # pg = -(min(2*1, 1.2*1) + min(-1, -1)) / 2 = -0.1
  # v: both samples max(0.25, 0.64) = 0.64 -> 0.5 * 0.64 = 0.32
  # H = log 2; loss = -0.1 + 0.5*0.32 - 0.01*log 2
  np.testing.assert_allclose(aux["pg_loss"], -0.1, rtol=1e-5)
  np.testing.assert_allclose(aux["value_loss"], 0.32, rtol=1e-5)
  np.testing.assert_allclose(aux["entropy"], np.log(2), rtol=1e-6)
  np.testing.assert_allclose(loss, -0.1 + 0.16 - 0.01 * np.log(2), rtol=1e-5)
  np.testing.assert_allclose(aux["approx_kl"], (1 - np.log(2)) / 2, rtol=1e-5)
  np.testing.assert_allclose(aux["clip_frac"], 0.5)


def reference_loss(logits, v, batch, clip, vf, ent):
  lp_all = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
  lp = lp_all[np.arange(len(batch["action"])), batch["action"]]
  adv = batch["advantage"]
  adv = (adv - adv.mean()) / (adv.std() + 1e-8)
  ratio = np.exp(lp - batch["log_prob"])
  pg = -np.minimum(ratio * adv, np.clip(ratio, 1 - clip, 1 + clip) * adv).mean()
  vc = batch["value"] + np.clip(v - batch["value"], -clip, clip)
  vl = 0.5 * np.maximum((v - batch["target"]) ** 2, (vc - batch["target"]) ** 2).mean()
  h = -(np.exp(lp_all) * lp_all).sum(-1).mean()
  return pg + vf * vl - ent * h


def test_matches_numpy_reference():
  rng = np.random.default_rng(1)
  B, A = 32, 5
  logits = rng.normal(size=(B, A)).astype(np.float32)
  v = rng.normal(size=B).astype(np.float32)
  batch = {
    "action": rng.integers(0, A, B),
    "log_prob": np.log(rng.uniform(0.05, 0.9, B)).astype(np.float32),
    "value": rng.normal(size=B).astype(np.float32),
    "advantage": rng.normal(size=B).astype(np.float32),
    "target": rng.normal(size=B).astype(np.float32),
  }
  params = {"logits": jnp.asarray(logits), "v": jnp.asarray(v)}
  jbatch = ppo.Batch(obs=jnp.arange(B), **{k: jnp.asarray(x) for k, x in batch.items()})
  loss, _ = ppo.ppo_loss(
    params,
    ppo.make_log_prob_entropy_value(tabular_apply),
    jbatch,
    make_hp(clip_eps=0.3, ent_coef=0.05),
  )
  ref = reference_loss(logits, v, batch, 0.3, 0.5, 0.05)
  np.testing.assert_allclose(loss, ref, rtol=1e-5)


def test_update_moves_probability_toward_positive_advantage():
  params = {"logits": jnp.zeros((1, 2)), "v": jnp.zeros((1,))}
  opt = ppo.make_optimizer()
  state = ppo.PPOState(params, opt.init(params), make_hp(learning_rate=0.05))
  batch = ppo.Batch(
    obs=jnp.zeros(8, jnp.int32),
    action=jnp.array([0, 1] * 4),
    log_prob=jnp.full(8, jnp.log(0.5)),
    value=jnp.zeros(8),
    advantage=jnp.array([1.0, -1.0] * 4),
    target=jnp.ones(8),
  )
  update = jax.jit(
    ppo.make_update_fn(
      ppo.make_log_prob_entropy_value(tabular_apply), opt, update_epochs=2, num_minibatches=2
    )
  )
  new, metrics = update(state, batch, jax.random.PRNGKey(0), jnp.float32(1.0))
  p = jax.nn.softmax(new.params["logits"][0])
  assert float(p[0]) > 0.5  # Action 0 had the positive advantage.
  assert float(new.params["v"][0]) > 0.0  # Value moves toward the target 1.
  np.testing.assert_allclose(metrics["learning_rate"], 0.05)
  assert set(metrics) >= {"loss", "pg_loss", "value_loss", "entropy", "approx_kl", "grad_norm"}
