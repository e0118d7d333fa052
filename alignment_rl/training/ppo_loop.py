"""The jitted rollout -> GAE -> PPO update loop for one seed (vmapped by the caller).

`PPOLoop.init(key, hparams)` builds the runner state of one seed;
`PPOLoop.run(runner, num_updates)` runs `num_updates` iterations of

  rollout `num_steps` steps in `num_envs` environments (auto-reset)
  -> bootstrap values (termination vs truncation) -> GAE
  -> `update_epochs` x `num_minibatches` PPO steps

as one `lax.scan`, returning per-update metrics. Both are pure; the trainer
vmaps them over seeds and jits them over a device mesh.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp
import optax
from flax import struct

from alignment_rl.agents import gae, persistence, policies, ppo


@struct.dataclass
class RunnerState:
  ppo: ppo.PPOState
  env_state: Any  # [N, ...]
  obs: Any  # [N, ...]
  ep_return: jax.Array  # float32[N], return of the running episode.
  ep_length: jax.Array  # int32[N]
  last_return: jax.Array  # float32[N], return of the last finished episode.
  last_length: jax.Array  # int32[N]
  key: jax.Array  # uint32[2]
  update_step: jax.Array  # int32[]


# Leaves with an environment axis, sharded over the mesh's data axis.
ENV_AXIS_FIELDS = ("env_state", "obs", "ep_return", "ep_length", "last_return", "last_length")


def unpack_step(out):
  """Normalises a step to (obs, state, r, done, term, trunc, final_obs, info).

  Accepts our API and gymnax <= 0.0.9's, `(obs, state, reward, done, info)`
  (termination and truncation in `info` when the environment reports them), and
  gymnax >= 1.0's `(obs, state, reward, terminated, truncated, info)`.
  `final_obs` is None when the environment does not report it.
  """
  if len(out) == 6:
    obs, state, reward, terminated, truncated, info = out
    done = jnp.logical_or(terminated, truncated)
  else:
    obs, state, reward, done, info = out
    terminated = info.get("terminated", done)
    truncated = info.get("truncated", jnp.zeros_like(done))
  final_obs = info.get("final_obs", info.get("final_observation"))
  return obs, state, reward.astype(jnp.float32), done, terminated, truncated, final_obs, info


@dataclasses.dataclass(frozen=True)
class PPOLoopConfig:
  num_envs: int
  num_steps: int
  num_updates: int  # Total, for the learning-rate schedule.
  update_epochs: int = 4
  num_minibatches: int = 4
  anneal_lr: bool = True
  bootstrap_on_truncation: bool = True
  # `info` entries valid at episode end (e.g. a hidden performance score), logged as
  # their mean over the episodes that finished during each update's rollout.
  episode_info_keys: tuple[str, ...] = ()
  # Persistence objectives (`agents.persistence`) and their simulated attack's steps.
  objectives: tuple[str, ...] = ()
  tamper_steps: int = 1


class PPOLoop:
  """PPO on a gymnax-style environment with an actor-critic network."""

  def __init__(self, env, env_params, network, cfg: PPOLoopConfig):
    self.env, self.env_params, self.network, self.cfg = env, env_params, network, cfg
    self.policy = policies.make_policy(network)
    self.optimizer = ppo.make_optimizer()
    self.objectives = persistence.check_objectives(cfg.objectives)
    # Envs with oversight cues provide the counterfactual (`make_update_fn` checks it).
    counterfactual = getattr(env, "oversight_counterfactual", None)
    self.update_fn = ppo.make_update_fn(
      self.policy.log_prob_entropy_value,
      self.optimizer,
      cfg.update_epochs,
      cfg.num_minibatches,
      objectives=self.objectives,
      obs_counterfactual=counterfactual,
      tamper_steps=cfg.tamper_steps,
    )
    self.lr_schedule = (
      optax.linear_schedule(1.0, 0.0, cfg.num_updates)
      if cfg.anneal_lr
      else optax.constant_schedule(1.0)
    )
    if (cfg.num_envs * cfg.num_steps) % cfg.num_minibatches:
      raise ValueError(
        f"num_minibatches={cfg.num_minibatches} must divide num_envs*num_steps="
        f"{cfg.num_envs * cfg.num_steps}"
      )

  def init(
    self,
    key: jax.Array,
    hparams: ppo.PPOHyperparams,
    env_params=None,
    coefs: ppo.PersistenceCoefs | None = None,
  ) -> RunnerState:
    """The runner state of one seed. `env_params` defaults to the constructor's.

    With persistence objectives, `coefs` are their weights; the anchor starts as
    the initial parameters (the trainer replaces it by `init_from`'s) and the
    Fisher as ones (`estimate_fisher` replaces it).
    """
    env_params = self.env_params if env_params is None else env_params
    key, k_net, k_env = jax.random.split(key, 3)
    env_keys = jax.random.split(k_env, self.cfg.num_envs)
    obs, env_state = jax.vmap(self.env.reset, in_axes=(0, None))(env_keys, env_params)
    params = self.policy.init(k_net, jax.tree.map(lambda x: x[0], obs))
    opt_state = self.optimizer.init(params)
    zeros_f = jnp.zeros((self.cfg.num_envs,), jnp.float32)
    zeros_i = jnp.zeros((self.cfg.num_envs,), jnp.int32)
    persist = None
    if self.objectives:
      if coefs is None:
        raise ValueError("ppo.objectives are set but no persistence coefficients were given")
      persist = ppo.PersistenceState(
        coefs=coefs,
        anchor=params if any(o in persistence.NEEDS_ANCHOR for o in self.objectives) else None,
        fisher=jax.tree.map(jnp.ones_like, params) if "ewc" in self.objectives else None,
      )
    return RunnerState(
      ppo=ppo.PPOState(params, opt_state, hparams, persist),
      env_state=env_state,
      obs=obs,
      ep_return=zeros_f,
      ep_length=zeros_i,
      last_return=zeros_f,
      last_length=zeros_i,
      key=key,
      update_step=jnp.int32(0),
    )

  def _rollout(self, runner: RunnerState, key: jax.Array, env_params):
    params = runner.ppo.params
    step_env = jax.vmap(self.env.step, in_axes=(0, 0, 0, None))

    def step(carry, noise_and_env_keys):
      env_state, obs, ep_ret, ep_len, last_ret, last_len = carry
      noise, env_keys = noise_and_env_keys
      action, log_prob, mask, value = self.policy.sample(params, obs, noise)
      out = step_env(env_keys, env_state, action, env_params)
      next_obs, env_state, reward, done, terminated, truncated, final_obs, info = unpack_step(out)
      ep_ret = ep_ret + reward
      ep_len = ep_len + 1
      last_ret = jnp.where(done, ep_ret, last_ret)
      last_len = jnp.where(done, ep_len, last_len)
      ep_ret = jnp.where(done, 0.0, ep_ret)
      ep_len = jnp.where(done, 0, ep_len)
      transition = dict(
        obs=obs,
        action=action,
        log_prob=log_prob,
        value=value,
        reward=reward,
        done=done,
        terminated=terminated,
        truncated=truncated,
      )
      if mask is not None:
        transition["mask"] = mask
      for name in self.cfg.episode_info_keys:
        transition["info/" + name] = info[name].astype(jnp.float32)
      if self.cfg.bootstrap_on_truncation and final_obs is not None:
        transition["final_obs"] = final_obs
      return (env_state, next_obs, ep_ret, ep_len, last_ret, last_len), transition

    carry = (
      runner.env_state,
      runner.obs,
      runner.ep_return,
      runner.ep_length,
      runner.last_return,
      runner.last_length,
    )
    carry, traj = jax.lax.scan(step, carry, self._rollout_randomness(key))
    return carry, traj

  def _rollout_randomness(self, key: jax.Array):
    """Every step's policy noise and env keys, drawn before the scan: [T, ...].

    Step t's keys are those of splitting `split(key, T)[t]` into (action, env)
    and the env key into N, as a per-step split would give, bit for bit; drawn
    here in a few batched calls instead of several threefry loops per step.
    """
    step_keys = jax.random.split(key, self.cfg.num_steps)
    k_act, k_env = jnp.moveaxis(jax.vmap(jax.random.split)(step_keys), 1, 0)
    noise = jax.vmap(lambda k: self.policy.noise(k, (self.cfg.num_envs,)))(k_act)
    env_keys = jax.vmap(lambda k: jax.random.split(k, self.cfg.num_envs))(k_env)
    return noise, env_keys

  def _update(self, runner: RunnerState, env_params):
    key, k_roll, k_upd = jax.random.split(runner.key, 3)
    carry, traj = self._rollout(runner, k_roll, env_params)
    env_state, obs, ep_ret, ep_len, last_ret, last_len = carry
    params, hp = runner.ppo.params, runner.ppo.hparams

    last_value = self.policy.value(params, obs)
    v_tp1 = jnp.concatenate([traj["value"][1:], last_value[None]], axis=0)
    if "final_obs" in traj:
      v_final = self.policy.value(params, traj["final_obs"])
    else:
      v_final = jnp.zeros_like(v_tp1)
    v_next = gae.bootstrap_values(v_tp1, v_final, traj["terminated"], traj["truncated"])
    adv, target = gae.gae_advantages(
      traj["reward"], traj["value"], v_next, traj["done"], hp.gamma, hp.gae_lambda
    )

    flat = lambda x: x.reshape((-1,) + x.shape[2:])
    batch = ppo.Batch(
      obs=jax.tree.map(flat, traj["obs"]),
      action=flat(traj["action"]),
      log_prob=flat(traj["log_prob"]),
      value=flat(traj["value"]),
      advantage=flat(adv),
      target=flat(target),
      mask=flat(traj["mask"]) if "mask" in traj else None,
    )
    lr_scale = self.lr_schedule(runner.update_step)
    ppo_state, metrics = self.update_fn(runner.ppo, batch, k_upd, lr_scale)

    num_done = traj["done"].sum()
    metrics.update(
      episode_return=last_ret.mean(),
      episode_length=last_len.astype(jnp.float32).mean(),
      episodes_finished=num_done.astype(jnp.float32),
      reward_per_step=traj["reward"].mean(),
    )
    done_f = traj["done"].astype(jnp.float32)
    for name in self.cfg.episode_info_keys:
      x = traj["info/" + name]
      metrics[name] = jnp.sum(x * done_f) / jnp.maximum(jnp.sum(done_f), 1.0)
    runner = RunnerState(
      ppo=ppo_state,
      env_state=env_state,
      obs=obs,
      ep_return=ep_ret,
      ep_length=ep_len,
      last_return=last_ret,
      last_length=last_len,
      key=key,
      update_step=runner.update_step + 1,
    )
    return runner, metrics

  def estimate_fisher(self, runner: RunnerState, env_params=None, num_samples: int = 256):
    """`runner` with the EWC Fisher of its anchor, from one rollout of the anchor.

    Call before training, when the parameters are the anchor's. The rollout uses a
    key derived from the runner's and changes nothing else in the runner.
    """
    env_params = self.env_params if env_params is None else env_params
    persist = runner.ppo.persist
    anchor_runner = runner.replace(ppo=runner.ppo.replace(params=persist.anchor))
    _, traj = self._rollout(anchor_runner, jax.random.fold_in(runner.key, 7), env_params)
    flat = lambda x: x.reshape((-1,) + x.shape[2:])[:num_samples]
    obs = jax.tree.map(flat, traj["obs"])
    mask = flat(traj["mask"]) if "mask" in traj else None
    log_prob_fn = lambda p, o, a: self.policy.log_prob_entropy_value(p, o, a)[0]  # noqa: E731
    action = flat(traj["action"])
    fisher = persistence.fisher_diagonal(log_prob_fn, persist.anchor, obs, action, mask)
    return runner.replace(ppo=runner.ppo.replace(persist=persist.replace(fisher=fisher)))

  def run(self, runner: RunnerState, num_updates: int, env_params=None):
    """Runs `num_updates` (static) updates; returns (runner, metrics[num_updates]).

    Pass `env_params` as a traced argument when it holds large arrays (a scenario
    dataset), so that they are inputs of the compiled program, not constants.
    """
    env_params = self.env_params if env_params is None else env_params
    return jax.lax.scan(lambda r, _: self._update(r, env_params), runner, None, length=num_updates)
