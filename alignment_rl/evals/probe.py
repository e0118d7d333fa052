"""A supervised probe: is transfer to the held-out splits learnable at all?

The probe is the main job's response policy trained by supervised learning on
*training* data only (the `train` split without the held-out families,
`schema.HELDOUT_FAMILIES`), to map the observation to the scripted oracle's reply
(`reference_search.oracle_replies`: the reply that maximises the scenario's own
rubric). It is then scored by the real evaluation suite, like a trained arm. If it
beats the best context-free reply on every held-out split (held-out domains, held-out
formats, held-out families), the skills the held-out evaluations ask for can be read
off the observation by this encoder from training data: transfer is possible in
principle, and an arm that fails to transfer failed to learn it, not to see it.

Loss: teacher-forced cross-entropy of the oracle's actions (EOT included) under the
policy head, as in the imitation of the prior (`training.imitation_program.bc_loss`), Adam,
one seed per key.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax

from alignment_rl import networks
from alignment_rl.agents.policies import ResponsePolicy
from alignment_rl.data.select import split_rows
from alignment_rl.evals import reference_search as rs
from alignment_rl.evals import reference_targets as rt
from alignment_rl.evals import suite as suite_lib
from alignment_rl.language import schema, vocab
from alignment_rl.registry import GRADERS
from alignment_rl.training.imitation_program import bc_loss

#: Where each evaluation counts: its split, and `heldout_families` for evaluations whose
#: families are all held out.
HELDOUT_GROUPS = ("heldout_domains", "heldout_formats", "heldout_families")


def training_rows(train: dict, max_scenarios: int, seed: int = 0) -> np.ndarray:
  """Indices of up to `max_scenarios` train scenarios outside the held-out families."""
  idx = np.flatnonzero(split_rows(train, exclude_families=schema.HELDOUT_FAMILIES))
  return np.sort(np.random.default_rng(seed).permutation(idx)[:max_scenarios])


def tokens_to_actions(tokens: np.ndarray) -> np.ndarray:
  """Reply tokens int32[N, R] (EOT then PAD) -> actions int32[N, R] (EOT = 0 after)."""
  tokens = np.asarray(tokens, np.int32)
  actions = np.where(vocab.is_response_token(tokens), tokens - vocab.RESPONSE_OFFSET, 0)
  return actions.astype(np.int32)


def train_probe(
  network, contexts: np.ndarray, actions: np.ndarray, key, num_steps: int, batch_size: int, lr
):
  """Supervised training of one policy on (context, oracle actions); returns params."""
  optimizer = optax.adam(lr)
  params = ResponsePolicy(network).init(key, jnp.zeros(contexts.shape[1], jnp.int32))
  contexts, actions = jnp.asarray(contexts), jnp.asarray(actions)
  zeros = jnp.zeros(batch_size)

  @jax.jit
  def chunk(params, opt_state, key):
    def step(carry, _):
      params, opt_state, key = carry
      key, k = jax.random.split(key)
      idx = jax.random.randint(k, (batch_size,), 0, contexts.shape[0])
      grads, metrics = jax.grad(bc_loss, has_aux=True)(
        params, network, contexts[idx], actions[idx], zeros, 0.0
      )
      updates, opt_state = optimizer.update(grads, opt_state, params)
      return (optax.apply_updates(params, updates), opt_state, key), metrics["bc_loss"]

    return jax.lax.scan(step, (params, opt_state, key), None, length=100)

  state, losses = (params, optimizer.init(params), key), []
  for _ in range(max(num_steps // 100, 1)):
    state, loss = chunk(*state)
    losses.append(float(loss[-1]))
  return state[0], losses


def group_means(scores: dict[str, float], evaluations) -> dict[str, float]:
  """Mean score per `HELDOUT_GROUPS` entry (and per other split) over evaluations."""
  heldout = {f.name.lower() for f in schema.HELDOUT_FAMILIES}
  groups: dict[str, list[float]] = {}
  for e in evaluations:
    value = scores.get(e.name, float("nan"))
    groups.setdefault(e.split, []).append(value)
    if e.families and set(e.families) <= heldout:
      groups.setdefault("heldout_families", []).append(value)
  return {g: float(np.nanmean(v)) for g, v in sorted(groups.items())}


def run_probe(
  splits: dict,
  network_kwargs: dict,
  *,
  suite_name: str = "full",
  max_samples: int | None = None,
  train_scenarios: int = 4096,
  num_steps: int = 2000,
  batch_size: int = 256,
  learning_rate: float = 3e-3,
  seed: int = 0,
) -> dict:
  """Trains the probe and scores it with the suite; returns per-group means.

  Args:
    splits: {split: arrays} with `train` and every split the suite uses.
    network_kwargs: the response policy's kwargs (`networks.make("response_policy")`).
    suite_name, max_samples: the suite and its sample cap.
    train_scenarios, num_steps, batch_size, learning_rate, seed: the supervised run.

  Returns:
    {"groups": {group: mean}, "evaluations": {name: score}, "oracle_train_rubric",
    "final_bc_loss", "train_scenarios"}.
  """
  from alignment_rl.evals.suite_runner import evaluate_suite

  train = splits["train"]
  idx = training_rows(train, train_scenarios, seed)
  rows = rt.scenario_view(train, idx)
  replies, values = rs.oracle_replies(GRADERS.get("rubric"), rows)
  network = networks.make("response_policy", vocab.NUM_ACTIONS, **network_kwargs)
  params, losses = train_probe(
    network,
    train["context"][idx],
    tokens_to_actions(replies),
    jax.random.PRNGKey(seed),
    num_steps,
    batch_size,
    learning_rate,
  )
  stacked = jax.tree.map(lambda x: x[None], params)
  evaluations = suite_lib.get_suite(suite_name)
  res = evaluate_suite(
    network,
    stacked,
    suite_name,
    arm="probe",
    key=jax.random.PRNGKey(seed + 1),
    splits=splits,
    max_samples=max_samples,
    greedy=True,
  )
  scores = {r["evaluation"]: float(r["mean"]) for r in res.rows}
  return {
    "groups": group_means(scores, evaluations),
    "evaluations": scores,
    "oracle_train_rubric": float(np.mean(np.clip(values, 0, 1))),
    "final_bc_loss": losses[-1],
    "train_scenarios": int(len(idx)),
  }
