"""The conversation environment: rendering, the user model, rewards, params as leaves."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from alignment_rl.envs.conversations import user_model
from alignment_rl.envs.conversations.env import ConversationEnv
from alignment_rl.envs.conversations.mixture import mixture_weights
from alignment_rl.language import personas, schema, vocab
from alignment_rl.language.tokens import reply_tokens
from alignment_rl.registry import GRADERS

A = vocab.Action


@pytest.fixture(scope="module")
def split(small_splits):
  return small_splits["train"]


def first_state(env, params, key=0):
  return env.reset(jax.random.PRNGKey(key), params)


def test_reset_observation_is_the_scenario_context(split):
  env = ConversationEnv(split, max_turns_capacity=2)
  params = env.make_params()
  obs, state = first_state(env, params)
  i = int(state.index)
  assert obs.shape == (env.obs_len,) and obs.dtype == jnp.int32
  np.testing.assert_array_equal(obs[: schema.CONTEXT_LEN], split["context"][i])
  assert np.all(np.asarray(obs[schema.CONTEXT_LEN :]) == vocab.PAD)
  assert int(state.length) == int(split["context_len"][i])


def test_response_is_rendered_and_follow_up_appended(split):
  env = ConversationEnv(split, response_len=6, max_turns_capacity=3)
  params = env.make_params(min_turns=3, max_turns=3, pressure_start=1)
  obs, state = first_state(env, params, key=3)
  i, n0 = int(state.index), int(state.length)
  action = jnp.array([A.ANS_2, A.UNSURE, A.EOT, A.ANS_5, A.ANS_5, A.ANS_5])
  obs, state, reward, done, info = env.step(jax.random.PRNGKey(0), state, action, params)
  response = [vocab.RESPONSE_OFFSET + A.ANS_2, vocab.RESPONSE_OFFSET + A.UNSURE, vocab.EOT]
  np.testing.assert_array_equal(obs[n0 : n0 + 3], response)  # Tokens after EOT dropped.
  scen = jax.tree.map(lambda x: x[i], env.default_params.scenarios)
  cls = int(user_model.classify_response(env.response_tokens(action), scen))
  assert int(info["response_class"]) == cls
  fl = int(split["followup_len"][i, cls, 1])  # pressure_start=1 at the first follow-up
  np.testing.assert_array_equal(obs[n0 + 3 : n0 + 3 + fl], split["followups"][i, cls, 1, :fl])
  assert int(state.length) == n0 + 3 + fl and not bool(done) and float(reward) == 0.0
  # Second follow-up uses the next pressure level.
  n1 = int(state.length)
  obs, state, _, _, info = env.step(jax.random.PRNGKey(1), state, action, params)
  cls = int(info["response_class"])
  fl = int(split["followup_len"][i, cls, 2])
  np.testing.assert_array_equal(obs[n1 + 3 : n1 + 3 + fl], split["followups"][i, cls, 2, :fl])


def test_terminal_and_per_turn_rewards(split):
  env = ConversationEnv(split, graders=("rubric",), max_turns_capacity=2)
  action = jnp.array([A.ANS_1, A.EXPLAIN, A.EOT, 0, 0, 0, 0, 0])
  for per_turn in (False, True):
    params = env.make_params(min_turns=2, max_turns=2, per_turn_reward=per_turn)
    _, state = first_state(env, params, key=7)
    scen = env.scenario(params, state.index)
    grade = float(GRADERS.get("rubric")(env.response_tokens(action), scen))
    _, state, r1, d1, _ = env.step(jax.random.PRNGKey(0), state, action, params)
    _, state, r2, d2, info = env.step(jax.random.PRNGKey(1), state, action, params)
    assert not bool(d1) and bool(d2) and bool(info["terminated"])
    if per_turn:
      assert float(r1) == pytest.approx(grade / 2, abs=1e-6)
    else:
      assert float(r1) == 0.0
      assert float(r2) == pytest.approx(float(info["grade"]))
    assert int(state.turn) == 0  # Auto-reset after the last turn.


def test_persona_override_fills_the_slot(split):
  env = ConversationEnv(split)
  harmful = personas.EVAL_HARMFUL_PERSONAS[0]
  params = env.make_params(persona=harmful)
  obs, _ = first_state(env, params)
  lo, hi = schema.PERSONA_SLOT
  np.testing.assert_array_equal(obs[lo:hi], harmful)


def test_mixture_weights_fraction_and_graders(split):
  w, gi, graders = mixture_weights(split, trait_fraction=0.05)
  family, odd = split["family"], split["index"] % 2 == 1
  training = np.isin(family, [int(f) for f in schema.TRAINING_FAMILIES])
  assert graders == ("rubric", "standard")
  trait = gi == 0
  # The trait pool: training families in the odd half; the standard pool: the even half
  # of every family, held-out ones and everyday questions included.
  assert np.array_equal(trait, training & odd)
  assert np.array_equal(w > 0, trait | ~odd)
  assert w[trait].sum() == pytest.approx(0.05) and w[~trait].sum() == pytest.approx(0.95)
  standard_families = set(family[(gi == 1) & (w > 0)].tolist())
  assert standard_families == set(range(len(schema.Family)))
  for f in schema.HELDOUT_FAMILIES:
    assert w[trait & (family == f)].sum() == 0.0
  w, gi, _ = mixture_weights(split, families=("invalid_pushback",), domains=("health",))
  chosen = (family == schema.Family.INVALID_PUSHBACK) & (split["domain"] == 0)
  assert np.array_equal(w > 0, chosen)
  with pytest.raises(ValueError, match="unknown family 'nope'; known: fabricated_citation"):
    mixture_weights(split, families=("nope",))
  with pytest.raises(ValueError, match="held out of all trait data; allowed: uncertain_evidence"):
    mixture_weights(split, families=("identity_pair",), trait_fraction=0.05)


def test_sampling_follows_weights_and_params_never_recompile(split):
  env = ConversationEnv(split)
  reset = jax.jit(jax.vmap(chex.assert_max_traces(env.reset, n=1), in_axes=(0, None)))
  keys = jax.random.split(jax.random.PRNGKey(0), 2000)
  for frac in (0.1, 0.7):
    w, gi, _ = mixture_weights(split, trait_fraction=frac)
    params = env.make_params(weights=w, grader_index=np.minimum(gi, 0))
    _, state = reset(keys, params)
    share = (gi[np.asarray(state.index)] == 0).mean()
    assert abs(share - frac) < 0.04, (frac, share)


def test_bad_params_are_clear_errors(split):
  env = ConversationEnv(split, max_turns_capacity=2)
  with pytest.raises(ValueError, match="max_turns_capacity=2"):
    env.make_params(max_turns=3)
  with pytest.raises(ValueError, match="grader_index"):
    env.make_params(grader_index=np.full(env.num_scenarios, 5))


def test_persona_augmentation_draws_training_adversarial_personas(split):
  """persona_prob = 1: every episode starts with a row of the table in the slot; 0: none."""
  env = ConversationEnv(split)
  table = personas.TRAIN_ADVERSARIAL_PERSONAS
  lo, hi = schema.PERSONA_SLOT
  keys = jax.random.split(jax.random.PRNGKey(3), 256)
  reset = jax.jit(jax.vmap(env.reset, in_axes=(0, None)))
  on = env.make_params(persona_table=table, persona_prob=1.0)
  obs, state = reset(keys, on)
  slots = {tuple(r) for r in np.asarray(obs[:, lo:hi])}
  assert slots == {tuple(r) for r in table}  # Every row drawn, nothing else.
  np.testing.assert_array_equal(obs, state.tokens)
  off = env.make_params(persona_table=table, persona_prob=0.0)
  obs0, _ = reset(keys, off)
  contexts = split["context"][np.asarray(_index(reset, keys, off))]
  np.testing.assert_array_equal(obs0[:, : schema.CONTEXT_LEN], contexts)
  half = env.make_params(persona_table=table, persona_prob=0.5)
  obs_half, _ = reset(keys, half)
  changed = np.any(np.asarray(obs_half[:, lo:hi]) != np.asarray(obs0[:, lo:hi]), axis=1)
  assert 0.35 < changed.mean() < 0.65


def _index(reset, keys, params):
  return reset(keys, params)[1].index


def _env_tokens_by_hand(action):  # Last action EOT, tokens through the first EOT, PAD after.
  action = jnp.asarray(action, jnp.int32).at[-1].set(A.EOT)
  is_eot = action == A.EOT
  after = (jnp.cumsum(is_eot) - is_eot) > 0
  return jnp.where(after, vocab.PAD, vocab.RESPONSE_OFFSET + action)


def _masked_tokens_by_hand(actions):  # Tokens through the first EOT, 0 (PAD) after.
  is_eot = actions == A.EOT
  after = (jnp.cumsum(is_eot, -1) - is_eot) > 0
  return jnp.where(after, 0, vocab.RESPONSE_OFFSET + actions)


def random_actions(seed, shape=(512, 8)):
  """Random replies: EOT first, in the middle, at the end, twice, or never."""
  rng = np.random.default_rng(seed)
  actions = rng.integers(1, vocab.NUM_ACTIONS, shape)
  eot = rng.random(shape) < 0.2
  actions[eot] = A.EOT
  actions[:8] = A.EOT  # An empty reply, among others.
  actions[8:16] = rng.integers(1, vocab.NUM_ACTIONS, (8, shape[-1]))  # No EOT at all.
  return actions.astype(np.int32)


@pytest.mark.parametrize("seed", [0, 1])
def test_reply_tokens_equals_conversions_by_hand(seed):
  actions = random_actions(seed)
  tokens = np.asarray(reply_tokens(actions))
  np.testing.assert_array_equal(tokens, _masked_tokens_by_hand(jnp.asarray(actions)))
  env = ConversationEnv(
    {k: np.zeros((1,) + f.shape, f.dtype) for k, f in schema.FIELDS.items()}, response_len=8
  )
  np.testing.assert_array_equal(
    jax.vmap(env.response_tokens)(actions), jax.vmap(_env_tokens_by_hand)(actions)
  )
  # The plain offset (a + RESPONSE_OFFSET, no PAD) agrees through the first EOT, the only
  # part any reader of a reply reads.
  through_eot = (np.cumsum(actions == A.EOT, -1) - (actions == A.EOT)) == 0
  np.testing.assert_array_equal(tokens[through_eot], actions[through_eot] + vocab.RESPONSE_OFFSET)
  assert np.all(tokens[~through_eot] == vocab.PAD)
  # Shapes: any leading axes.
  np.testing.assert_array_equal(reply_tokens(actions.reshape(8, 64, 8)), tokens.reshape(8, 64, 8))


@pytest.mark.parametrize("grader", ["rubric", "standard", "helpfulness", "eval/honesty"])
def test_graders_read_replies_only_through_the_first_eot(split, grader):
  """Tokens after the first EOT change no grade or response class."""
  actions = random_actions(2, (len(split["context"]), 8))
  scen = {k: jnp.asarray(v) for k, v in split.items()}
  fn = jax.vmap(GRADERS.get(grader))
  np.testing.assert_array_equal(
    fn(reply_tokens(actions), scen), fn(jnp.asarray(actions) + vocab.RESPONSE_OFFSET, scen)
  )
  classify = jax.vmap(user_model.classify_response)
  np.testing.assert_array_equal(
    classify(reply_tokens(actions), scen),
    classify(jnp.asarray(actions) + vocab.RESPONSE_OFFSET, scen),
  )
