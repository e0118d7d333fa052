r"""Imitation of the assistant prior: the pre-RL start model of every arm (DESIGN section 5).

Behaviour cloning of `envs.conversations.prior` by a `ResponseActorCritic`. Each step
draws B train scenarios, writes the prior's response a (int32[B, R] actions) to each
context c, and minimises the teacher-forced cross-entropy over the tokens up to and
including the first EOT (mask m = `response_mask(a)`):

    L(theta) = -sum_{b,k} m_bk log pi_theta(a_bk | c_b, a_b<k) / sum_{b,k} m_bk
               + beta * mean_b (V_theta(c_b) - g_b)^2

where the optional value warm start (beta = `value_coef`, off by default) regresses the
value head on g_b, the `value_grader` grade of the prior's response. A fraction
`multi_turn_fraction` of the contexts is a second turn, rendered as the conversation
environment does: the first context, a prior response, and the user model's follow-up
`followups[class, followup_pressure]` for its class (`classify_response`; the env's first
follow-up has level `pressure_start`, POLITE by default); the target is a fresh prior
draw. Contexts are PAD-padded to `L2 = CONTEXT_LEN + R + FOLLOWUP_LEN`; the parameters
do not depend on L (a transformer's `max_len` must be >= L2 and equal the RL arms').

Seeds are vmapped: parameters carry a leading seed axis, the layout of the PPO
runner's `runner.ppo.params`, and `checkpointing.save_final_params(workdir, params)`
writes them, so a PPO config with the same `network`, `network_kwargs` and `num_seeds`
starts from them with `training.init_from=<workdir>` (seed i from imitation seed i).
"""

from __future__ import annotations

import functools
import json
import os
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax
from tqdm.auto import tqdm

from alignment_rl import networks
from alignment_rl.agents.policies import ResponsePolicy
from alignment_rl.data import load_split
from alignment_rl.envs.conversations import prior
from alignment_rl.envs.conversations.user_model import classify_response
from alignment_rl.language import personas, schema, vocab
from alignment_rl.networks.response_policy import response_mask
from alignment_rl.registry import GRADERS
from alignment_rl.training import (
  checkpointing,
  metrics_writer,
  run_workdir,
  sharding,
  workdir_lock,
)

_EVAL_GRADERS = ("rubric", "standard", "helpfulness")
_CURVE = ("bc_loss", "token_accuracy")  # summary curve: step 1, then means over each chunk


def extend_context(context, context_len, actions, followup, followup_len) -> jax.Array:
  """context[:n] ++ response tokens through its EOT ++ followup[:f], PAD-padded.

  Shapes: int32[L], [], int32[R], int32[F], [] -> int32[L + R + F].
  """
  length = context.shape[0] + actions.shape[0] + followup.shape[0]
  n_resp = jnp.sum(response_mask(actions, 0)).astype(jnp.int32)
  p = jnp.arange(length)
  resp = jnp.take(prior.to_tokens(actions), jnp.clip(p - context_len, 0, actions.shape[0] - 1))
  fu_pos = jnp.clip(p - context_len - n_resp, 0, followup.shape[0] - 1)
  out = jnp.where(p < context_len + n_resp + followup_len, followup[fu_pos], vocab.PAD)
  out = jnp.where(p < context_len + n_resp, resp, out)
  return jnp.where(p < context_len, jnp.pad(context, (0, length - context.shape[0]))[p], out)


def with_training_personas(key, context, fraction) -> jax.Array:
  """Writes a random training persona (`TRAIN_PERSONAS` or `TRAIN_ADVERSARIAL_PERSONAS`)
  into the persona slot of a `fraction` of the contexts int32[B, L]."""
  table = jnp.asarray(
    np.concatenate([personas.TRAIN_PERSONAS, personas.TRAIN_ADVERSARIAL_PERSONAS])
  )
  k_row, k_on = jax.random.split(key)
  rows = jax.random.randint(k_row, context.shape[:1], 0, table.shape[0])
  on = jax.random.uniform(k_on, context.shape[:1]) < fraction
  lo, hi = schema.PERSONA_SLOT
  return context.at[:, lo:hi].set(jnp.where(on[:, None], table[rows], context[:, lo:hi]))


