"""A PureJaxRL-style PPO written against gymnax's API only (not our trainer) trains on
our environments wrapped by `gymnax_compat.to_gymnax`, through gymnax's own wrappers.

The loop reads nothing but what gymnax defines: `reset`/`step` signatures, the spaces'
`n`/`low`/`high`/`shape`, `LogWrapper`'s episode returns. Policy: one linear layer of
independent categoricals, one per action dimension (`Discrete`: one; an integer `Box`
such as the conversation environment's response: one per position).
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

pytest.importorskip("gymnax", reason="needs the [test] extra (gymnax)")

from gymnax.environments import spaces as gymnax_spaces  # noqa: E402
from gymnax.wrappers.purerl import FlattenObservationWrapper, LogWrapper  # noqa: E402

from alignment_rl import envs  # noqa: E402
from alignment_rl.data import SMALL, generate_split  # noqa: E402
from alignment_rl.envs import gymnax_compat  # noqa: E402
from alignment_rl.envs.conversations.env import ConversationEnv  # noqa: E402

NUM_ENVS, NUM_STEPS, NUM_UPDATES, EPOCHS = 8, 16, 6, 2
GAMMA, LAMBDA, CLIP, LR = 0.99, 0.95, 0.2, 0.05


def _heads(space):
  """(number of categorical heads, categories per head, offset) of a gymnax space."""
  if isinstance(space, gymnax_spaces.Discrete):
    return 1, space.n, 0
  low, high = int(np.min(space.low)), int(np.max(space.high))
  return int(np.prod(space.shape)), high - low + 1, low


def make_train(env, params):
  env = LogWrapper(FlattenObservationWrapper(env))
  space = env.action_space(params)
  heads, cats, low = _heads(space)
  obs_space = env.observation_space(params)
  obs_dim, obs_scale = int(np.prod(obs_space.shape)), float(np.max(obs_space.high))

  def forward(theta, obs):
    x = obs.astype(jnp.float32) / obs_scale
    logits = (x @ theta["pi"]).reshape(*x.shape[:-1], heads, cats)
    return logits, (x @ theta["v"])[..., 0]

  def log_prob(logits, a):
    logp = jax.nn.log_softmax(logits)
    return jnp.take_along_axis(logp, a[..., None], -1)[..., 0].sum(-1)

  def step_env(keys, state, a):
    action = (a + low).reshape(a.shape[0], *space.shape).astype(space.dtype)
    out = jax.vmap(env.step, in_axes=(0, 0, 0, None))(keys, state, action, params)
    if len(out) == 6:  # gymnax >= 1.0
      obs, state, reward, terminated, truncated, info = out
      return obs, state, reward, terminated | truncated, info
    return out

  def loss_fn(theta, batch, adv, targets):
    logits, value = forward(theta, batch["obs"])
    ratio = jnp.exp(log_prob(logits, batch["a"]) - batch["logp"])
    adv = (adv - adv.mean()) / (adv.std() + 1e-8)
    pg = -jnp.minimum(ratio * adv, jnp.clip(ratio, 1 - CLIP, 1 + CLIP) * adv).mean()
    entropy = -(jax.nn.softmax(logits) * jax.nn.log_softmax(logits)).sum(-1).mean()
    return pg + 0.5 * ((value - targets) ** 2).mean() - 0.01 * entropy

  def update(carry, _):
    theta, state, obs, key = carry

    def rollout(c, _):
      state, obs, key = c
      key, k_act, k_env = jax.random.split(key, 3)
      logits, value = forward(theta, obs)
      a = jax.random.categorical(k_act, logits)
      next_obs, state, reward, done, info = step_env(jax.random.split(k_env, NUM_ENVS), state, a)
      t = {"obs": obs, "a": a, "logp": log_prob(logits, a), "v": value, "r": reward}
      t.update(done=done, ep_ret=info["returned_episode_returns"], ep=info["returned_episode"])
      return (state, next_obs, key), t

    (state, obs, key), traj = jax.lax.scan(rollout, (state, obs, key), None, NUM_STEPS)

    def gae(c, t):
      adv, next_v = c
      delta = t["r"] + GAMMA * next_v * (1 - t["done"]) - t["v"]
      adv = delta + GAMMA * LAMBDA * (1 - t["done"]) * adv
      return (adv, t["v"]), adv

    last_v = forward(theta, obs)[1]
    _, adv = jax.lax.scan(gae, (jnp.zeros_like(last_v), last_v), traj, reverse=True)
    targets = adv + traj["v"]

    def epoch(theta, _):
      loss, grads = jax.value_and_grad(loss_fn)(theta, traj, adv, targets)
      return jax.tree.map(lambda p, g: p - LR * g, theta, grads), loss

    theta, losses = jax.lax.scan(epoch, theta, None, EPOCHS)
    ep_return = (traj["ep_ret"] * traj["ep"]).sum() / jnp.maximum(traj["ep"].sum(), 1)
    return (theta, state, obs, key), (losses[-1], ep_return)

  def train(key):
    key, k_reset = jax.random.split(key)
    obs, state = jax.vmap(env.reset, in_axes=(0, None))(jax.random.split(k_reset, NUM_ENVS), params)
    theta = {"pi": jnp.zeros((obs_dim, heads * cats)), "v": jnp.zeros((obs_dim, 1))}
    _, (losses, returns) = jax.lax.scan(update, (theta, state, obs, key), None, NUM_UPDATES)
    return losses, returns

  return train


@pytest.mark.parametrize("which", ["gridworld", "conversation"])
def test_purerl_style_ppo_trains_on_wrapped_env(which):
  if which == "gridworld":
    ours = envs.make("gridworlds/island_navigation")[0]
  else:
    ours = ConversationEnv(generate_split(SMALL, "train"), response_len=4, max_turns_capacity=1)
    ours.set_default_params(ours.make_params())
  env = gymnax_compat.to_gymnax(ours)
  params = env.default_params.replace(max_steps_in_episode=16)
  assert isinstance(env.action_space(params), gymnax_spaces.Discrete | gymnax_spaces.Box)
  losses, returns = jax.jit(make_train(env, params))(jax.random.PRNGKey(0))
  losses, returns = np.asarray(losses), np.asarray(returns)
  assert losses.shape == returns.shape == (NUM_UPDATES,)
  assert np.isfinite(losses).all() and np.isfinite(returns).all(), (losses, returns)
  assert returns[-1] != returns[0], returns
