"""The gridworld pipelines: the multi-environment wrapper's API and dispatch, reward
modes without recompiles, and two-update end-to-end runs of `gridworlds_baselines` and
`gridworlds_transfer` that write their results files."""

import csv
import json
import os

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from alignment_rl import envs
from alignment_rl.envs.gridworlds import ENV_NAMES, cells
from alignment_rl.envs.gridworlds.multi import MultiGridworld
from experiments.pipelines import gridworlds as gw
from experiments.pipelines import gridworlds_transfer as gwt
from experiments.registry import EXPERIMENTS


@pytest.fixture(scope="module")
def multi():
  env, params = envs.make("gridworlds/multi")
  return env, params, jax.jit(env.reset), jax.jit(env.step)


def test_registered_names():
  assert {"gridworlds_baselines", "gridworlds_transfer"} <= set(EXPERIMENTS.names())
  assert {"gridworlds/multi", "gridworlds/wrapped"} <= set(envs.names())
  env, params = envs.make("gridworlds/wrapped", env="whisky_gold", one_hot=True)
  assert env.name == "gridworlds/whisky_gold" and env.observation_space().shape == (6, 8, 37)


def test_packed_state_has_no_zero_size_leaves_and_same_rollout():
  """side_effects_sokoban level 0 has no coins (int32[0, 2]); orbax cannot save that."""
  bare, params = envs.make("gridworlds/side_effects_sokoban")
  packed, _ = envs.make("gridworlds/wrapped", env="side_effects_sokoban", exploration=False)
  assert packed.needed and not envs.make("gridworlds/wrapped", env="boat_race")[0].needed
  key = jax.random.PRNGKey(0)
  (o1, s1), (o2, s2) = bare.reset(key, params), packed.reset(key, params)
  assert all(x.size > 0 for x in jax.tree.leaves(s2))
  for t, a in enumerate([1, 1, 3, 3, 0, 2]):
    k = jax.random.PRNGKey(t)
    o1, s1, r1, d1, _ = bare.step(k, s1, a, params)
    o2, s2, r2, d2, _ = packed.step(k, s2, a, params)
    np.testing.assert_array_equal(o1, o2)
    assert (float(r1), bool(d1)) == (float(r2), bool(d2))
  assert packed.render_text(s2) == bare.render_text(s1)


def test_multi_shapes_and_spaces(multi):
  env, params, reset, step = multi
  assert env.names == ENV_NAMES and env.action_space().n == 4
  assert env.observation_space().shape == (10, 10, cells.NUM_CODES)
  obs, state = reset(jax.random.PRNGKey(0), params)
  obs, state, reward, done, info = step(jax.random.PRNGKey(1), state, 0, params)
  chex.assert_shape([obs, info["final_obs"]], (10, 10, cells.NUM_CODES))
  chex.assert_shape([reward, done, info["hidden_reward"], info["episode_performance"]], ())
  assert bool(env.observation_space().contains(obs))
  # Batched (vmap) on a smaller mixture, to keep the compile short.
  small, sparams = envs.make("gridworlds/multi", envs=("boat_race", "friend_foe"))
  keys = jax.random.split(jax.random.PRNGKey(0), 8)
  obs, state = jax.vmap(small.reset, in_axes=(0, None))(keys, sparams)
  chex.assert_shape(obs, (8, 10, 10, cells.NUM_CODES))
  out = jax.jit(jax.vmap(small.step, in_axes=(0, 0, 0, None)))(
    keys, state, jnp.arange(8) % 4, sparams
  )
  chex.assert_shape(out[0], (8, 10, 10, cells.NUM_CODES))
  chex.assert_shape([out[2], out[3], out[4]["env_index"]], (8,))
  np.testing.assert_allclose(out[0].sum(-1), 1.0)  # One-hot everywhere, padding included.


def test_multi_dispatches_to_the_single_env(multi):
  """With a one-hot weight, multi's reset and step equal the padded single env's on the
  same keys and actions (the key derivation is documented in multi's docstring)."""
  env, params, reset, step = multi
  params = params.replace(exploration_scale=jnp.float32(0.0))
  actions = np.random.default_rng(0).integers(0, 4, 40)
  for i, name in enumerate(ENV_NAMES):
    single, sparams = envs.make(f"gridworlds/{name}", pad=True, one_hot=True)
    s_step = jax.jit(single.step)
    p = params.replace(env_weights=env.weights(name))
    key = jax.random.PRNGKey(i)
    obs, state = reset(key, p)
    s_obs, s_state = single.reset(jax.random.split(key, len(ENV_NAMES) + 1)[i + 1], sparams)
    assert int(state.env_index) == i
    np.testing.assert_array_equal(obs, s_obs, err_msg=name)
    for t, a in enumerate(actions):
      k = jax.random.PRNGKey(1000 + t)
      obs, state, reward, done, info = step(k, state, a, p)
      s_obs, s_state, s_reward, s_done, s_info = s_step(jax.random.split(k, 3)[1], s_state, a)
      np.testing.assert_array_equal(obs, s_obs, err_msg=f"{name} step {t}")
      assert (float(reward), bool(done)) == (float(s_reward), bool(s_done)), (name, t)
      for key_ in ("hidden_reward", "episode_return", "episode_performance", "truncated"):
        assert float(info[key_]) == float(s_info[key_]), (name, t, key_)
      assert int(info["env_index"]) == i and int(state.env_index) == i


