"""Negative-control rewards: shuffled rubrics (with their hidden facts) and random signs."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from alignment_rl import rubrics  # noqa: F401  (registers graders)
from alignment_rl.data import SMALL, generate_split
from alignment_rl.envs.conversations import controls
from alignment_rl.envs.conversations.mixture import make_conversation_env, mixture_weights
from alignment_rl.language import schema
from alignment_rl.registry import GRADERS


@pytest.fixture(scope="module")
def split():
  return generate_split(SMALL, "train")


def _pool(split):
  w, gi, _ = mixture_weights(split, trait_fraction=0.05)
  return (gi == 0) & (w > 0)


def test_none_is_the_identity(split):
  out, user_row = controls.apply_control(split, _pool(split), "none")
  assert out is split
  np.testing.assert_array_equal(user_row, np.arange(len(split["context"])))


@pytest.mark.parametrize("control", ["shuffle_within_family", "shuffle_across_families"])
def test_shuffles_move_rubric_and_latents_together_inside_the_pool(split, control):
  pool = _pool(split)
  out, user_row = controls.apply_control(split, pool, control, seed=3)
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
  # The user model's row of i holds i's own latents (the inverse permutation).
  for k in controls.GRADED_FIELDS:
    np.testing.assert_array_equal(out[k][user_row], split[k])


def test_shuffle_is_deterministic_and_seeded(split):
  pool = _pool(split)
  a, _ = controls.apply_control(split, pool, "shuffle_across_families", seed=0)
  b, _ = controls.apply_control(split, pool, "shuffle_across_families", seed=0)
  c, _ = controls.apply_control(split, pool, "shuffle_across_families", seed=1)
  np.testing.assert_array_equal(a["true_answer"], b["true_answer"])
  assert not np.array_equal(a["true_answer"], c["true_answer"])


def test_random_sign_keeps_sizes_and_flips_about_half(split):
  pool = _pool(split)
  out, user_row = controls.apply_control(split, pool, "random_sign", seed=0)
  np.testing.assert_array_equal(user_row, np.arange(len(pool)))
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
    out, _ = controls.apply_control(split, pool, control)
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
  other = make_conversation_env(
    data_config="small",
    trait_fraction=0.05,
    rubric_control="shuffle_across_families",
    rubric_control_seed=1,
  ).default_params.scenarios
  assert not np.array_equal(np.asarray(other["true_answer"]), np.asarray(a["true_answer"]))
  with pytest.raises(ValueError, match="unknown rubric_control 'nope'; known: none, shuffle"):
    make_conversation_env(data_config="small", rubric_control="nope")
  assert schema.FIELDS["crit_points"].group == "rubric"


def _still_optimal_share(split, out, rows, grade):
  """Share of `rows` whose own oracle reply (test oracle: meets every positive
  criterion) scores at least the controlled row's oracle reply under the control."""
  from rubric_oracle import oracle_response

  own = np.stack([oracle_response({k: v[i] for k, v in split.items()}) for i in rows])
  best = np.stack([oracle_response({k: v[i] for k, v in out.items()}) for i in rows])
  view = {k: v[rows] for k, v in out.items()}
  return float(np.mean(np.asarray(grade(own, view)) >= np.asarray(grade(best, view)) - 1e-6))


def test_shuffles_hand_no_row_its_own_behaviour(split):
  """Derangement over behaviour classes: hardly any pooled row is graded by a rubric
  whose best reply is its own; a plain random permutation within families leaves many
  (the reason the classes exist)."""
  import sys
  from pathlib import Path

  sys.path.insert(0, str(Path(__file__).parents[1] / "rubrics"))
  pool = _pool(split)
  rows = np.flatnonzero(pool)
  grade = jax.jit(jax.vmap(GRADERS.get("rubric")))
  classes = controls.behaviour_classes(split)
  for control in ("shuffle_within_family", "shuffle_across_families"):
    out, user_row = controls.apply_control(split, pool, control, seed=0)
    source = user_row.argsort()  # controlled row j came from split row source[j]
    same_class = np.mean(classes[source[rows]] == classes[rows])
    assert same_class < 0.02, (control, same_class)
    assert _still_optimal_share(split, out, rows, grade) < 0.10, control
  # The same rows under a plain within-family permutation (no classes).
  rng, plain = np.random.default_rng(0), dict(split)
  perm = np.arange(len(pool))
  for f in np.unique(split["family"][pool]):
    r = np.flatnonzero(pool & (split["family"] == f))
    perm[r] = rng.permutation(r)
  for k in controls.GRADED_FIELDS:
    plain[k] = split[k][perm]
  assert _still_optimal_share(split, plain, rows, grade) > 0.15


def test_user_model_follows_the_conversation_not_the_moved_facts():
  """Under a shuffle, the follow-up a reply earns is the one the trait arm's env gives
  for the same scenario and reply; the reward is not."""
  plain = make_conversation_env(data_config="small", trait_fraction=0.5, max_turns_capacity=3)
  env = make_conversation_env(
    data_config="small",
    trait_fraction=0.5,
    max_turns_capacity=3,
    rubric_control="shuffle_within_family",
  )
  p0 = plain.default_params.replace(max_turns=2, min_turns=2)
  p1 = env.default_params.replace(max_turns=2, min_turns=2)
  moved = np.flatnonzero(np.asarray(p1.user_row) != np.arange(env.num_scenarios))
  assert len(moved) > 10
  key = jax.random.PRNGKey(0)
  replies = jax.random.randint(key, (len(moved), env.response_len), 0, env.num_actions)

  def step(e, params, i, a):
    _, s = e.reset_to(i, params)
    obs, _, _, _, info = e.step_env(key, s, a, params)
    return obs, info["grade"], info["response_class"]

  run = jax.jit(jax.vmap(step, in_axes=(None, None, 0, 0)), static_argnums=0)
  obs0, r0, c0 = run(plain, p0, jnp.asarray(moved), replies)
  obs1, r1, c1 = run(env, p1, jnp.asarray(moved), replies)
  np.testing.assert_array_equal(np.asarray(c1), np.asarray(c0))
  np.testing.assert_array_equal(np.asarray(obs1), np.asarray(obs0))
  assert np.mean(np.asarray(r1) != np.asarray(r0)) > 0.3
