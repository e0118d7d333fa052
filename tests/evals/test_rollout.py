"""Multi-turn rollouts: grades, response classes and follow-ups match the environment."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from alignment_rl.data import SMALL, generate_split
from alignment_rl.envs.conversations import prior, user_model
from alignment_rl.envs.conversations.env import ConversationEnv
from alignment_rl.envs.conversations.rollout import batch_params, prior_policy, rollout, world
from alignment_rl.evals.policy_grades import grade_policy
from alignment_rl.evals.rollout import policy_input_len, rollout_turns
from alignment_rl.language import personas, schema, vocab
from alignment_rl.language.tokens import reply_tokens
from alignment_rl.networks.response_policy import ResponseActorCritic
from alignment_rl.registry import GRADERS

A = vocab.Action
R = 8
GRADERS_USED = ("rubric", "eval/pushback_truth", "eval/honesty")


class TablePolicy(nn.Module):
  """Emits row (EOT tokens in the context + bias) % 3 of its `table` param [3, R].

  Table and bias are params, so every use of the stub shares one compiled rollout.
  """

  max_response_len: int = R
  eot_action: int = 0

  @nn.compact
  def sample(self, context, key, temperature=1.0):
    table = self.param("table", nn.initializers.zeros, (3, R), jnp.int32)
    bias = self.param("bias", nn.initializers.zeros, (), jnp.int32)
    actions = table[(jnp.sum(context == vocab.EOT, axis=-1) + bias) % 3]
    zeros = jnp.zeros(actions.shape, jnp.float32)
    return actions, zeros, jnp.ones_like(zeros), jnp.zeros(context.shape[:-1])


def stub_params(responses, biases=(0,)):
  """Params of `TablePolicy` for each bias (seed axis); responses cycle to 3 rows."""
  rows = [tuple(responses[i % len(responses)]) for i in range(3)]
  table = np.array([r + (A.EOT,) * (R - len(r)) for r in rows], np.int32)
  s = len(biases)
  return {
    "params": {
      "table": jnp.asarray(np.broadcast_to(table, (s, 3, R))),
      "bias": jnp.asarray(biases, jnp.int32),
    }
  }


@pytest.fixture(scope="module")
def split():
  return generate_split(SMALL, "test")


def tiny_network(**kw):
  kw = {"encoder": "bag_of_tokens", "d_model": 16, "max_len": 128, **kw}
  return ResponseActorCritic(len(A), vocab.VOCAB_SIZE, max_response_len=R, eot_action=0, **kw)


def init_params(net, seeds=2, max_len=64):
  ctx, act = jnp.zeros((1, max_len), jnp.int32), jnp.zeros((1, R), jnp.int32)
  init = jax.jit(net.init)
  per_seed = [init(jax.random.PRNGKey(s), ctx, act) for s in range(seeds)]
  return jax.tree.map(lambda *x: jnp.stack(x), *per_seed)


def manual_rollout(split, net, params, turns, pressure_start=0, persona=None):
  """Steps a `ConversationEnv` over the whole split by hand, one seed at a time."""
  env = ConversationEnv(split, GRADERS_USED, R, turns)
  ep = env.make_params(
    min_turns=turns, max_turns=turns, pressure_start=pressure_start, persona=persona
  )
  n, scen, key = env.num_scenarios, ep.scenarios, jax.random.PRNGKey(0)

  @jax.jit
  def turn(p, obs, state):
    actions = net.apply(p, obs, key, 1.0, method="sample")[0]
    resp = jax.vmap(env.response_tokens)(actions)
    graded = {g: jax.vmap(GRADERS.get(g))(resp, scen) for g in GRADERS_USED}
    graded["cls"] = jax.vmap(user_model.classify_response)(resp, scen)
    obs, state, _, _, _ = jax.vmap(env.step_env, in_axes=(None, 0, 0, None))(
      key, state, actions, ep
    )
    return obs, state, graded

  out = {g: [] for g in GRADERS_USED} | {"cls": [], "tokens": []}
  for s in range(jax.tree.leaves(params)[0].shape[0]):
    p = jax.tree.map(lambda x, s=s: x[s], params)
    obs, state = jax.vmap(env.reset_to, in_axes=(0, None))(jnp.arange(n), ep)
    per_turn = []
    for _ in range(turns):
      obs, state, graded = turn(p, obs, state)
      per_turn.append(graded)
    for k in per_turn[0]:
      out[k].append(np.stack([np.asarray(g[k]) for g in per_turn], axis=-1))
    out["tokens"].append(np.asarray(obs))
  return {k: np.stack(v) for k, v in out.items()}


def test_context_dependent_stub_matches_stepping_the_env_by_hand(split):
  net = TablePolicy()
  responses = ((A.ANS_1, A.CERTAIN), (A.AGREE_USER, A.CITE_INVENTED), (A.REFUSE,))
  params = stub_params(responses, biases=(0, 1))  # Seeds answer differently.
  persona = personas.EVAL_HARMFUL_PERSONAS[0]
  out = rollout_turns(
    net,
    params,
    split,
    4,
    jax.random.PRNGKey(1),
    GRADERS_USED,
    pressure_start=1,
    persona=persona,
    batch_size=96,
    transcripts=True,
  )
  ref = manual_rollout(split, net, params, 4, pressure_start=1, persona=persona)
  n = len(split["context"])
  for g in GRADERS_USED:
    assert out[g].shape == (2, n, 4) and out[g].dtype == np.float32
    np.testing.assert_allclose(out[g], ref[g], rtol=0, atol=1e-6)
  np.testing.assert_array_equal(out["response_class"], ref["cls"])
  np.testing.assert_array_equal(out["tokens"], ref["tokens"])
  assert len(np.unique(out["response_class"])) >= 3  # The stub really varies by turn.
  assert not np.array_equal(out["rubric"][0], out["rubric"][1])  # ... and by seed.
  lo, hi = schema.PERSONA_SLOT
  np.testing.assert_array_equal(out["tokens"][:, :, lo:hi], np.broadcast_to(persona, (2, n, 6)))
  pushback = jax.vmap(GRADERS.get("eval/pushback_truth").applies)(split)
  np.testing.assert_array_equal(out["eval/pushback_truth/applies"], np.asarray(pushback))
  assert 0 < np.asarray(pushback).sum() < n  # Applies to a real subset of the split.


@pytest.mark.parametrize("response", [(A.ANS_2, A.UNSURE), (A.DISAGREE_POLITELY,)])
@pytest.mark.parametrize("pressure_start", [0, 2])
def test_fixed_response_grades_and_follow_ups_follow_the_table(split, response, pressure_start):
  turns = 4
  out = rollout_turns(
    TablePolicy(),
    stub_params((response,), biases=(0, 0)),
    split,
    turns,
    jax.random.PRNGKey(0),
    GRADERS_USED,
    pressure_start=pressure_start,
    batch_size=96,
    transcripts=True,
  )
  resp = np.array([vocab.action_token(a) for a in response] + [vocab.EOT])
  padded = np.concatenate([resp, np.full(R - len(resp), vocab.PAD)])
  scen = {k: jnp.asarray(v) for k, v in split.items()}
  grade = np.asarray(jax.vmap(GRADERS.get("rubric"), in_axes=(None, 0))(padded, scen))
  cls = np.asarray(jax.vmap(user_model.classify_response, in_axes=(None, 0))(padded, scen))
  np.testing.assert_allclose(out["rubric"][0], np.repeat(grade[:, None], turns, 1), atol=1e-6)
  np.testing.assert_array_equal(out["response_class"][0], np.repeat(cls[:, None], turns, 1))
  tokens = out["tokens"][0]
  for i in range(len(split["context"])):
    pos = int(split["context_len"][i])
    np.testing.assert_array_equal(tokens[i, :pos], split["context"][i, :pos])
    for t in range(turns):
      np.testing.assert_array_equal(tokens[i, pos : pos + len(resp)], resp)
      pos += len(resp)
      if t < turns - 1:
        level = min(pressure_start + t, int(schema.Pressure.THREAT))
        fl = int(split["followup_len"][i, cls[i], level])
        np.testing.assert_array_equal(
          tokens[i, pos : pos + fl], split["followups"][i, cls[i], level, :fl]
        )
        pos += fl
    assert np.all(tokens[i, pos:] == vocab.PAD)


@pytest.fixture(scope="module")
def tiny():
  net = tiny_network()
  return net, init_params(net)


def test_turn_one_equals_grade_policy_when_greedy(split, tiny):
  net, params = tiny

  def sharpen(path, x):  # Large logit gaps: greedy sampling is then exactly argmax.
    return x * 1e4 if "policy_out" in jax.tree_util.keystr(path) else x

  params = jax.tree_util.tree_map_with_path(sharpen, params)
  graders = ("rubric", "eval/pushback_truth")
  out = rollout_turns(
    net, params, split, 2, jax.random.PRNGKey(3), graders, greedy=True, batch_size=100
  )  # 260 scenarios: 3 batches, the last one padded.
  single = grade_policy(net, params, split, graders, jax.random.PRNGKey(9), greedy=True)
  for g in graders:
    np.testing.assert_array_equal(out[g][:, :, 0], single[g])
    np.testing.assert_array_equal(out[g + "/applies"], single[g + "/applies"])
  assert np.std(out["rubric"][:, :, 0]) > 0  # Not a constant policy.


def test_sampling_is_deterministic_for_a_key(split, tiny):
  net, params = tiny
  graders = ("rubric", "eval/pushback_truth")
  a, b, c = (
    rollout_turns(net, params, split, 2, jax.random.PRNGKey(k), graders, batch_size=100)
    for k in (5, 5, 6)
  )
  np.testing.assert_array_equal(a["response_class"], b["response_class"])
  np.testing.assert_array_equal(a["rubric"], b["rubric"])
  assert not np.array_equal(a["rubric"], c["rubric"])


def test_transformer_input_length_is_checked(split):
  need = policy_input_len(2, R)
  assert need == schema.CONTEXT_LEN + R + schema.FOLLOWUP_LEN
  net = tiny_network(encoder="transformer", max_len=need, num_heads=2, num_layers=1)
  with pytest.raises(ValueError, match=f"max_len={need}; build the network with max_len >= "):
    rollout_turns(net, None, split, 3, jax.random.PRNGKey(0))
  small = jax.tree.map(lambda x: x[:16], split)
  params = init_params(net, max_len=need)
  out = rollout_turns(net, params, small, 2, jax.random.PRNGKey(0), ("rubric",))  # Exactly fits.
  assert out["rubric"].shape == (2, 16, 2) and np.all(np.isfinite(out["rubric"]))


def test_grade_policy_equals_sampling_and_grading_directly(split, tiny):
  """`grade_policy` is a one-turn rollout: the same replies and grades, bit for bit, as
  sampling each seed's replies to the contexts and grading them directly."""
  net, params = tiny
  graders = ("rubric", "standard", "eval/honesty")
  context = np.asarray(split["context"]).copy()
  lo, hi = schema.PERSONA_SLOT
  context[:, lo:hi] = personas.EVAL_HARMFUL_PERSONAS[0]
  got = grade_policy(net, params, split, graders, jax.random.PRNGKey(4), 128, False, context)
  key, n = jax.random.PRNGKey(4), len(context)
  data = {k: np.asarray(split[k]) for k, f in schema.FIELDS.items() if f.group != "metadata"}
  data["context"] = context

  @jax.jit
  def direct(batch, k):
    def one_seed(p, k):
      actions = net.apply(p, batch["context"], k, 1.0, method=ResponseActorCritic.sample)[0]
      tokens = reply_tokens(actions)
      return jnp.stack([jax.vmap(GRADERS.get(g))(tokens, batch) for g in graders])

    return jax.vmap(one_seed)(params, jax.random.split(k, 2))

  parts = []
  for start in range(0, n, 128):
    idx = np.arange(start, start + 128) % n
    key, sub = jax.random.split(key)
    grades = direct({k: jnp.asarray(v[idx]) for k, v in data.items()}, sub)
    parts.append(np.asarray(grades)[..., : min(128, n - start)])
  want = np.concatenate(parts, axis=-1)
  for j, g in enumerate(graders):
    np.testing.assert_array_equal(got[g], want[:, j])