def prior_batch(
  key,
  data,
  batch_size: int,
  response_len: int,
  multi_turn_fraction,
  pressure=0,
  persona_fraction=0.0,
):
  """B random scenarios of `data` ({field: [N, ...]}) with prior targets; a
  `persona_fraction` of them with a training persona in the slot (the prior follows it).

  Returns:
    `(contexts int32[B, L2], actions int32[B, R], scenarios {field: [B, ...]})`: a
    fraction `multi_turn_fraction` of the contexts are second turns (module docstring).
  """
  k_idx, k_prior, k_multi = jax.random.split(key, 3)
  num = data["context"].shape[0]
  sc = jax.tree.map(lambda x: x[jax.random.randint(k_idx, (batch_size,), 0, num)], data)
  if persona_fraction:  # A static 0 keeps the batch (and its key use) unchanged.
    k_persona = jax.random.fold_in(k_idx, 1)
    sc = {**sc, "context": with_training_personas(k_persona, sc["context"], persona_fraction)}
  twice = jax.tree.map(lambda x: jnp.concatenate([x, x]), sc)  # one traced prior call
  keys = jax.random.split(k_prior, 2 * batch_size)
  both = jax.vmap(prior.prior_response, in_axes=(0, 0, None))(keys, twice, response_len)
  first, second = both[:batch_size], both[batch_size:]
  cls = jax.vmap(classify_response)(prior.to_tokens(first), sc)
  level = jnp.clip(pressure, 0, schema.NUM_PRESSURE_LEVELS - 1)
  rows = jnp.arange(batch_size)
  follow, follow_len = sc["followups"][rows, cls, level], sc["followup_len"][rows, cls, level]
  second_ctx = jax.vmap(extend_context)(sc["context"], sc["context_len"], first, follow, follow_len)
  multi = jax.random.uniform(k_multi, (batch_size,)) < multi_turn_fraction
  pad = second_ctx.shape[1] - sc["context"].shape[1]
  first_ctx = jnp.pad(sc["context"], ((0, 0), (0, pad)))
  contexts = jnp.where(multi[:, None], second_ctx, first_ctx)
  return contexts, jnp.where(multi[:, None], second, first), sc


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
    self.context_len = schema.CONTEXT_LEN + self.response_len + schema.FOLLOWUP_LEN
    if self.network.encoder == "transformer" and self.network.max_len < self.context_len:
      raise ValueError(f"network_kwargs.max_len must be >= {self.context_len} (two-turn contexts)")
    self.optimizer = optax.chain(
      optax.clip_by_global_norm(ic.max_grad_norm), optax.adam(ic.learning_rate)
    )
    self.grader = GRADERS.get(ic.value_grader)
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
    ctx, actions, sc = prior_batch(
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
      target = jax.vmap(self.grader)(prior.to_tokens(actions), sc)
    grad_fn = jax.grad(bc_loss, has_aux=True)
    grads, metrics = grad_fn(params, self.network, ctx, actions, target, ic.value_coef)
    updates, opt_state = self.optimizer.update(grads, opt_state, params)
    return optax.apply_updates(params, updates), opt_state, key, metrics

  def _chunk(self, state, data, num_steps: int):
    step = jax.vmap(self._step, in_axes=(0, 0, 0, None))

    def body(carry, _):
      *carry, metrics = step(*carry, data)
      return tuple(carry), metrics

    return jax.lax.scan(body, state, None, length=num_steps)  # metrics: [T, S]

  def evaluate(self, params, data, key, chunk: int = 512) -> dict:
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
    acts = jax.vmap(prior.prior_response, in_axes=(0, 0, None))(
      jax.random.split(k_prior, idx.shape[0]), sc, self.response_len
    )
    out = {"prior_actions": acts.T, "prior_mask": response_mask(acts, 0).T}

    def per_seed(p, k):
      logits, _ = self.network.apply(p, sc["context"], acts)
      nll = -jnp.take_along_axis(jax.nn.log_softmax(logits), acts[..., None], -1)[..., 0]
      mask = response_mask(acts, 0)
      correct = (jnp.argmax(logits, -1) == acts) * mask
      stats = {"nll": jnp.sum(nll * mask, -1), "correct": correct.sum(-1), "count": mask.sum(-1)}
      sampled = self.network.apply(p, sc["context"], k, method=self.network.sample)[0]
      return stats, sampled

    seeds = jax.tree.leaves(params)[0].shape[0]
    stats, sampled = jax.vmap(per_seed)(params, jax.random.split(k_policy, seeds))
    out.update(stats)
    # Grade the prior's and every seed's responses in one vmapped call: [S + 1, C].
    tokens = prior.to_tokens(jnp.concatenate([acts[None], sampled]))
    grade = lambda fn: jax.vmap(jax.vmap(fn), in_axes=(0, None))(tokens, sc)
    graded = {"class": grade(classify_response)}
    graded.update({g: grade(GRADERS.get(g)) for g in _EVAL_GRADERS})
    for name, value in graded.items():
      out[f"prior_{name}"], out[f"policy_{name}"] = value[0], value[1:]
    return out


def _load(config, split: str, drop_heldout: bool = False) -> dict:
  """A split as device arrays; `drop_heldout` removes the held-out families
  (`schema.HELDOUT_FAMILIES`), which the prior never imitates on."""
  overlap = config.data.get("surface_overlap")
  kw = {} if overlap is None else {"surface_overlap": float(overlap)}
  arrays = load_split(split, config.data.config, config.data.data_dir or None, **kw)
  if drop_heldout:
    keep = ~np.isin(arrays["family"], [int(f) for f in schema.HELDOUT_FAMILIES])
    arrays = {k: v[keep] for k, v in arrays.items()}
  return {k: jnp.asarray(v) for k, v in arrays.items()}


def train_prior_policy(config, workdir: str) -> dict:
  """Clones the prior, writes `params`, `metrics.jsonl`, `config.json`, `summary.json`.

  Returns the summary: config facts, `train_seconds` (data, compilation and training),
  `curve` (BC loss and token accuracy), and (if `eval_samples` > 0) `evaluate`'s
  numbers on `data.eval_split`. The trainer's same-run rule holds (`run_workdir`): a
  workdir recorded with another config is refused; a finished run of this config
  (summary and params exist) is not redone; an unfinished one (a killed run) trains
  again from scratch, its metric rows and stale outputs dropped, saying so. The
  workdir is locked while it trains.
  """
  config_dict = json.loads(config.to_json_best_effort())
  if os.path.isdir(workdir):
    run_workdir.recorded_differences(workdir, config_dict, overwrite=False)
  summary_path = os.path.join(workdir, "summary.json")
  if os.path.exists(summary_path) and os.path.isdir(os.path.join(workdir, "params")):
    with open(summary_path, encoding="utf-8") as f:
      return json.load(f)
  os.makedirs(workdir, exist_ok=True)
  lock = workdir_lock.WorkdirLock(workdir)
  try:
    return _train_prior(config, workdir, config_dict, summary_path)
  finally:
    lock.release()


def start_over(workdir: str, config_dict: dict) -> metrics_writer.MetricsWriter:
  """Prepares an unfinished prior's workdir to train from scratch: removes stale
  outputs and the metric rows of a killed attempt (saying so), records the config;
  returns the metrics writer."""
  run_workdir.remove_final_outputs(workdir)
  run_workdir.write_config(workdir, config_dict)
  writer = metrics_writer.MetricsWriter(workdir)
  writer.truncate_after(0)
  return writer


def _train_prior(config, workdir: str, config_dict: dict, summary_path: str) -> dict:
  writer = start_over(workdir, config_dict)
  ic, start = config.imitation, time.time()
  train = _load(config, config.data.split, drop_heldout=True)
  evaluation = _load(config, config.data.eval_split)
  program = Imitation(config)
  state = sharding.split_seeds(
    program.init(config.seed, config.num_seeds), config.split_over, config.num_devices
  )
  curve = []
  bar = tqdm(total=ic.num_steps, desc="imitate_prior", unit="step", disable=not ic.progress)
  for first in range(0, ic.num_steps, ic.steps_per_chunk):
    length = min(ic.steps_per_chunk, ic.num_steps - first)
    state, metrics = program.run_chunk(state, train, length)
    metrics = {k: np.asarray(v) for k, v in jax.device_get(metrics).items()}  # [T, S]
    if not np.all(np.isfinite(metrics["loss"])):
      raise FloatingPointError(f"imitation: non-finite loss in steps {first + 1}..{first + length}")
    for j in range(length):
      writer.write(
        first + j + 1, (first + j + 1) * ic.batch_size, {k: v[j] for k, v in metrics.items()}
      )
    if not curve:  # the loss of the initial parameters
      curve.append({"step": 1, **{k: float(metrics[k][0].mean()) for k in _CURVE}})
    curve.append({"step": first + length, **{k: float(metrics[k].mean()) for k in _CURVE}})
    bar.update(length)
    bar.set_postfix(loss=f"{curve[-1]['bc_loss']:.3f}", acc=f"{curve[-1]['token_accuracy']:.3f}")
  bar.close()
  writer.close()
  summary = {"experiment": config.experiment, "num_seeds": config.num_seeds}
  summary.update(num_steps=ic.num_steps, train_seconds=round(time.time() - start, 1))
  summary.update(curve=curve, eval_split=config.data.eval_split)
  checkpointing.save_final_params(workdir, state[0])
  if ic.eval_samples > 0:
    start = time.time()
    summary.update(program.evaluate(state[0], evaluation, jax.random.PRNGKey(config.seed + 1)))
    summary["eval_seconds"] = round(time.time() - start, 1)
  # Written atomically: the run is finished once summary.json exists.
  with open(summary_path + ".tmp", "w", encoding="utf-8") as f:
    json.dump(summary, f, indent=2)
  os.replace(summary_path + ".tmp", summary_path)
  return summary
