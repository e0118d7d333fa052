r"""The imitation program: the behaviour-cloning loss and the compiled steps of one config.

Behaviour cloning of `envs.conversations.prior` by a `ResponseActorCritic` on the
batches of `imitation_batches.prior_batch` (contexts c, the prior's replies a, int32[B,
R]): the teacher-forced cross-entropy over the tokens up to and including the first EOT
(mask m = `response_mask(a)`),

    L(theta) = -sum_{b,k} m_bk log pi_theta(a_bk | c_b, a_b<k) / sum_{b,k} m_bk
               + beta * mean_b (V_theta(c_b) - g_b)^2

where the optional value warm start (beta = `value_coef`, off by default) regresses the
value head on g_b, the `value_grader` grade of the prior's reply. The parameters do not
depend on the context length (a transformer's `max_len` must be >= L2 and equal the RL
arms'). Parameters carry a leading seed axis, the layout of the PPO runner's
`runner.ppo.params`; a chunk of steps runs the seeds side by side or in turn
(`seed_axis`, the config's `seed_batching`). `Imitation.compare_with_prior` compares
the prior's and the imitated policy's one-turn replies (each a conversation rollout,
`envs.conversations.rollout`).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax

from alignment_rl import networks
from alignment_rl.agents.policies import ResponsePolicy
from alignment_rl.envs.conversations import rollout
from alignment_rl.envs.conversations.rollout import batch_params, world
from alignment_rl.envs.conversations.user_model import classify_response
from alignment_rl.language import schema, vocab
from alignment_rl.language.tokens import reply_tokens
from alignment_rl.networks.response_policy import response_mask
from alignment_rl.registry import GRADERS
from alignment_rl.training import imitation_batches, seed_axis, sharding

_EVAL_GRADERS = ("rubric", "standard", "helpfulness")


def bc_loss(params, network, contexts, actions, value_target, value_coef):
  """The loss of the module docstring on contexts int32[B, L] and actions int32[B, R]
  (value_target float32[B]); returns (loss, metrics incl. bc_loss and token_accuracy)."""
  logits, value = network.apply(params, contexts, actions)
  logp = jax.nn.log_softmax(logits)
  nll = -jnp.take_along_axis(logp, actions[..., None], -1)[..., 0]
  mask = response_mask(actions, network.eot_action)
  count = jnp.maximum(jnp.sum(mask), 1.0)
  bc = jnp.sum(nll * mask) / count
  accuracy = jnp.sum((jnp.argmax(logits, -1) == actions) * mask) / count
  value_mse = jnp.mean((value - value_target) ** 2)
  loss = bc + value_coef * value_mse
  return loss, {"loss": loss, "bc_loss": bc, "token_accuracy": accuracy, "value_mse": value_mse}


class Imitation:
  """The compiled pieces of one config: init, a chunk of vmapped steps, evaluation."""

  def __init__(self, config):
    self.config, ic = config, config.imitation
    self.network = networks.make(config.network, vocab.NUM_ACTIONS, **config.network_kwargs)
    self.response_len = self.network.max_response_len
    self.context_len = imitation_batches.two_turn_len(self.response_len)
    if self.network.encoder == "transformer" and self.network.max_len < self.context_len:
      raise ValueError(f"network_kwargs.max_len must be >= {self.context_len} (two-turn contexts)")
    self.optimizer = optax.chain(
      optax.clip_by_global_norm(ic.max_grad_norm), optax.adam(ic.learning_rate)
    )
    self.grader = GRADERS.get(ic.value_grader)
    self._seed_mesh = None
    if config.get("split_over", "envs") == "seeds":  # As `sharding.split_seeds` places them.
      self._seed_mesh = sharding.make_mesh(config.get("num_devices", 0))
    devices = self._seed_mesh.devices.size if self._seed_mesh is not None else 1
    encoder = config.network_kwargs.get("encoder")
    mode = config.get("seed_batching", "auto")
    self.seed_batching = seed_axis.resolve(mode, encoder, devices)
    # The training steps' network: in turn, the conv encoder buckets rows by length
    # (`seed_axis.network_kwargs`); evaluation, vmapped over seeds, keeps `network`.
    self.step_network = networks.make(
      config.network,
      vocab.NUM_ACTIONS,
      **seed_axis.network_kwargs(
        config.network,
        config.network_kwargs.to_dict(),
        self.seed_batching,
        config.get("length_buckets"),
      ),
    )
    self.run_chunk = jax.jit(self._chunk, static_argnums=2)

  def init(self, seed: int, num_seeds: int):
    """Parameters and optimizer states of every seed (leading axis S), and their keys."""
    keys = jax.random.split(jax.random.PRNGKey(seed), num_seeds)
    obs = jnp.zeros((self.context_len,), jnp.int32)
    init = jax.vmap(ResponsePolicy(self.network).init, in_axes=(0, None))
    params = jax.jit(init)(jax.vmap(lambda k: jax.random.fold_in(k, 0))(keys), obs)
    return params, jax.jit(jax.vmap(self.optimizer.init))(params), keys

  def _step(self, params, opt_state, key, data):
    ic = self.config.imitation
    key, k_batch = jax.random.split(key)
    ctx, actions, sc = imitation_batches.prior_batch(
      k_batch,
      data,
      ic.batch_size,
      self.response_len,
      ic.multi_turn_fraction,
      ic.followup_pressure,
      ic.get("persona_fraction", 0.0),
    )
    target = jnp.zeros(ctx.shape[0])
    if ic.value_coef > 0:
      target = jax.vmap(self.grader)(reply_tokens(actions), sc)
    grad_fn = jax.grad(bc_loss, has_aux=True)
    grads, metrics = grad_fn(params, self.step_network, ctx, actions, target, ic.value_coef)
    updates, opt_state = self.optimizer.update(grads, opt_state, params)
    return optax.apply_updates(params, updates), opt_state, key, metrics

  def _chunk(self, state, data, num_steps: int):
    step = seed_axis.over_seeds(self._step, self.seed_batching, (0, 0, 0, None), self._seed_mesh)

    def body(carry, _):
      *carry, metrics = step(*carry, data)
      return tuple(carry), metrics

    return jax.lax.scan(body, state, None, length=num_steps)  # metrics: [T, S]

  def compare_with_prior(self, params, data, key, chunk: int = 512) -> dict:
    """Prior vs imitated policy on first-turn contexts of `data`, `eval_samples` each.

    Returns means of the `rubric` (clipped, HealthBench), `standard` and `helpfulness`
    grades and response-class frequencies of both (policy: per seed), the policy's
    teacher-forced token accuracy and NLL on prior responses, and the accuracy of
    always predicting the most frequent prior action at each position (a chance floor).
    """
    num = data["context"].shape[0]
    idx = np.arange(num * self.config.imitation.eval_samples) % num
    out = []
    for start in range(0, idx.size, chunk):
      part = np.resize(idx[start : start + chunk], chunk)  # pad the last chunk
      sub = jax.random.fold_in(key, start)
      out.append(jax.device_get(self._eval_chunk(params, data, jnp.asarray(part), sub)))
    res = {k: np.concatenate([o[k] for o in out], axis=-1)[..., : idx.size] for k in out[0]}
    acts, mask = res.pop("prior_actions"), res.pop("prior_mask")
    majority = [np.bincount(acts[k][mask[k] > 0]).argmax() for k in range(acts.shape[0])]
    summary = {"majority_token_accuracy": float(np.sum((acts.T == majority).T * mask) / mask.sum())}
    summary["token_accuracy_per_seed"] = (res["correct"].sum(-1) / res["count"].sum(-1)).tolist()
    summary["bc_loss_per_seed"] = (res["nll"].sum(-1) / res["count"].sum(-1)).tolist()
    for who in ("prior", "policy"):
      for g in _EVAL_GRADERS:
        vals = res[f"{who}_{g}"].mean(-1)
        summary[f"{who}_{g}"] = np.clip(vals, 0, 1).tolist() if g == "rubric" else vals.tolist()
      classes = res[f"{who}_class"]
      summary[f"{who}_class_freq"] = [
        np.mean(classes == c, axis=-1).tolist() for c in range(schema.NUM_RESPONSE_CLASSES)
      ]
    return summary

  @functools.partial(jax.jit, static_argnums=0)
  def _eval_chunk(self, params, data, idx, key):
    sc = jax.tree.map(lambda x: x[idx], data)
    k_prior, k_policy = jax.random.split(key)
    env, env_params = world(self.response_len, 1), batch_params(sc, 1)
    prior_policy = rollout.prior_policy(sc, self.response_len)
    acts = rollout.rollout(prior_policy, env, env_params, k_prior[None])["actions"][0]
    out = {"prior_actions": acts.T, "prior_mask": response_mask(acts, 0).T}

    def per_seed(p, k):
      logits, _ = self.network.apply(p, sc["context"], acts)
      nll = -jnp.take_along_axis(jax.nn.log_softmax(logits), acts[..., None], -1)[..., 0]
      mask = response_mask(acts, 0)
      correct = (jnp.argmax(logits, -1) == acts) * mask
      stats = {"nll": jnp.sum(nll * mask, -1), "correct": correct.sum(-1), "count": mask.sum(-1)}

      def policy(obs, k_turn):
        context = obs[:, : schema.CONTEXT_LEN]
        return self.network.apply(p, context, k_turn, method=self.network.sample)[0], None

      sampled = rollout.rollout(policy, env, env_params, k[None])["actions"][0]
      return stats, sampled

    seeds = jax.tree.leaves(params)[0].shape[0]
    stats, sampled = jax.vmap(per_seed)(params, jax.random.split(k_policy, seeds))
    out.update(stats)
    # Grade the prior's and every seed's responses in one vmapped call: [S + 1, C].
    tokens = reply_tokens(jnp.concatenate([acts[None], sampled]))
    grade = lambda fn: jax.vmap(jax.vmap(fn), in_axes=(0, None))(tokens, sc)
    graded = {"class": grade(classify_response)}
    graded.update({g: grade(GRADERS.get(g)) for g in _EVAL_GRADERS})
    for name, value in graded.items():
      out[f"prior_{name}"], out[f"policy_{name}"] = value[0], value[1:]
    return out