def test_prior_policy_rollout_is_the_prior(split):
  """A rollout of `prior_policy` draws `prior_response_and_mode` with `split(key, B)`;
  its replies, response classes and rendered conversation are the env's."""
  batch = {k: jnp.asarray(v[:40]) for k, v in split.items()}
  env, params = world(R, 2), batch_params(batch, 2, pressure_start=1)
  keys = jax.random.split(jax.random.PRNGKey(3), 2)
  graders = (GRADERS.get("rubric"),)
  out = jax.jit(lambda b, k: rollout(prior_policy(b), env, params, k, graders))(batch, keys)
  actions, modes = jax.vmap(prior.prior_response_and_mode)(jax.random.split(keys[0], 40), batch)
  np.testing.assert_array_equal(out["actions"][0], actions)
  np.testing.assert_array_equal(out["aux"][0], modes)
  np.testing.assert_array_equal(out["replies"], reply_tokens(out["actions"]))
  cls = jax.vmap(jax.vmap(user_model.classify_response), in_axes=(0, None))(out["replies"], batch)
  np.testing.assert_array_equal(out["response_class"], cls)
  grade = jax.vmap(jax.vmap(graders[0]), in_axes=(0, None))(out["replies"], batch)
  np.testing.assert_array_equal(out["grades"][:, 0], grade)
  assert out["tokens"].shape == (40, env.obs_len)
  for i in range(40):
    n_ctx, n_resp = int(batch["context_len"][i]), int(np.sum(out["replies"][0, i] != vocab.PAD))
    np.testing.assert_array_equal(
      out["tokens"][i, n_ctx : n_ctx + n_resp], out["replies"][0, i, :n_resp]
    )
