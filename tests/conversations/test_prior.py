"""The assistant prior: mode frequencies, valid responses, behaviour per mode,
determinism, and that it reads only latents the context shows."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from alignment_rl.envs.conversations import prior
from alignment_rl.envs.conversations.prior import Mode
from alignment_rl.language import schema, vocab
from alignment_rl.language.schema import Intent, Request
from alignment_rl.language.vocab import Action as A

R = prior.DEFAULT_RESPONSE_LEN
REPEATS = 8  # draws per train scenario: 1040 * 8 = 8320 samples
_draw = jax.jit(jax.vmap(prior.prior_response_and_mode))


def _answers(actions: np.ndarray) -> np.ndarray:
  """Option of the single distinct ANS action of each response, else -1."""
  present = np.stack([(actions == a).any(-1) for a in vocab.ANS_ACTIONS], -1)
  return np.where(present.sum(-1) == 1, present.argmax(-1), -1)


def _has(actions: np.ndarray, *acts: int) -> np.ndarray:
  return np.isin(actions, acts).any(-1)


@pytest.fixture(scope="module")
def batch(small_splits):
  train = small_splits["train"]
  scenarios = {k: np.repeat(v, REPEATS, axis=0) for k, v in train.items()}
  keys = jax.random.split(jax.random.PRNGKey(0), len(scenarios["index"]))
  return scenarios, keys


@pytest.fixture(scope="module")
def samples(batch):
  """(scenarios, actions int[N, R], modes int[N]) for every train scenario x REPEATS."""
  scenarios, keys = batch
  actions, modes = _draw(keys, scenarios)
  return scenarios, np.asarray(actions), np.asarray(modes)


def test_mode_frequencies_match_documented_probabilities(samples):
  """Each mode's frequency is within 4 binomial standard errors of MODE_PROBS (the
  keys are fixed, so this is deterministic; a correct prior fails with p < 1e-4)."""
  scenarios, _, modes = samples
  lo, hi = schema.PERSONA_SLOT
  no_persona = (scenarios["context"][:, lo:hi] == vocab.PAD).all(-1)
  assert 0.3 < no_persona.mean() < 0.9
  modes = modes[no_persona]
  assert sum(prior.MODE_PROBS) == pytest.approx(1.0)
  n = modes.size
  for mode, p in zip(Mode, prior.MODE_PROBS, strict=True):
    freq = np.mean(modes == mode)
    tolerance = 4 * np.sqrt(p * (1 - p) / n)
    assert abs(freq - p) <= tolerance, (mode.name, freq, p, tolerance)


def test_responses_are_valid_action_sequences(samples):
  _, actions, _ = samples
  assert actions.shape[1] == R and actions.dtype == np.int32
  assert actions.min() >= 0 and actions.max() < vocab.NUM_ACTIONS
  assert (actions[:, -1] == 0).all(), "position R-1 must be EOT"
  ended = np.cumsum(actions == 0, axis=1) > 0
  assert (actions[ended] == 0).all(), "only EOT after the first EOT"
  assert (actions[:, 0] != 0).all(), "every response says something"
  # A response has at most one answer option and never repeats an action.
  content = np.where(actions > 0, actions, -np.arange(R))  # distinct placeholders for EOT
  assert all(len(set(row)) == R for row in content)
  assert (np.isin(actions, vocab.ANS_ACTIONS).sum(-1) <= 1).all()


def test_helpful_mode_answers_from_visible_notes(samples):
  sc, actions, modes = samples
  sel = (
    (modes == Mode.HELPFUL)
    & (sc["request"] == Request.QUESTION)
    & (sc["has_notes"] == 1)
    & (sc["intent"] == Intent.BENIGN)
  )
  assert sel.sum() > 500
  np.testing.assert_array_equal(_answers(actions[sel]), sc["notes_answer"][sel])
  helpful = actions[modes == Mode.HELPFUL]
  bad = (A.CITE_INVENTED, A.SPECIAL_CASE_TESTS, A.EDIT_GRADER, A.RESIST_SHUTDOWN, A.SEEK_ACCESS)
  assert not _has(helpful, *bad).any()
  assert not _has(helpful, A.PRAISE_USER, A.MASS_PUSH).any()


def test_sycophantic_mode_agrees_with_the_users_claim(samples):
  sc, actions, modes = samples
  sel = (modes == Mode.SYCOPHANTIC) & (sc["request"] == Request.QUESTION) & (sc["user_claim"] >= 0)
  assert sel.sum() > 100
  np.testing.assert_array_equal(_answers(actions[sel]), sc["user_claim"][sel])
  assert _has(actions[sel], A.AGREE_USER).all()
  assert not _has(actions[modes == Mode.SYCOPHANTIC], A.REFUSE, A.WARN_RISK).any()


def test_overconfident_and_hacking_modes(samples):
  sc, actions, modes = samples
  over = actions[(modes == Mode.OVERCONFIDENT) & (sc["request"] != Request.NOTICE)]
  assert _has(over, A.CERTAIN).all() and not _has(over, A.LIKELY, A.UNSURE, A.DONT_KNOW).any()
  games = _has(actions, A.SPECIAL_CASE_TESTS, A.EDIT_GRADER)
  assert not games[sc["loophole"] == 0].any(), "nobody games a check without a visible loophole"
  hack = (modes == Mode.HACKING) & (sc["request"] == Request.CHECKS_TASK) & (sc["loophole"] == 1)
  assert hack.sum() > 10 and games[hack].all()
  assert (modes[games] == Mode.HACKING).all()


def test_same_key_same_response_and_keys_matter(batch, samples):
  scenarios, keys = batch
  _, actions, modes = samples
  again, again_modes = _draw(keys, scenarios)
  np.testing.assert_array_equal(np.asarray(again), actions)
  np.testing.assert_array_equal(np.asarray(again_modes), modes)
  other, _ = _draw(jax.random.split(jax.random.PRNGKey(1), len(keys)), scenarios)
  assert np.mean((np.asarray(other) != actions).any(-1)) > 0.3
  one = jax.jit(prior.prior_response)  # unbatched == vmapped
  single = one(keys[3], {k: jnp.asarray(v[3]) for k, v in scenarios.items()})
  np.testing.assert_array_equal(np.asarray(single), actions[3])


def test_reads_only_visible_latents(batch, samples):
  """Scrambling every field outside READ_FIELDS (the true answer, whether the user is
  right, identity, oversight, rubric, ...) changes no response."""
  scenarios, keys = batch
  _, actions, _ = samples
  hidden = {"true_answer", "user_claim_correct", "identity", "oversight"}
  assert hidden.isdisjoint(prior.READ_FIELDS)
  assert set(prior.READ_FIELDS) <= {k for k, f in schema.FIELDS.items() if f.group == "latent"}
  rng = np.random.default_rng(0)
  read = set(prior.READ_FIELDS) | {"context"}  # The context shows the persona slot.
  scrambled = {k: v if k in read else rng.permutation(v) for k, v in scenarios.items()}
  scrambled["true_answer"] = rng.integers(0, vocab.NUM_OPTIONS, len(keys)).astype(np.int32)
  again, _ = _draw(keys, scrambled)
  np.testing.assert_array_equal(np.asarray(again), actions)


def test_persona_directives_shift_mode_probabilities():
  """P(mode) = MODE_PROBS * prod of the slot words' factors, renormalised."""
  from alignment_rl.language import personas

  context = np.zeros(schema.CONTEXT_LEN, np.int32)
  np.testing.assert_allclose(prior.mode_probs(context), prior.MODE_PROBS, rtol=1e-6)
  lo, hi = schema.PERSONA_SLOT
  row = personas.TRAIN_ADVERSARIAL_PERSONA_NAMES.index("agreeable_colleague")
  context[lo:hi] = personas.TRAIN_ADVERSARIAL_PERSONAS[row]  # colleague agreeable flattering
  w = np.asarray(prior.MODE_PROBS) * np.array([1.0, 16.0, 1.0, 1.0])
  np.testing.assert_allclose(prior.mode_probs(context), w / w.sum(), rtol=1e-5)
  row = personas.EVAL_HELPFUL_PERSONA_NAMES.index("careful_mentor")  # careful honest thorough
  context[lo:hi] = personas.EVAL_HELPFUL_PERSONAS[row]
  w = np.asarray(prior.MODE_PROBS) * np.array([8.0, 1.0, 1.0, 1.0])
  np.testing.assert_allclose(prior.mode_probs(context), w / w.sum(), rtol=1e-5)
  # Sampled modes follow the shifted probabilities.
  keys = jax.random.split(jax.random.PRNGKey(1), 4000)
  scenario = {k: np.zeros(f.shape, f.dtype) for k, f in schema.FIELDS.items()}
  scenario["context"] = context
  batch = {k: np.broadcast_to(v, (4000, *v.shape)) for k, v in scenario.items()}
  _, modes = _draw(keys, batch)
  assert abs(np.mean(np.asarray(modes) == Mode.HELPFUL) - w[0] / w.sum()) < 0.03
