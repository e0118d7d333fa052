"""The conversation rollout: a policy answers every scenario of a batch for T turns.

`rollout(policy, env, params, keys)` resets the `ConversationEnv` to each scenario of
`params` (in order), then runs one `lax.scan` step per key: the policy writes every
conversation's reply, each grader scores it, and the environment's step renders it and
appends the user model's follow-up. It is pure jnp (jit and vmap it, e.g. over seeds)
and is what evaluation (`evals.rollout`, `evals.policy_grades`), the imitation's
evaluation and the transcript viewer run. The PPO loop steps the same `step_env`
through its generic environment interface, and the imitation's two-turn contexts are
rendered by `step_env` too, so a turn is produced in one place.

A policy is `policy(obs int32[B, L_obs], key) -> (actions int32[B, R], aux)`, `aux`
any pytree (stacked over turns); the key is `keys[t]` as given, so a caller chooses how
its keys are drawn. `prior_policy` makes one of the scripted prior.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from alignment_rl.envs.conversations import prior
from alignment_rl.envs.conversations.env import ConversationEnv, ConversationParams
from alignment_rl.language import schema, vocab


def policy_input_len(num_turns: int, response_len: int) -> int:
  """Longest context (tokens) a policy reads in a `num_turns`-turn rollout:
  `CONTEXT_LEN + (T - 1) (R + F)`."""
  return schema.CONTEXT_LEN + (num_turns - 1) * (response_len + schema.FOLLOWUP_LEN)


@functools.cache
def world(response_len: int, num_turns: int) -> ConversationEnv:
  """A `ConversationEnv` with a rollout's static shapes (cached, so jit caches hit).

  Its scenarios come from the params of each call (`batch_params`); the stored split
  is a dummy.
  """
  dummy = {k: np.zeros((1,) + f.shape, f.dtype) for k, f in schema.FIELDS.items()}
  return ConversationEnv(dummy, ("rubric",), response_len, max(num_turns, 1))


def batch_params(
  batch: dict, num_turns: int, persona=None, use_persona=False, pressure_start=0
) -> ConversationParams:
  """`ConversationParams` over a batch of scenarios (every leaf an array).

  Args:
    batch: {field: [B, ...]} scenario arrays (`schema.FIELDS`, metadata not needed).
    num_turns: T, the turns of every conversation.
    persona: int32[PERSONA_LEN] tokens of the persona slot, used if `use_persona`
      (default: PAD).
    use_persona: bool[], write `persona` into every context.
    pressure_start: int32[], pressure level of the first follow-up.

  Returns:
    params whose scenario i is `batch` row i, the user model reading its own row.
  """
  n = batch["context"].shape[0]
  if persona is None:
    persona = jnp.full((schema.PERSONA_LEN,), vocab.PAD, jnp.int32)
  return ConversationParams(
    scenarios=batch,
    cdf=jnp.linspace(1.0 / n, 1.0, n, dtype=jnp.float32),
    grader_index=jnp.zeros((n,), jnp.int32),
    persona=jnp.asarray(persona, jnp.int32),
    use_persona=jnp.asarray(use_persona, jnp.bool_),
    pressure_start=jnp.asarray(pressure_start, jnp.int32),
    min_turns=jnp.int32(num_turns),
    max_turns=jnp.int32(num_turns),
    per_turn_reward=jnp.float32(0.0),
    persona_table=jnp.zeros((1, schema.PERSONA_LEN), jnp.int32),
    persona_prob=jnp.float32(0.0),
    user_row=jnp.arange(n, dtype=jnp.int32),
  )


def rollout(policy, env: ConversationEnv, params: ConversationParams, keys, graders=()) -> dict:
  """Every scenario of `params` through one conversation of `T = len(keys)` turns.

  Args:
    policy: `(obs int32[B, L_obs], key) -> (actions int32[B, R], aux)` (module
      docstring); obs is the conversation so far, PAD-padded.
    env: the environment (`world` gives one per static shape).
    params: its params; their B scenarios are rolled out in order, each with
      `params.max_turns` turns (use T = `params.max_turns`).
    keys: [T, ...] keys; turn t's policy key is `keys[t]` (the env's step uses none).
    graders: grader functions `(reply int32[R], scenario) -> float32[]`, each scoring
      every turn's reply.

  Returns:
    {"actions": int32[T, B, R], "replies": int32[T, B, R] their tokens,
     "grades": float32[T, G, B], "response_class": int32[T, B] (the user model's
     reading, which picks the follow-up), "aux": the policy's aux stacked over turns,
     "tokens": int32[B, L_obs] the whole conversations (every follow-up but the last)}.
  """
  n = params.scenarios["context"].shape[0]
  obs, state = jax.vmap(env.reset_to, in_axes=(0, None))(jnp.arange(n), params)
  step = jax.vmap(env.step_env, in_axes=(None, 0, 0, None))

  def turn(carry, key):
    obs, state = carry
    actions, aux = policy(obs, key)
    replies = jax.vmap(env.response_tokens)(actions)
    grades = [jax.vmap(g)(replies, params.scenarios) for g in graders]
    grades = jnp.stack(grades) if grades else jnp.zeros((0, n), jnp.float32)
    obs, state, _, _, info = step(key, state, actions, params)
    out = {"actions": actions, "replies": replies, "grades": grades}
    out.update(response_class=info["response_class"], aux=aux)
    return (obs, state), out

  (obs, _), per_turn = jax.lax.scan(turn, (obs, state), keys)
  return {**per_turn, "tokens": obs}


def prior_policy(scenarios: dict, response_len: int = prior.DEFAULT_RESPONSE_LEN):
  """The scripted prior as a rollout policy on the batch `scenarios`.

  Its key is split into one key per scenario (`jax.random.split(key, B)`); it reads the
  scenario's latents and the persona slot of the conversation's opening context, and
  its aux is the mode that wrote each reply (int32[B]).
  """
  draw = jax.vmap(prior.prior_response_and_mode, in_axes=(0, 0, None))

  def policy(obs, key):
    view = {**scenarios, "context": obs[:, : schema.CONTEXT_LEN]}
    return draw(jax.random.split(key, obs.shape[0]), view, response_len)

  return policy
