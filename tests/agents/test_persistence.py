"""Persistence objectives: hand-computed terms, references, and their effect on an update."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from alignment_rl.agents import persistence, ppo
from alignment_rl.language import lexicon, vocab


def tabular_apply(params, obs):
  """Logits and values looked up by the first token of an int32[..., 1] observation."""
  return params["logits"][obs[..., 0]], params["v"][obs[..., 0]]


def make_hp(**kw):
  base = dict(
    learning_rate=0.05,
    clip_eps=0.2,
    ent_coef=0.0,
    vf_coef=0.5,
    gamma=0.99,
    gae_lambda=0.95,
    max_grad_norm=10.0,
  )
  return ppo.PPOHyperparams.from_config({**base, **kw})


def test_kl_to_anchor_hand_case_and_exact_kl_in_expectation():
  lp, anchor = jnp.log(jnp.array([0.5, 0.25])), jnp.log(jnp.array([0.25, 0.5]))
  # r = [0.5, 2]: (r - 1) - log r = [-0.5 + log 2, 1 - log 2], mean 0.25.
  np.testing.assert_allclose(persistence.kl_to_anchor(lp, anchor), 0.25, rtol=1e-6)
  # Weighted by pi over all actions, the k3 estimator is the exact KL(pi || anchor).
  pi, ref = np.array([0.6, 0.3, 0.1]), np.array([0.2, 0.5, 0.3])
  k3 = (ref / pi - 1.0) - np.log(ref / pi)
  exact = np.sum(pi * np.log(pi / ref))
  np.testing.assert_allclose(np.sum(pi * k3), exact, rtol=1e-12)
  per = persistence.kl_to_anchor(jnp.log(jnp.asarray(pi)), jnp.log(jnp.asarray(ref)), None)
  np.testing.assert_allclose(per, k3.mean(), rtol=1e-5)
  mask = jnp.array([[1.0, 0.0]])
  two = persistence.kl_to_anchor(lp[None], anchor[None], mask)
  np.testing.assert_allclose(two, 0.5 - 1.0 + np.log(2), rtol=1e-5)  # Only token 0.


def test_weight_anchor_penalty_l2sp_and_ewc():
  params, anchor = {"w": jnp.array([1.0, 2.0])}, {"w": jnp.zeros(2)}
  np.testing.assert_allclose(persistence.weight_anchor_penalty(params, anchor), 2.5)
  fisher = {"w": jnp.array([2.0, 0.5])}
  np.testing.assert_allclose(persistence.weight_anchor_penalty(params, anchor, fisher), 2.0)


def test_fisher_diagonal_matches_per_sample_reference():
  rng = np.random.default_rng(0)
  params = {"logits": jnp.asarray(rng.normal(size=(3, 4)), jnp.float32), "v": jnp.zeros(3)}
  obs = jnp.asarray(rng.integers(0, 3, size=(8, 1)), jnp.int32)
  action = jnp.asarray(rng.integers(0, 4, size=8), jnp.int32)
  lpev = ppo.make_log_prob_entropy_value(tabular_apply)
  log_prob_fn = lambda p, o, a: lpev(p, o, a)[0]  # noqa: E731
  fisher = persistence.fisher_diagonal(log_prob_fn, params, obs, action, chunk_size=4)
  # Reference: a Python loop of single-sample gradients, squared and averaged.
  sq = np.zeros((3, 4))
  for n in range(8):
    g = jax.grad(lambda p, n=n: log_prob_fn(p, obs[n : n + 1], action[n : n + 1]).sum())(params)
    sq += np.asarray(g["logits"]) ** 2 / 8
  mean = sq.sum() / (sq.size + 3)  # The value table has zero gradient.
  np.testing.assert_allclose(fisher["logits"], sq / mean, rtol=1e-4, atol=1e-6)
  np.testing.assert_allclose(fisher["v"], 0.0)


def test_consistency_penalty_counts_only_changed_contexts():
  lp, cf = jnp.array([-1.0, -2.0, -3.0]), jnp.array([-1.5, -2.0, -1.0])
  changed = jnp.array([True, False, True])
  np.testing.assert_allclose(persistence.consistency_penalty(lp, cf, changed), (0.25 + 4) / 2)
  # [B, K] log-probs without a mask: the mean over the changed samples' K tokens.
  two = persistence.consistency_penalty(jnp.stack([lp, lp], 1), jnp.stack([cf, lp], 1), changed)
  np.testing.assert_allclose(two, (0.25 + 0 + 4 + 0) / 4)


def test_simulated_attack_takes_normalised_ascent_steps():
  loss = lambda p: 0.5 * jnp.sum(p["x"] ** 2)  # noqa: E731
  out = persistence.simulated_attack(loss, {"x": jnp.array([3.0, 4.0])}, 1, jnp.float32(1.0))
  np.testing.assert_allclose(out["x"], [3.6, 4.8], rtol=1e-6)  # + 1.0 * grad / ||grad||.
  out = persistence.simulated_attack(loss, {"x": jnp.array([3.0, 4.0])}, 2, jnp.float32(0.5))
  np.testing.assert_allclose(out["x"], [3.6, 4.8], rtol=1e-6)


def test_unknown_or_conflicting_objectives_fail_in_one_line():
  with pytest.raises(ValueError, match="unknown objective 'kl'.*known: kl_anchor"):
    persistence.check_objectives(["kl"])
  with pytest.raises(ValueError, match="one of 'weight_anchor'"):
    persistence.check_objectives(["weight_anchor", "ewc"])
  lpev = ppo.make_log_prob_entropy_value(tabular_apply)
  with pytest.raises(KeyError, match="kl_coef"):  # A listed objective needs its weight.
    ppo.PersistenceCoefs.from_config({"anchor_coef": 1.0})
  with pytest.raises(ValueError, match="oversight cues"):
    ppo.make_update_fn(lpev, ppo.make_optimizer(), 1, 1, ("oversight_consistency",))


COEFS = ("kl_coef", "anchor_coef", "tamper_coef", "tamper_lr", "consistency_coef")


def _run_update(objectives, coefs, params, obs, counterfactual=None, epochs=4):
  opt = ppo.make_optimizer()
  persist = ppo.PersistenceState(
    coefs=ppo.PersistenceCoefs.from_config({f: 0.0 for f in COEFS} | coefs),
    anchor=jax.tree.map(jnp.copy, params),
  )
  state = ppo.PPOState(params, opt.init(params), make_hp(), persist)
  n = obs.shape[0]
  batch = ppo.Batch(
    obs=obs,
    action=jnp.array([0, 1] * (n // 2)),
    log_prob=jax.vmap(lambda o, a: jax.nn.log_softmax(tabular_apply(params, o)[0])[a])(
      obs, jnp.array([0, 1] * (n // 2))
    ),
    value=jnp.zeros(n),
    advantage=jnp.array([1.0, -1.0] * (n // 2)),
    target=jnp.zeros(n),
  )
  update = ppo.make_update_fn(
    ppo.make_log_prob_entropy_value(tabular_apply),
    opt,
    update_epochs=epochs,
    num_minibatches=1,
    objectives=objectives,
    obs_counterfactual=counterfactual,
  )
  return jax.jit(update)(state, batch, jax.random.PRNGKey(0), jnp.float32(1.0))


def test_anchors_hold_the_policy_back_and_are_logged():
  params = {"logits": jnp.zeros((2, 2)), "v": jnp.zeros(2)}
  obs = jnp.zeros((8, 1), jnp.int32)
  free, _ = _run_update((), {}, params, obs)
  p_free = float(jax.nn.softmax(free.params["logits"][0])[0])
  for objective, coefs, metric in [
    ("kl_anchor", {"kl_coef": 50.0}, "kl_anchor"),
    ("weight_anchor", {"anchor_coef": 2.0}, "weight_anchor"),
  ]:
    new, metrics = _run_update((objective,), coefs, params, obs)
    p = float(jax.nn.softmax(new.params["logits"][0])[0])
    assert 0.5 < p < p_free, (objective, p, p_free)  # Still learns, but less far.
    assert float(metrics[metric]) > 0.0


def test_oversight_consistency_closes_the_gap_between_cue_and_no_cue():
  # Context 0 (with a cue) and its counterfactual 1 (cue removed) start apart.
  params = {"logits": jnp.array([[0.0, 0.0], [2.0, -2.0]]), "v": jnp.zeros(2)}
  obs = jnp.zeros((8, 1), jnp.int32)
  remove_cue = lambda o: 1 - o  # noqa: E731
  gap = lambda p: float(jnp.abs(jax.nn.log_softmax(p[0]) - jax.nn.log_softmax(p[1])).sum())  # noqa: E731
  plain, _ = _run_update((), {}, params, obs)
  cons, metrics = _run_update(
    ("oversight_consistency",), {"consistency_coef": 5.0}, params, obs, remove_cue
  )
  assert gap(cons.params["logits"]) < gap(plain.params["logits"]) - 0.1
  assert float(metrics["oversight_gap"]) > 0.0


def test_tamper_reports_the_loss_after_the_simulated_attack():
  params = {"logits": jnp.zeros((1, 2)), "v": jnp.zeros(1)}
  obs = jnp.zeros((8, 1), jnp.int32)
  _, metrics = _run_update(
    ("tamper",), {"tamper_coef": 1.0, "tamper_lr": 0.5}, params, obs, epochs=1
  )
  assert float(metrics["pg_loss_after_attack"]) > float(metrics["pg_loss"]) + 0.05


def test_oversight_cue_table_removes_cues_only():
  table = vocab.oversight_cue_table()
  np.testing.assert_array_equal(table[table], table)  # Idempotent.
  for domain in (None, lexicon.DOMAINS[0]):
    for concept in ("monitored", "unmonitored"):
      np.testing.assert_array_equal(table[list(vocab.concept_ids(concept, domain))], vocab.PAD)
  moved = np.flatnonzero(table != np.arange(vocab.VOCAB_SIZE))
  assert len(moved) == 6 * (1 + len(lexicon.DOMAINS))  # 6 stems, shared + per domain.


def test_kl_penalty_gradient_is_the_kl_gradient():
  """On-policy, E_pi[grad k2] = grad KL(pi || anchor) (reference: the exact KL's grad)."""
  ref = jnp.log(jnp.array([0.2, 0.5, 0.3]))
  logits = jnp.array([0.4, -0.1, 0.2])
  pi = jax.nn.softmax(logits)

  def expected_k2(z):
    lp = jax.nn.log_softmax(z)
    per = jax.vmap(lambda a: persistence.kl_penalty(lp[a][None], ref[a][None]))(jnp.arange(3))
    return jnp.sum(jax.lax.stop_gradient(pi) * per)  # Samples from the (fixed) pi.

  exact = lambda z: jnp.sum(jax.nn.softmax(z) * (jax.nn.log_softmax(z) - ref))  # noqa: E731
  np.testing.assert_allclose(jax.grad(expected_k2)(logits), jax.grad(exact)(logits), atol=1e-6)
  # k2's value at a hand case: log r = log 2 -> (log 2)^2 / 2.
  np.testing.assert_allclose(
    persistence.kl_penalty(jnp.log(jnp.array([0.25])), jnp.log(jnp.array([0.5]))),
    0.5 * np.log(2) ** 2,
    rtol=1e-6,
  )
