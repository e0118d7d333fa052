"""PPO reaches the known optimal values of the probe environments."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import struct

from alignment_rl import envs, networks
from alignment_rl.agents import ppo
from alignment_rl.envs import spaces
from alignment_rl.envs.environment import Environment, EnvParams
from alignment_rl.training.ppo_loop import PPOLoop, PPOLoopConfig

GAMMA = 0.9


def train(env, env_params, num_updates=150, seeds=2, bootstrap=True, lr=3e-3):
  net = networks.make("mlp", env.action_space(env_params).n, hidden_sizes=(32, 32))
  cfg = PPOLoopConfig(
    num_envs=16,
    num_steps=8,
    num_updates=num_updates,
    update_epochs=4,
    num_minibatches=2,
    anneal_lr=False,
    bootstrap_on_truncation=bootstrap,
  )
  loop = PPOLoop(env, env_params, net, cfg)
  hp = ppo.PPOHyperparams.from_config(
    dict(
      learning_rate=lr,
      clip_eps=0.2,
      ent_coef=0.0,
      vf_coef=0.5,
      gamma=GAMMA,
      gae_lambda=0.95,
      max_grad_norm=1.0,
    )
  )
  keys = jax.random.split(jax.random.PRNGKey(0), seeds)
  runner = jax.jit(jax.vmap(loop.init, in_axes=(0, None)))(keys, hp)
  runner, metrics = jax.jit(jax.vmap(lambda r: loop.run(r, num_updates)))(runner)

  def evaluate(obs):
    def one(params):
      logits, value = net.apply(params, jnp.asarray(obs, jnp.float32))
      return jax.nn.softmax(logits), value

    return jax.vmap(one)(runner.ppo.params)  # Leading seed axis.

  return evaluate, metrics


def test_constant_value():
  env, p = envs.make("probe/constant")
  evaluate, _ = train(env, p)
  _, v = evaluate([[0.0]])
  np.testing.assert_allclose(v, 1.0, atol=0.05)


def test_observation_dependent_value():
  env, p = envs.make("probe/observation")
  evaluate, _ = train(env, p)
  _, v = evaluate([[-1.0], [1.0]])
  np.testing.assert_allclose(v, [[-1.0, 1.0]] * 2, atol=0.1)


def test_action_probe_policy_is_optimal():
  env, p = envs.make("probe/action")
  evaluate, metrics = train(env, p)
  pi, _ = evaluate([[0.0], [1.0]])
  assert np.all(np.asarray(pi)[:, 0, 0] > 0.95) and np.all(np.asarray(pi)[:, 1, 1] > 0.95)
  assert np.all(np.asarray(metrics["episode_return"])[:, -1] > 0.9)


def test_delayed_reward_credit_assignment():
  env, p = envs.make("probe/delayed")
  evaluate, metrics = train(env, p, num_updates=250)
  pi, v = evaluate([[-1.0, 1, 0, 0], [1.0, 1, 0, 0]])
  assert np.all(np.asarray(pi)[:, 0, 0] > 0.9) and np.all(np.asarray(pi)[:, 1, 1] > 0.9)
  np.testing.assert_allclose(v, GAMMA**2, atol=0.1)
  assert np.all(np.asarray(metrics["episode_return"])[:, -1] > 0.9)


def test_discounting():
  env, p = envs.make("probe/discount")
  evaluate, _ = train(env, p)
  _, v = evaluate([[1.0, 0.0], [0.0, 1.0]])
  np.testing.assert_allclose(v, [[GAMMA, 1.0]] * 2, atol=0.05)


@struct.dataclass
class _EndlessState:
  time: jax.Array


class Endless(Environment):
  """Reward 1 forever; only the time limit (10 steps) ends an episode."""

  @property
  def default_params(self):
    return EnvParams(max_steps_in_episode=10)

  def reset_env(self, key, params):
    return jnp.zeros((1,), jnp.float32), _EndlessState(jnp.int32(0))

  def step_env(self, key, state, action, params):
    s = _EndlessState(state.time + 1)
    return jnp.zeros((1,), jnp.float32), s, jnp.float32(1.0), jnp.bool_(False), {}

  def action_space(self, params=None):
    return spaces.Discrete(2)


@pytest.mark.parametrize("bootstrap", [True, False])
def test_truncation_is_bootstrapped(bootstrap):
  """Time-blind value of an endless stream of +1: 1/(1-gamma) = 10 only if truncation
  bootstraps; treating the limit as termination gives about 4.1."""
  env = Endless()
  evaluate, _ = train(env, env.default_params, num_updates=300, bootstrap=bootstrap, lr=1e-2)
  _, v = evaluate([[0.0]])
  if bootstrap:
    np.testing.assert_allclose(v, 10.0, rtol=0.1)
  else:
    assert np.all(np.asarray(v) < 6.0)
