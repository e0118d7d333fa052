"""The gymnax-style API of the gridworlds: registry, options, jit + vmap, spaces,
auto-reset, bookkeeping in `info`, padded and one-hot views, renderers."""

from __future__ import annotations

import importlib

import gridworld_testlib as lib
import jax
import numpy as np
import pytest

from alignment_rl import envs
from alignment_rl.envs.gridworlds import ENV_NAMES, cells, render
from alignment_rl.registry import ENVIRONMENTS, UnknownNameError

# Every level and variant; lava's test levels are a params leaf of one instance.
CONFIGS = [
  *[("safe_interruptibility", {"level": lvl}) for lvl in (0, 1, 2)],
  *[("side_effects_sokoban", {"level": lvl}) for lvl in (0, 1, 2, 3)],
  *[("conveyor_belt", {"level": v}) for v in ("vase", "sushi", "sushi_goal", "sushi_goal2")],
  ("absent_supervisor", {}),
  ("boat_race", {}),
  ("tomato_watering", {}),
  *[("rocks_diamonds", {"level": lvl}) for lvl in (0, 1)],
  ("whisky_gold", {}),
  *[("distributional_shift", {"params_level": lvl}) for lvl in (0, 1, 2, -1)],
  ("island_navigation", {}),
  ("friend_foe", {}),
]


def expected_map(name, env, state_info) -> list[str] | None:
  """The upstream map as the agent first sees it (None where it is drawn at random)."""
  module = importlib.import_module(f"alignment_rl.envs.gridworlds.{name}")
  if name == "distributional_shift":
    return list(module.MAPS[state_info["level"]])
  if name == "absent_supervisor":
    return list(module.MAP_SUPERVISED if state_info["supervisor"] else module.MAP_UNSUPERVISED)
  if name == "friend_foe":
    floor = "FNB"[state_info["bandit_type"]]
    return [r.replace(" ", floor).replace("1", "*").replace("0", "*") for r in module.MAP]
  if name == "conveyor_belt":  # Upstream draws `>` on the belt before its end, blank.
    rows = [list(r) for r in module.MAPS[env.variant]]
    end_row, end_col = env.end
    rows[end_row][1:end_col] = [c if c != " " else ">" for c in rows[end_row][1:end_col]]
    rows[end_row][end_col] = " "
    return ["".join(r) for r in rows]
  maps = getattr(module, "MAPS", None)
  rows = maps[env.level] if maps is not None else module.MAP
  swap = {"side_effects_sokoban": "X", "rocks_diamonds": "R"}.get(name)
  return [r.translate(str.maketrans("123", swap * 3)) if swap else r for r in rows]


def test_registered_names():
  names = {f"gridworlds/{n}" for n in ENV_NAMES}
  assert len(names) == 11
  assert names <= set(envs.names())
  for name in names:
    env, params = envs.make(name)
    assert env.name == name
    assert params.max_steps_in_episode == 100
  with pytest.raises(UnknownNameError, match="known: .*gridworlds/boat_race"):
    envs.make("gridworlds/boat_racing")


def test_clear_errors():
  with pytest.raises(
    ValueError, match=r"side_effects_sokoban: unknown level 7; allowed: 0, 1, 2, 3"
  ):
    envs.make("gridworlds/side_effects_sokoban", level=7)
  with pytest.raises(ValueError, match="unknown level 'teapot'; allowed: 'vase', 'sushi'"):
    envs.make("gridworlds/conveyor_belt", level="teapot")
  with pytest.raises(TypeError, match="unknown option.*'lvl'.*allowed: level, noops"):
    envs.make("gridworlds/boat_race", lvl=1)
  with pytest.raises(ValueError, match="unknown bandit_type 'enemy'"):
    envs.make("gridworlds/friend_foe", bandit_type="enemy")
  with pytest.raises(ValueError, match="is_testing=True"):
    envs.make("gridworlds/distributional_shift", level=1, is_testing=True)


def test_options_reach_params():
  assert envs.make("gridworlds/distributional_shift", is_testing=True)[1].level == -1
  assert envs.make("gridworlds/distributional_shift", level=2)[1].level == 2
  assert envs.make("gridworlds/friend_foe", bandit_type="adversary")[1].bandit_type == 2
  assert envs.make("gridworlds/absent_supervisor", supervisor=True)[1].supervisor_probability == 1
  params = envs.make("gridworlds/safe_interruptibility", interruption_probability=0.25)[1]
  assert params.interruption_probability == 0.25
  env, _ = envs.make("gridworlds/side_effects_sokoban", noops=True)
  assert env.action_space().n == 5
  for name in ENV_NAMES:  # One padded shape and one vocabulary for a multi-env policy.
    space = envs.make(f"gridworlds/{name}", pad=True)[0].observation_space()
    assert space.shape == (10, 10) and space.high == cells.NUM_CODES - 1


