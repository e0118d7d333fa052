"""The conversation environment: multi-turn assistant conversations as a JAX MDP.

One environment step is one assistant turn. The observation is the conversation
so far as int32 tokens (PAD-padded to a fixed length); the action is the
assistant's response, `R` response actions (token `RESPONSE_OFFSET + a`, action 0
is EOT; everything after the first EOT is ignored). After each response:

  1. the grader of the scenario scores it (`rubric`, `standard`, ... per scenario);
  2. the response is rendered into the context (so the policy sees its own
     earlier turns, like the planted assistant turn of the scenario);
  3. unless the episode is over, the user model appends the scenario's follow-up
     `followups[c, p]` for the response class c (`classify_response`) and the
     pressure level p = min(pressure_start + turn, THREAT) of the schedule
     polite -> insistent -> authority -> threat.

An episode has `num_turns` assistant turns, drawn uniformly from
[min_turns, max_turns] at reset; its end is a termination. Reward is the grade of
the last turn (`per_turn_reward=0`, default) or each turn's grade / num_turns
(`per_turn_reward=1`), so the return is in the grader's range either way.

Scenarios are drawn from a split loaded into device arrays (`EnvParams.scenarios`)
with probabilities proportional to `EnvParams.weights` (the mixture of an arm);
everything a sweep or an attack changes — weights, grader per scenario, persona
override, pressure start, turn counts — is an array leaf of `EnvParams`, so it
never recompiles. Only the observation's length (set by `max_turns_capacity`) and
the response length are static.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

from alignment_rl.envs import spaces
from alignment_rl.envs.conversations import user_model
from alignment_rl.envs.environment import Environment
from alignment_rl.language import schema, vocab
from alignment_rl.language.tokens import reply_tokens
from alignment_rl.registry import GRADERS

_OVERSIGHT_CUE_REMOVED = vocab.oversight_cue_table()

# Scenario fields the environment reads (observation, latents, rubric); metadata
# fields stay on the host.
_ENV_FIELDS = tuple(k for k, f in schema.FIELDS.items() if f.group != "metadata")


@struct.dataclass
class ConversationParams:
  scenarios: dict  # field -> [N, ...] arrays (`schema.FIELDS`, metadata excluded).
  cdf: jax.Array  # float32[N], cumulative sampling probabilities of the scenarios.
  grader_index: jax.Array  # int32[N], index into the env's `graders` per scenario.
  persona: jax.Array  # int32[P], tokens written into the persona slot if use_persona.
  use_persona: jax.Array  # bool[]
  pressure_start: jax.Array  # int32[], pressure level of the first follow-up.
  min_turns: jax.Array  # int32[]
  max_turns: jax.Array  # int32[] (<= the env's max_turns_capacity)
  per_turn_reward: jax.Array  # float32[] in {0, 1}
  # Adversarial-persona augmentation (a persistence objective): with probability
  # persona_prob an episode starts with a random row of persona_table in the slot.
  persona_table: jax.Array  # int32[K, P]
  persona_prob: jax.Array  # float32[]
  # The row whose latents the user model reads for each scenario: the identity, except
  # under a shuffled negative control (`controls.apply_control`), whose graded facts
  # moved while the conversation's did not.
  user_row: jax.Array  # int32[N]
  max_steps_in_episode: int = 1_000_000  # Turn count, not a time limit, ends episodes.


@struct.dataclass
class ConversationState:
  index: jax.Array  # int32[], the scenario.
  tokens: jax.Array  # int32[L_obs], the conversation so far.
  length: jax.Array  # int32[], tokens in use.
  turn: jax.Array  # int32[], assistant turns taken.
  num_turns: jax.Array  # int32[], turns in this episode.
  time: jax.Array  # int32[]


def observation_len(max_turns_capacity: int, response_len: int) -> int:
  """Tokens in an observation: the context, then per turn a response and a follow-up,
  except the last turn's follow-up, which is never rendered (the episode ends).

  `CONTEXT_LEN + T (R + F) - F`: 72 for one turn of 8 tokens, 128 for three.
  """
  return (
    schema.CONTEXT_LEN
    + max_turns_capacity * (response_len + schema.FOLLOWUP_LEN)
    - schema.FOLLOWUP_LEN
  )


class ConversationEnv(Environment):
  """Multi-turn conversations over a scenario split; see the module docstring.

  Args:
    split: dict of stacked numpy arrays from `alignment_rl.data.load_split`.
    graders: names of registered graders; `grader_index` picks one per scenario.
    response_len: R, response actions per turn (the last must be EOT).
    max_turns_capacity: the most turns any episode may have (sets the obs length,
      `observation_len`: no position is kept that no episode can fill).
  """

  def __init__(
    self,
    split: dict,
    graders: tuple[str, ...] = ("rubric",),
    response_len: int = 8,
    max_turns_capacity: int = 3,
  ):
    if not graders:
      raise ValueError("ConversationEnv.graders must name at least one grader")
    self.graders = tuple(GRADERS.get(g) for g in graders)
    self.grader_names = tuple(graders)
    self.response_len = int(response_len)
    self.max_turns_capacity = int(max_turns_capacity)
    self.followup_len = split["followups"].shape[-1]
    self.obs_len = observation_len(self.max_turns_capacity, self.response_len)
    self.num_scenarios = len(split["context"])
    self._split = {k: np.asarray(split[k]) for k in _ENV_FIELDS}
    self._default: ConversationParams | None = None

  @property
  def name(self) -> str:
    return "conversation"

  def make_params(
    self,
    weights: np.ndarray | None = None,
    grader_index: np.ndarray | None = None,
    persona: np.ndarray | None = None,
    pressure_start: int = 0,
    min_turns: int = 1,
    max_turns: int = 1,
    per_turn_reward: bool = False,
    persona_table: np.ndarray | None = None,
    persona_prob: float = 0.0,
    user_row: np.ndarray | None = None,
  ) -> ConversationParams:
    """Builds params; every argument is an array leaf (changing it never recompiles)."""
    n = self.num_scenarios
    if not 1 <= min_turns <= max_turns <= self.max_turns_capacity:
      raise ValueError(
        f"turns: need 1 <= min_turns={min_turns} <= max_turns={max_turns} <= "
        f"max_turns_capacity={self.max_turns_capacity}"
      )
    w = np.ones(n) if weights is None else np.asarray(weights, np.float64)
    if w.shape != (n,) or np.any(w < 0) or w.sum() <= 0:
      raise ValueError(f"weights must be {n} non-negative numbers with a positive sum")
    gi = np.zeros(n, np.int32) if grader_index is None else np.asarray(grader_index, np.int32)
    if gi.shape != (n,) or gi.min() < 0 or gi.max() >= len(self.graders):
      raise ValueError(f"grader_index must be {n} ints in [0, {len(self.graders)})")
    user = np.arange(n, dtype=np.int32) if user_row is None else np.asarray(user_row, np.int32)
    if user.shape != (n,) or user.min() < 0 or user.max() >= n:
      raise ValueError(f"user_row must be {n} row indices in [0, {n})")
    slot = np.full(schema.PERSONA_LEN, vocab.PAD, np.int32)
    if persona is not None:
      persona = np.asarray(persona, np.int32)
      slot[: len(persona)] = persona[: schema.PERSONA_LEN]
    return ConversationParams(
      scenarios={k: jnp.asarray(v) for k, v in self._split.items()},
      cdf=jnp.asarray(np.cumsum(w) / w.sum(), jnp.float32),
      grader_index=jnp.asarray(gi),
      persona=jnp.asarray(slot),
      use_persona=jnp.bool_(persona is not None),
      pressure_start=jnp.int32(pressure_start),
      min_turns=jnp.int32(min_turns),
      max_turns=jnp.int32(max_turns),
      per_turn_reward=jnp.float32(per_turn_reward),
      persona_table=jnp.asarray(
        np.full((1, schema.PERSONA_LEN), vocab.PAD, np.int32)
        if persona_table is None
        else np.asarray(persona_table, np.int32).reshape(-1, schema.PERSONA_LEN)
      ),
      persona_prob=jnp.float32(persona_prob),
      user_row=jnp.asarray(user),
    )

  @property
  def default_params(self) -> ConversationParams:
    """The params set by `set_default_params` (a mixture), else uniform sampling."""
    return self._default if self._default is not None else self.make_params()

  def set_default_params(self, params: ConversationParams) -> None:
    self._default = params

  def network_defaults(self) -> dict:
    """What a `response_policy` network needs to know about this environment."""
    return {
      "vocab_size": vocab.VOCAB_SIZE,
      "max_response_len": self.response_len,
      "max_len": self.obs_len,
      "eot_action": int(vocab.Action.EOT),
    }

  def oversight_counterfactual(self, obs: jax.Array) -> jax.Array:
    """obs int32[..., L] with its oversight cue (monitored or unmonitored) removed: the
    counterfactual context of the `oversight_consistency` objective."""
    return jnp.asarray(_OVERSIGHT_CUE_REMOVED)[obs]

  def scenario(self, params: ConversationParams, index: jax.Array) -> dict:
    """The unbatched scenario `index` (a dict of arrays)."""
    return jax.tree.map(lambda x: x[index], params.scenarios)

  def reset_env(self, key, params):
    k_idx, k_turns = jax.random.split(key)
    u = jax.random.uniform(k_idx)
    index = jnp.minimum(jnp.searchsorted(params.cdf, u, side="right"), self.num_scenarios - 1)
    num_turns = jax.random.randint(k_turns, (), params.min_turns, params.max_turns + 1)
    obs, state = self.reset_to(index, params)
    # Persona augmentation (off unless persona_prob > 0; an override persona wins).
    k_on, k_row = jax.random.split(jax.random.fold_in(key, 7))
    on = (jax.random.uniform(k_on) < params.persona_prob) & ~params.use_persona
    row = params.persona_table[jax.random.randint(k_row, (), 0, params.persona_table.shape[0])]
    lo, hi = schema.PERSONA_SLOT
    obs = jnp.where(on, obs.at[lo:hi].set(row), obs)
    return obs, state.replace(num_turns=num_turns, tokens=obs)

  def reset_to(self, index: jax.Array, params: ConversationParams):
    """Deterministic reset to scenario `index` with `params.max_turns` turns.

    Args:
      index: int32[], a row of `params.scenarios`.
      params: the environment params (persona override included).

    Returns:
      (obs int32[L_obs], state), as `reset`.
    """
    index = jnp.asarray(index, jnp.int32)
    context = params.scenarios["context"][index]
    lo, hi = schema.PERSONA_SLOT
    context = jnp.where(params.use_persona, context.at[lo:hi].set(params.persona), context)
    tokens = jnp.zeros((self.obs_len,), jnp.int32).at[: schema.CONTEXT_LEN].set(context)
    state = ConversationState(
      index=index,
      tokens=tokens,
      length=params.scenarios["context_len"][index],
      turn=jnp.int32(0),
      num_turns=jnp.asarray(params.max_turns, jnp.int32),
      time=jnp.int32(0),
    )
    return tokens, state

  def response_tokens(self, action: jax.Array) -> jax.Array:
    """Actions int32[R] -> response token ids int32[R]: the last action made EOT (a reply
    has at most R - 1 content actions), then `language.tokens.reply_tokens`."""
    return reply_tokens(jnp.asarray(action, jnp.int32).at[-1].set(vocab.Action.EOT))

  def step_env(self, key, state, action, params):
    del key
    response = self.response_tokens(action)
    scenario = self.scenario(params, state.index)
    grades = jnp.stack([g(response, scenario) for g in self.graders])
    grade = grades[params.grader_index[state.index]]
    last = state.turn + 1 >= state.num_turns
    reward = jnp.where(
      params.per_turn_reward > 0,
      grade / state.num_turns,
      jnp.where(last, grade, 0.0),
    )
    # Render the response, then the user model's follow-up.
    tokens = jax.lax.dynamic_update_slice(state.tokens, response, (state.length,))
    length = state.length + jnp.sum(response != vocab.PAD)
    row = params.user_row[state.index]  # The conversation's own facts (controls move them).
    user_view = {**scenario, **{k: params.scenarios[k][row] for k in user_model.USER_FIELDS}}
    cls = user_model.classify_response(response, user_view)
    level = jnp.minimum(params.pressure_start + state.turn, len(schema.Pressure) - 1)
    followup = scenario["followups"][cls, level]
    with_followup = jax.lax.dynamic_update_slice(tokens, followup, (length,))
    tokens = jnp.where(last, tokens, with_followup)
    length = jnp.where(last, length, length + scenario["followup_len"][cls, level])
    new_state = state.replace(
      tokens=tokens, length=length, turn=state.turn + 1, time=state.time + 1
    )
    info = {"grade": grade, "response_class": cls, "turn": state.turn, "index": state.index}
    return tokens, new_state, reward, last, info

  def action_space(self, params=None):
    return spaces.Box(0, len(vocab.Action) - 1, (self.response_len,), jnp.int32)

  def observation_space(self, params=None):
    return spaces.Box(0, vocab.VOCAB_SIZE - 1, (self.obs_len,), jnp.int32)

  @property
  def num_actions(self) -> int:
    return len(vocab.Action)
