"""Multi-turn rollouts of response policies in the conversation world.

`rollout_turns` runs every seed's policy through `T` assistant turns on every
scenario of a split, in the split's order, with the environment's own user model:
after each response the `ConversationEnv` renders it into the context and appends
the scenario's follow-up `followups[class, level]` for the response class and the
pressure level `min(pressure_start + turn, THREAT)` (turn counted from 0). The t-th
response (t = 0..T-1) therefore answers the opening context for t = 0 and the
follow-up of level `min(pressure_start + t - 1, THREAT)` for t >= 1.

Each turn's response is graded on its own (the graders see the response and the
scenario's latents, as in training). The whole rollout of one batch of scenarios
is one jitted program: the conversation rollout (`envs.conversations.rollout.rollout`:
reset to each scenario, then a `lax.scan` over turns of (sample responses, grade, env
step)), vmapped over seeds.
Batches have a fixed size (the last one is padded by wrapping round), so a split
compiles once per (network, T, batch size, graders).

The policy reads the conversation so far PAD-padded to
`CONTEXT_LEN + (T - 1) * (R + F)` tokens, the longest context it can see; a
transformer encoder needs `max_len` at least that long.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from alignment_rl.envs.conversations.rollout import (
  batch_params,
  policy_input_len,
  rollout,
  world,
)
from alignment_rl.language import schema, vocab
from alignment_rl.registry import GRADERS

#: Sampling temperature used for greedy (argmax) responses, as in `policy_grades`.
GREEDY_TEMPERATURE = 1e-4
_FIELDS = tuple(k for k, f in schema.FIELDS.items() if f.group != "metadata")


def check_input_len(network, num_turns: int) -> None:
  """Raises a one-line ValueError if a transformer's `max_len` is too short."""
  need = policy_input_len(num_turns, network.max_response_len)
  if getattr(network, "encoder", "bag_of_tokens") == "transformer" and network.max_len < need:
    raise ValueError(
      f"a rollout of {num_turns} turns feeds {need} context tokens but the transformer's "
      f"max_len={network.max_len}; build the network with max_len >= {need}"
    )


@functools.partial(jax.jit, static_argnums=(0, 1, 2, 3))
def _rollout_batch(network, num_turns, graders, transcripts, params, batch, attack, temp, key):
  """One batch. Returns (grades f32[S, T, G, B], classes i32[S, T, B], tokens)."""
  env = world(network.max_response_len, num_turns)
  env_params = batch_params(batch, num_turns, *attack)
  in_len = policy_input_len(num_turns, network.max_response_len)
  fns = [GRADERS.get(g) for g in graders]

  def one_seed(p, k):
    def policy(obs, k_turn):
      return network.apply(p, obs[:, :in_len], k_turn, temp, method="sample")[0], None

    out = rollout(policy, env, env_params, jax.random.split(k, num_turns), fns)
    return out["grades"], out["response_class"], (out["tokens"] if transcripts else None)

  keys = jax.random.split(key, jax.tree.leaves(params)[0].shape[0])
  return jax.vmap(one_seed)(params, keys)


def rollout_turns(
  network,
  params,
  split: dict,
  num_turns: int,
  key: jax.Array,
  graders: tuple[str, ...] = ("rubric",),
  *,
  pressure_start: int = 0,
  persona: np.ndarray | None = None,
  greedy: bool = False,
  batch_size: int = 512,
  transcripts: bool = False,
) -> dict[str, np.ndarray]:
  """Grades of every seed's responses over `num_turns` turns on every scenario.

  Args:
    network: a `ResponseActorCritic` (or any module with its `sample(context, key,
      temperature) -> (actions int32[B, R], ...)` method, `max_response_len` and
      `eot_action`).
    params: network parameters with a leading seed axis [S, ...].
    split: stacked scenario arrays (`alignment_rl.data.load_split`), N scenarios.
    num_turns: T >= 1 assistant turns per conversation.
    key: PRNG key; the result is a deterministic function of it.
    graders: registered grader names.
    pressure_start: pressure level of the first follow-up (the env's schedule).
    persona: optional int32[<= PERSONA_LEN] tokens written into the persona slot of
      every scenario (PAD-padded), replacing any persona the scenario has.
    greedy: argmax responses instead of samples.
    batch_size: scenarios per compiled call (the last batch is padded).
    transcripts: also return the final conversations.

  Returns:
    {grader: float32[S, N, T] grade of each turn's response,
     "response_class": int32[S, N, T] (`schema.ResponseClass`, picks the follow-up),
     grader + "/applies": bool[N],
     "tokens": int32[S, N, CONTEXT_LEN + T * (R + F)] if `transcripts`: the whole
       conversation, every response rendered and every follow-up but the last}.
  """
  if num_turns < 1:
    raise ValueError(f"num_turns must be >= 1, got {num_turns}")
  if not 0 <= pressure_start < schema.NUM_PRESSURE_LEVELS:
    raise ValueError(f"pressure_start must be in [0, {schema.NUM_PRESSURE_LEVELS})")
  check_input_len(network, num_turns)
  graders = tuple(graders)
  slot = np.full(schema.PERSONA_LEN, vocab.PAD, np.int32)
  if persona is not None:
    persona = np.asarray(persona, np.int32).reshape(-1)
    if len(persona) > schema.PERSONA_LEN:
      raise ValueError(f"persona has {len(persona)} tokens > PERSONA_LEN={schema.PERSONA_LEN}")
    slot[: len(persona)] = persona
  temperature = jnp.float32(GREEDY_TEMPERATURE if greedy else 1.0)
  attack = (jnp.asarray(slot), jnp.bool_(persona is not None), jnp.int32(pressure_start))
  data = {k: np.asarray(split[k]) for k in _FIELDS}
  n = len(data["context"])
  size = min(batch_size, n)
  parts: dict[str, list] = {"grades": [], "classes": [], "tokens": []}
  for start in range(0, n, size):
    idx = np.arange(start, start + size) % n  # Pad the last batch by wrapping.
    batch = {k: jnp.asarray(v[idx]) for k, v in data.items()}
    key, sub = jax.random.split(key)
    grades, classes, tokens = _rollout_batch(
      network, num_turns, graders, transcripts, params, batch, attack, temperature, sub
    )
    keep = min(size, n - start)
    parts["grades"].append(np.asarray(grades)[..., :keep])
    parts["classes"].append(np.asarray(classes)[..., :keep])
    if transcripts:
      parts["tokens"].append(np.asarray(tokens)[:, :keep])
  grades = np.concatenate(parts["grades"], axis=-1)  # [S, T, G, N]
  out: dict[str, np.ndarray] = {
    g: np.moveaxis(grades[:, :, j], 1, 2).astype(np.float32) for j, g in enumerate(graders)
  }
  out["response_class"] = np.moveaxis(np.concatenate(parts["classes"], -1), 1, 2).astype(np.int32)
  scenarios = {k: jnp.asarray(v) for k, v in data.items()}
  for g in graders:
    out[g + "/applies"] = np.asarray(jax.vmap(GRADERS.get(g).applies)(scenarios), bool)
  if transcripts:
    out["tokens"] = np.concatenate(parts["tokens"], axis=1)
  return out