@pytest.mark.parametrize(
  "name, kwargs", CONFIGS, ids=[f"{n}-{list(k.values())}" for n, k in CONFIGS]
)
def test_jit_vmap_64_envs_auto_reset(name, kwargs):
  kwargs = dict(kwargs)
  params_level = kwargs.pop("params_level", None)
  env, params = lib.make(name, **kwargs)
  if params_level is not None:
    params = params.replace(level=params_level)
  actions = np.random.default_rng(0).integers(0, env.num_actions, (lib.BATCH, lib.STEPS))
  out = lib.rollout(env, actions, params=params)
  space = env.observation_space()
  assert out["reset_obs"].shape == (lib.BATCH, *space.shape)
  assert out["obs"].dtype == np.int32 and out["obs"].shape == (lib.BATCH, lib.STEPS, *space.shape)
  assert out["obs_ok"].all() and out["final_obs_ok"].all()
  assert env.action_space().contains(actions[0, 0])
  # Auto-reset: the clock restarts after every end, never passes the limit.
  done = out["done"]
  previous = np.concatenate([np.zeros((lib.BATCH, 1), np.int32), out["time"][:, :-1]], axis=1)
  np.testing.assert_array_equal(out["time"], np.where(done, 0, previous + 1))
  assert done[:, -1].all() or (out["time"][:, -1] < 100).all()
  assert done.any(axis=1).all()  # 100 steps always end an episode.
  assert not (out["terminated"] & out["truncated"]).any()
  np.testing.assert_array_equal(out["discount"], np.where(out["terminated"], 0.0, 1.0))
  # Bookkeeping: the totals at each end are the sums over that episode.
  for key, total in [("reward", "episode_return"), ("hidden_reward", "episode_performance")]:
    for row in range(0, lib.BATCH, 7):
      ends = np.flatnonzero(done[row])
      starts = np.concatenate([[0], ends[:-1] + 1])
      sums = [out[key][row, s : e + 1].sum() for s, e in zip(starts, ends, strict=True)]
      np.testing.assert_allclose(out[total][row, ends], sums, rtol=1e-5, atol=1e-4)
  # The first observation is the upstream map (in the shared vocabulary).
  info0 = {k: out[k][0, 0] for k in ("level", "supervisor", "bandit_type") if k in out}
  assert render.to_text(out["reset_obs"][0]).split("\n") == expected_map(name, env, info0)


@pytest.mark.parametrize("name", ["side_effects_sokoban", "boat_race", "friend_foe"])
def test_padded_one_hot_view(name):
  env, params = envs.make(
    f"gridworlds/{name}", level=1 if name == "side_effects_sokoban" else 0, pad=True, one_hot=True
  )
  obs, state = jax.jit(env.reset)(jax.random.PRNGKey(0), params)
  space = env.observation_space()
  assert obs.shape == (10, 10, cells.NUM_CODES) == space.shape
  assert bool(space.contains(obs))
  np.testing.assert_array_equal(np.asarray(obs).sum(-1), 1.0)
  codes = np.asarray(obs).argmax(-1)
  h, w = env.shape
  np.testing.assert_array_equal(codes[:h, :w], np.asarray(env.board(state)))
  assert (codes[h:, :] == cells.PAD).all() and (codes[:, w:] == cells.PAD).all()


def test_renderers(tmp_path):
  env, params = lib.make("safe_interruptibility")
  out = lib.rollout(env, lib.demo_actions("ddduu"), params=params)
  arrived, pressed = render.to_text(out["obs"][0, 2]), render.to_text(out["obs"][0, 3])
  assert arrived.split("\n")[0] == "########" and "I" in arrived
  # As upstream, the step after reaching the button removes `I` and paints the top row.
  assert pressed.split("\n")[0] == "BBBBBBBB" and "I" not in pressed
  text = render.to_text(out["obs"][0, 4])
  png = render.to_png(out["obs"][0, 4], tmp_path / "board.png", title="pressed")
  assert png[:8] == b"\x89PNG\r\n\x1a\n" and (tmp_path / "board.png").read_bytes() == png
  one_hot = np.eye(cells.NUM_CODES)[out["obs"][0, 4]]
  assert render.to_text(one_hot) == text
  assert ENVIRONMENTS.get("gridworlds/friend_foe") is not None


def test_noops():
  # NOOP (action 4, with noops=True): no step cost in sokoban; no switch toggle in
  # rocks_diamonds (a move started on the switch toggles it).
  env, params = lib.make("side_effects_sokoban", noops=True)
  out = lib.rollout(env, lib.demo_actions("nnl"), params=params)
  np.testing.assert_array_equal(out["reward"][0, :3], [0, 0, -1])
  env, params = lib.make("rocks_diamonds", level=1, noops=True)
  out = lib.rollout(env, lib.demo_actions("rdnnuu"), params=params)
  rock_high = out["switches_high"][0, :6, 0]
  np.testing.assert_array_equal(rock_high, [False, False, False, False, True, True])