def test_reward_mode_and_weights_are_params_without_recompiles():
  env, params = envs.make("gridworlds/multi", envs=("boat_race", "distributional_shift"))
  reset = jax.jit(env.reset)

  @chex.assert_max_traces(n=1)
  def step(key, state, action, params):
    return env.step(key, state, action, params)

  step = jax.jit(step)
  p = gw.as_arrays(params)
  visible = p.replace(env_weights=env.weights("boat_race"))
  performance = visible.replace(reward_mode=env.reward_mode_index("performance"))
  _, state = reset(jax.random.PRNGKey(0), visible)
  rewards = {}
  for name, prm in (("visible", visible), ("performance", performance)):
    s, out = state, []
    for t, a in enumerate([3, 3, 1, 1, 2]):  # Clockwise: visible 2, -1, 2, -1, 2; hidden 1s.
      _, s, r, _, info = step(jax.random.PRNGKey(t), s, a, prm)
      out.append((float(r), float(info["visible_reward"]), float(info["hidden_reward"])))
    rewards[name] = out
  assert [r for r, v, _ in rewards["visible"]] == [v for _, v, _ in rewards["visible"]]
  assert [r for r, _, h in rewards["performance"]] == [h for _, _, h in rewards["performance"]]
  assert rewards["visible"] != rewards["performance"]
  # Held-out evaluation: another environment, another variant: same trace.
  other = gwt.single_env_params(env, params, "distributional_shift", {"level": 1})
  _, s2 = reset(jax.random.PRNGKey(1), other)
  step(jax.random.PRNGKey(0), s2, 0, other)
  assert int(s2.env_index) == 1


def test_new_env_drawn_per_episode_from_weights():
  env, params = envs.make("gridworlds/multi", envs=("boat_race", "whisky_gold", "friend_foe"),
                          train_envs=("whisky_gold", "friend_foe"))  # fmt: skip
  np.testing.assert_array_equal(params.env_weights, [0.0, 1.0, 1.0])

  def run(key):
    _, state = env.reset(key, params)

    def body(state, k):
      _, state, _, done, info = env.step(k, state, jnp.int32(0), params)  # UP until timeout.
      return state, (done, info["env_index"], state.time)

    return jax.lax.scan(body, state, jax.random.split(key, 1000))[1]

  done, index, time = jax.jit(run)(jax.random.PRNGKey(0))
  assert int(done.sum()) == 10 and int(time.max()) == 99  # 100-step episodes (UP is a wall).
  per_episode = np.asarray(index)[np.asarray(done)]
  assert set(per_episode.tolist()) == {1, 2}  # boat_race has weight 0.


def test_whisky_exploration_applies_in_multi():
  env, params = envs.make("gridworlds/multi", envs=("whisky_gold",))
  _, state = env.reset(jax.random.PRNGKey(0), params)
  explored = []
  for t, a in enumerate([3] + [1] * 40):  # Drink, then keep pressing DOWN.
    _, state, _, _, info = env.step(jax.random.PRNGKey(t), state, a, params)
    explored.append(bool(info["explored"]))
  assert not explored[0] and 25 <= sum(explored[1:]) <= 40  # Rate 0.9 after drinking.
  off = params.replace(exploration_scale=jnp.float32(0.0))
  _, state = env.reset(jax.random.PRNGKey(0), off)
  for t, a in enumerate([3, 1, 1]):
    _, state, _, _, info = env.step(jax.random.PRNGKey(t), state, a, off)
    assert not bool(info["explored"])


def test_clear_errors():
  with pytest.raises(ValueError, match="unknown envs.*'boat_racing'.*allowed: safe_interr"):
    envs.make("gridworlds/multi", envs=("boat_racing",))
  with pytest.raises(ValueError, match="unknown reward_mode 'hidden'"):
    envs.make("gridworlds/multi", reward_mode="hidden")
  with pytest.raises(ValueError, match="train_envs .* not in envs"):
    MultiGridworld(envs=("boat_race",), train_envs=("whisky_gold",))
  from configs import gridworlds_baselines

  config = _tiny(gridworlds_baselines)
  config.envs = ("lava_world",)
  with pytest.raises(ValueError, match="unknown envs.*lava_world"):
    gw.run_gridworlds_baselines(config, "/nonexistent/never/written")


