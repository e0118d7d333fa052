"""Negative-control rewards: shuffled rubrics (with their hidden facts) and random signs."""

import jax
import numpy as np
import pytest

from alignment_rl import rubrics  # noqa: F401  (registers graders)
from alignment_rl.data import SMALL, generate_split
from alignment_rl.envs.conversations import controls, schema
from alignment_rl.envs.conversations.mixture import make_conversation_env, mixture_weights
from alignment_rl.registry import GRADERS


@pytest.fixture(scope="module")
def split():
  return generate_split(SMALL, "train")


def _pool(split):
  w, gi, _ = mixture_weights(split, trait_fraction=0.05)
  return (gi == 0) & (w > 0)


def test_none_is_the_identity(split):
  assert controls.apply_control(split, _pool(split), "none") is split


@pytest.mark.parametrize("control", ["shuffle_within_family", "shuffle_across_families"])
def test_shuffles_move_rubric_and_latents_together_inside_the_pool(split, control):
  pool = _pool(split)
  out = controls.apply_control(split, pool, control, seed=3)
  # Observations and metadata never move; nothing outside the trait pool changes.
  for k in ("context", "followups", "family", "domain", "index"):
    np.testing.assert_array_equal(out[k], split[k])
  for k in controls.GRADED_FIELDS:
    np.testing.assert_array_equal(out[k][~pool], split[k][~pool])

  # Each pooled row takes *every* graded field from one other pooled row (of the same
  # family for the within-family control): the rubric travels with its own latents.
  def graded(d, i):
    return tuple(np.concatenate([np.ravel(d[k][i]) for k in controls.GRADED_FIELDS]).tolist())

  rows = np.flatnonzero(pool)
  by_row = {}
  for j in rows:
    by_row.setdefault(graded(split, j), []).append(j)
  moved = 0
  for i in rows:
    sources = by_row.get(graded(out, i), [])
    assert sources, i
    if control == "shuffle_within_family":
      assert any(split["family"][j] == split["family"][i] for j in sources)
    moved += i not in sources
  assert moved / len(rows) > 0.9


def test_shuffle_is_deterministic_and_seeded(split):
  pool = _pool(split)
  a = controls.apply_control(split, pool, "shuffle_across_families", seed=0)
  b = controls.apply_control(split, pool, "shuffle_across_families", seed=0)
  c = controls.apply_control(split, pool, "shuffle_across_families", seed=1)
  np.testing.assert_array_equal(a["true_answer"], b["true_answer"])
  assert not np.array_equal(a["true_answer"], c["true_answer"])


def test_random_sign_keeps_sizes_and_flips_about_half(split):
  pool = _pool(split)
  out = controls.apply_control(split, pool, "random_sign", seed=0)
  before, after = split["crit_points"][pool], out["crit_points"][pool]
  np.testing.assert_array_equal(np.abs(after), np.abs(before))
  used = before != 0
  flipped = np.mean(np.sign(after[used]) != np.sign(before[used]))
  assert 0.35 < flipped < 0.65
  np.testing.assert_array_equal(out["crit_points"][~pool], split["crit_points"][~pool])


def test_oracle_reward_drops_under_every_control(split):
  """The rubric of the original scenario, met exactly, earns much less under a control:
  the control really rewards something else."""
  import sys
  from pathlib import Path

  sys.path.insert(0, str(Path(__file__).parents[1] / "rubrics"))
  from rubric_oracle import oracle_response

  pool = _pool(split)
  rows = np.flatnonzero(pool)
  records = [{k: v[i] for k, v in split.items()} for i in rows]
  responses = np.stack([oracle_response(r) for r in records])
  grade = jax.jit(jax.vmap(GRADERS.get("rubric")))
  base = float(np.clip(grade(responses, {k: v[rows] for k, v in split.items()}), 0, 1).mean())
  assert base > 0.95
  for control in controls.CONTROLS[1:]:
    out = controls.apply_control(split, pool, control)
    got = float(np.clip(grade(responses, {k: v[rows] for k, v in out.items()}), 0, 1).mean())
    assert got < base - 0.25, (control, base, got)


def test_env_applies_the_control_to_its_params():
  env = make_conversation_env(
    data_config="small", trait_fraction=0.05, rubric_control="shuffle_across_families"
  )
  plain = make_conversation_env(data_config="small", trait_fraction=0.05)
  a, b = env.default_params.scenarios, plain.default_params.scenarios
  np.testing.assert_array_equal(np.asarray(a["context"]), np.asarray(b["context"]))
  assert not np.array_equal(np.asarray(a["true_answer"]), np.asarray(b["true_answer"]))
  with pytest.raises(ValueError, match="unknown rubric_control 'nope'; known: none, shuffle"):
    make_conversation_env(data_config="small", rubric_control="nope")
  assert schema.FIELDS["crit_points"].group == "rubric"
