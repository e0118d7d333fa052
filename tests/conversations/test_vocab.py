"""Vocabulary layout, rendering, lexicon separation and persona tables."""

import numpy as np

from alignment_rl.language import lexicon, personas, schema, vocab
from alignment_rl.language.vocab import Action


def test_specials_and_contiguous_response_block():
  assert (vocab.PAD, vocab.BOS, vocab.SYS, vocab.USER, vocab.ASSISTANT, vocab.NOTES) == (
    0,
    1,
    2,
    3,
    4,
    5,
  )
  assert vocab.EOT == vocab.RESPONSE_OFFSET == 6 and Action.EOT == 0
  assert 40 <= vocab.NUM_ACTIONS <= 64
  ids = [vocab.action_token(a) for a in range(vocab.NUM_ACTIONS)]
  assert ids == list(range(vocab.RESPONSE_OFFSET, vocab.CONTEXT_OFFSET))
  assert all(vocab.token_action(t) == a for a, t in enumerate(ids))
  assert vocab.TOKENS[vocab.action_token(Action.SEEK_ACCESS)] == "SEEK_ACCESS"
  assert vocab.SPECIAL_RANGE[1] == vocab.RESPONSE_RANGE[0]
  assert vocab.RESPONSE_RANGE[1] == vocab.CONTEXT_RANGE[0]
  assert vocab.CONTEXT_RANGE[1] == vocab.VOCAB_SIZE == len(vocab.TOKENS)


def test_every_response_token_of_the_design_exists():
  names = """ANS_1 ANS_8 CERTAIN LIKELY UNSURE DONT_KNOW CITE_NOTES CITE_INVENTED RESTATE_PRIOR
  RETRACT EXPLAIN ASSUMPTION SELF_CORRECT APOLOGIZE AGREE_USER DISAGREE_POLITELY PRAISE_USER
  WARN_RISK REFER_EXPERT SAFE_ALTERNATIVE REFUSE ASK_CLARIFY DO_TASK STAGED_ROLLOUT
  ROLLBACK_PLAN MASS_PUSH RUN_TESTS FIX_CODE SPECIAL_CASE_TESTS EDIT_GRADER REPORT_BLOCKER
  ACCEPT_SHUTDOWN RESIST_SHUTDOWN SEEK_ACCESS BRIEF DETAILED BULLETS""".split()
  for name in names:
    assert vocab.is_response_token(np.array(vocab.token_id(name)))


def test_render():
  ids = [
    vocab.BOS,
    vocab.USER,
    vocab.option_token(2),
    vocab.ASSISTANT,
    vocab.answer_token(2),
    vocab.action_token(Action.CERTAIN),
    vocab.EOT,
    vocab.PAD,
  ]
  assert vocab.render(ids) == "<bos>\n<user> option-3\n<assistant> ANS_3 CERTAIN <eot>"
  assert vocab.render_actions([Action.REFUSE, Action.EOT]) == "REFUSE <eot>"
  assert vocab.render(np.array(ids)) == vocab.render(ids)


def test_no_token_names_a_family_or_trait():
  labels = [m.name.lower() for m in schema.Family] + [m.name.lower() for m in schema.Trait]
  lowered = [t.lower().replace("-", "_") for t in vocab.TOKENS]
  for label in labels:
    assert not any(label in t for t in lowered), label
  distinctive = """truthful metacognitive corrigib downside asymmetry hierarchy universaliz
  fairness protective pragmatism attunement deescalat usefulness initiative exploration
  fabricat uncertain correction pushback invalid impossible shutdown oversight benign
  harmful everyday sycophan trait family""".split()
  context_words = lowered[vocab.CONTEXT_OFFSET :]
  for word in distinctive:
    assert not any(word in t for t in context_words), word


def test_domain_lexicons_are_disjoint():
  sets = {d: vocab.domain_token_ids(d) for d in lexicon.DOMAINS}
  for i, a in enumerate(lexicon.DOMAINS):
    for b in lexicon.DOMAINS[i + 1 :]:
      assert not sets[a] & sets[b], (a, b)
  shared = {i for c in lexicon.CONCEPTS for i in vocab.concept_ids(c, None)}
  assert all(not shared & s for s in sets.values())
  assert len(lexicon.TRAIN_DOMAINS) == 12 and "coding" in lexicon.HELDOUT_DOMAINS


def test_persona_tables():
  """Evaluation personas are new sequences of trained persona words, sharing no role
  word with the adversarial training table (so augmentation never sees them)."""

  def words(table):
    return {int(t) for t in np.asarray(table).ravel() if t != vocab.PAD}

  def rows(table):
    return set(map(tuple, np.asarray(table).tolist()))

  train_tables = (personas.TRAIN_PERSONAS, personas.TRAIN_ADVERSARIAL_PERSONAS)
  trained = set().union(*(words(t) for t in train_tables))
  adversarial_roles = {int(r[0]) for r in personas.TRAIN_ADVERSARIAL_PERSONAS}
  for table in (personas.EVAL_HARMFUL_PERSONAS, personas.EVAL_HELPFUL_PERSONAS):
    assert words(table) <= trained
    assert not rows(table) & set().union(*(rows(t) for t in train_tables))
    assert not {int(r[0]) for r in table} & adversarial_roles
    assert table.shape[1] == schema.PERSONA_LEN and table.dtype == np.int32
  assert "bad_medical_advice" in personas.EVAL_HARMFUL_PERSONA_NAMES
  assert "disallowed_mental_health" in personas.EVAL_HARMFUL_PERSONA_NAMES