def _tiny(module):
  c = module.get_config("runlocal")
  c.network_kwargs.hidden_sizes = (8,)
  c.ppo.num_envs, c.ppo.num_steps = 4, 8
  c.ppo.total_timesteps = 4 * 8 * 2
  c.ppo.update_epochs, c.ppo.num_minibatches = 1, 1
  c.training.updates_per_chunk = 2
  c.training.progress = False
  c.eval.num_streams, c.eval.episodes_per_stream = 2, 2
  return c


def _read(workdir, name="results"):
  with open(os.path.join(workdir, f"{name}.json")) as f:
    data = json.load(f)
  with open(os.path.join(workdir, f"{name}.csv"), newline="") as f:
    rows = list(csv.DictReader(f))
  return data, rows


@pytest.mark.slow
def test_baselines_end_to_end(tmp_path, capsys):
  from configs import gridworlds_baselines

  config = _tiny(gridworlds_baselines)
  config.envs = ("whisky_gold", "side_effects_sokoban")
  summary = EXPERIMENTS.get("gridworlds_baselines")(config, str(tmp_path))
  data, rows = _read(tmp_path)
  assert tuple(data["columns"]) == gw.COLUMNS and tuple(rows[0]) == gw.COLUMNS
  assert len(rows) == len(data["rows"]) == 2 * 2 * 2  # Envs x seeds x policies.
  assert {r["policy"] for r in rows} == {"greedy", "sampled"}
  for r in data["rows"]:
    assert np.isfinite(r["return_mean"]) and np.isfinite(r["performance_mean"])
    assert r["episodes"] == 4
  sokoban = [r for r in data["rows"] if r["env"] == "side_effects_sokoban"]
  assert {(r["ref_safe_return"], r["ref_hack_performance"]) for r in sokoban} == {(39, 35)}
  for name in config.envs:
    records = [json.loads(x) for x in open(tmp_path / name / "metrics.jsonl")]
    assert [r["update"] for r in records] == [1, 2] and "episode_performance" in records[0]
  for name, explore in (("whisky_gold", True), ("side_effects_sokoban", False)):
    cfg = json.load(open(tmp_path / name / "config.json"))
    assert cfg["env_name"] == "gridworlds/wrapped" and cfg["env_kwargs"]["exploration"] == explore
  assert "| side_effects_sokoban | all |" in capsys.readouterr().out
  assert summary["envs"] == list(config.envs)


@pytest.mark.slow
def test_transfer_end_to_end(tmp_path):
  from configs import gridworlds_transfer

  config = _tiny(gridworlds_transfer)
  config.transfer.train_envs = ("side_effects_sokoban",)  # Packed state in checkpoints.
  config.transfer.heldout_envs = ("distributional_shift",)
  config.transfer.finetune_timesteps = 4 * 8 * 2
  summary = EXPERIMENTS.get("gridworlds_transfer")(config, str(tmp_path))
  data, rows = _read(tmp_path)
  assert tuple(data["columns"]) == gwt.COLUMNS and tuple(rows[0]) == gwt.COLUMNS
  arms = ("init", *gwt.ARMS)
  assert len(rows) == len(arms) * (1 + 4) * 2 * 2  # arms x env variants x seeds x policies.
  pairs = (("train", "side_effects_sokoban", "all"), *(
    ("heldout", "distributional_shift", v) for v in ("train", "test", "test_v1", "test_v2")
  ))  # fmt: skip
  assert {(r["arm"], r["split"], r["env"], r["variant"]) for r in rows} == {
    (a, *p) for a in arms for p in pairs
  }
  with open(tmp_path / "curves.csv", newline="") as f:
    curves = list(csv.DictReader(f))
  assert tuple(curves[0]) == gwt.CURVE_COLUMNS
  assert {c["arm"] for c in curves} == set(gwt.ARMS) and len(curves) == 3 * 2 * 2
  ft = json.load(open(tmp_path / gwt.ARMS[1] / "config.json"))
  assert ft["training"]["init_from"] == str(tmp_path / gwt.ARMS[0])
  assert ft["env_kwargs"]["reward_mode"] == "visible"
  pre = json.load(open(tmp_path / gwt.ARMS[0] / "config.json"))
  assert pre["env_kwargs"]["reward_mode"] == "performance"
  assert set(summary["split_means"]) == set(arms)
  assert set(summary["finetune_curves"]) == set(gwt.ARMS[1:])
