"""gymnax both ways: ours as real gymnax environments (spaces, signatures, gymnax's
wrappers, rejax's PPO), gymnax's as ours."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

gymnax = pytest.importorskip("gymnax", reason="needs the [test] extra (gymnax)")

from gymnax.environments import environment as gymnax_environment  # noqa: E402
from gymnax.environments import spaces as gymnax_spaces  # noqa: E402

from alignment_rl import envs  # noqa: E402
from alignment_rl.data import SMALL, generate_split  # noqa: E402
from alignment_rl.envs import gymnax_compat, spaces  # noqa: E402
from alignment_rl.envs.conversations.env import ConversationEnv  # noqa: E402

GRIDWORLD = "gridworlds/island_navigation"


@pytest.fixture(scope="module")
def conversation():
  """A small conversation env: one turn, 4 response actions, the SMALL train split."""
  env = ConversationEnv(generate_split(SMALL, "train"), response_len=4, max_turns_capacity=1)
  env.set_default_params(env.make_params())
  return env


@pytest.fixture(scope="module")
def gridworld():
  return envs.make(GRIDWORLD)[0]


def _step_len() -> int:
  return 6 if gymnax_compat.GYMNAX_SIX_TUPLE else 5


@pytest.mark.parametrize("which", ["gridworld", "conversation"])
def test_to_gymnax_is_a_gymnax_environment(which, request):
  ours = request.getfixturevalue(which)
  env = gymnax_compat.to_gymnax(ours)
  params = env.default_params
  assert isinstance(env, gymnax_environment.Environment)
  obs_space, act_space = env.observation_space(params), env.action_space(params)
  assert isinstance(obs_space, gymnax_spaces.Box)
  assert isinstance(act_space, gymnax_spaces.Discrete | gymnax_spaces.Box)
  assert env.num_actions == ours.num_actions and env.name == ours.name

  key = jax.random.PRNGKey(0)
  legacy = gymnax_compat.legacy_step(env)

  @jax.jit
  def transitions(key):  # One compilation for the three steps.
    obs, state = env.reset(key, params)
    action = act_space.sample(key)
    steps = [e.step(key, state, action, params) for e in (env, ours, legacy)]
    return obs, action, act_space.contains(action), obs_space.contains(obs), steps

  obs, action, action_ok, obs_ok, (out, ours_out, legacy_out) = transitions(key)
  assert obs.shape == tuple(obs_space.shape) and bool(obs_ok) and bool(action_ok)
  assert len(out) == _step_len() and len(legacy_out) == 5
  # The same transition as ours, with gymnax's `final_observation` added.
  obs2, _, reward2, done2, info2 = ours_out
  np.testing.assert_array_equal(out[0], obs2)
  np.testing.assert_array_equal(out[2], reward2)
  np.testing.assert_array_equal(out[-1]["final_observation"], info2["final_obs"])
  np.testing.assert_array_equal(legacy_out[3], done2)


def test_float_actions_for_integer_spaces_are_rounded_and_clipped():
  """Continuous-action trainers (rejax's PPO on a `Box`) send floats to integer spaces."""
  box = spaces.Box(0, 9, (4,), jnp.int32)
  cast = gymnax_compat._cast_action(box, jnp.array([0.4, 1.6, -3.0, 14.0]))
  np.testing.assert_array_equal(cast, [0, 2, 0, 9])
  assert cast.dtype == jnp.int32
  assert int(gymnax_compat._cast_action(spaces.Discrete(3), 2.7)) == 2
  ints = jnp.array([1, 2, 3, 4], jnp.int16)  # Integer actions only change dtype.
  np.testing.assert_array_equal(gymnax_compat._cast_action(box, ints), ints)


def test_gymnax_wrappers_run_on_wrapped_env(gridworld):
  from gymnax.wrappers.purerl import FlattenObservationWrapper, LogWrapper

  env = LogWrapper(FlattenObservationWrapper(gymnax_compat.to_gymnax(gridworld)))
  params = env.default_params
  keys = jax.random.split(jax.random.PRNGKey(2), 4)
  obs, state = jax.vmap(env.reset, in_axes=(0, None))(keys, params)
  assert obs.shape == (4, int(np.prod(gridworld.observation_space().shape)))
  actions = jnp.zeros((4,), jnp.int32)
  out = jax.vmap(env.step, in_axes=(0, 0, 0, None))(keys, state, actions, params)
  assert "returned_episode_returns" in out[-1]


def test_spaces_convert_both_ways():
  d = gymnax_compat.to_gymnax_space(spaces.Discrete(5))
  assert isinstance(d, gymnax_spaces.Discrete) and d.n == 5
  b = gymnax_compat.to_gymnax_space(spaces.Box(0, 3, (2, 3), jnp.int32))
  assert isinstance(b, gymnax_spaces.Box) and tuple(b.shape) == (2, 3) and b.dtype == jnp.int32
  back = gymnax_compat.from_gymnax_space(b)
  assert isinstance(back, spaces.Box) and back.shape == (2, 3) and back.high == 3
  assert gymnax_compat.from_gymnax_space(d).n == 5
  with pytest.raises(TypeError, match="expected Discrete or Box"):
    gymnax_compat.to_gymnax_space(object())


def test_from_gymnax_reports_termination_and_truncation():
  genv, gparams = envs.make("gymnax/CartPole-v1")
  env = gymnax_compat.from_gymnax(genv)
  assert isinstance(env, envs.Environment) and isinstance(env.action_space(), spaces.Discrete)
  gparams = gparams.replace(max_steps_in_episode=3)
  key = jax.random.PRNGKey(0)
  _, state = env.reset(key, gparams)
  step = jax.jit(env.step)
  for _ in range(3):  # Balanced for 3 steps, then the time limit.
    obs, state, reward, done, info = step(key, state, jnp.int32(0), gparams)
  assert bool(done) and bool(info["truncated"]) and not bool(info["terminated"])
  assert float(info["discount"]) == 1.0 and info["final_obs"].shape == obs.shape


@pytest.mark.parametrize("which", ["gridworld", "conversation"])
def test_rejax_ppo_trains_on_wrapped_env(which, request):
  """rejax 0.1.x calls gymnax 0.0.x's 5-tuple `step`: `legacy_step` gives it that."""
  rejax = pytest.importorskip("rejax", reason="needs the [test] extra (rejax)")
  env = gymnax_compat.legacy_step(gymnax_compat.to_gymnax(request.getfixturevalue(which)))
  params = env.default_params.replace(max_steps_in_episode=16)
  algo = rejax.PPO.create(
    env=env,
    env_params=params,
    num_envs=8,
    num_steps=16,
    num_epochs=2,
    num_minibatches=2,
    learning_rate=0.01,
    total_timesteps=3 * 8 * 16,
    eval_freq=3 * 8 * 16,
    agent_kwargs={"hidden_layer_sizes": (32,)},
  )
  train_state, (lengths, returns) = jax.jit(algo.train)(jax.random.PRNGKey(0))
  assert returns.shape[0] == 2  # Before and after the 3 updates, 128 episodes each.
  before, after = np.asarray(returns).mean(-1)
  assert np.isfinite([before, after]).all() and before != after, (before, after)
  leaves = jax.tree.leaves(train_state.actor_ts.params)
  assert all(np.isfinite(np.asarray(x)).all() for x in leaves)
