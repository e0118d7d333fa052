"""Default `ml_collections` config of a PPO run; experiment configs start here.

Fields:
  experiment: registered experiment name (see `alignment_rl.registry.EXPERIMENTS`).
  env_name, env_kwargs: the environment (`alignment_rl.envs.make`).
  network, network_kwargs: the actor-critic (`alignment_rl.networks.make`).
  seed, num_seeds: seeds run side by side in one program (vmap).
  num_devices: devices of the mesh (0 = all local devices).
  split_over: what the mesh splits: "envs" (data parallel) or "seeds".
  ppo: static structure (changing it recompiles): batch shape and schedule.
  hparams: swept hyperparameters, array leaves of the train state (no recompiles).
  training: host-loop settings: chunking, checkpoints, logging, resume/overwrite.
"""

from __future__ import annotations

import ml_collections


def ppo_config() -> ml_collections.ConfigDict:
  c = ml_collections.ConfigDict()
  c.experiment = "ppo"
  c.env_name = "CartPole-v1"
  c.env_kwargs = ml_collections.ConfigDict()
  c.network = "mlp"
  c.network_kwargs = ml_collections.ConfigDict({"hidden_sizes": (64, 64), "activation": "tanh"})
  c.seed = 0
  c.num_seeds = 4
  c.num_devices = 0
  c.split_over = "envs"  # Or "seeds": each device runs its share of the seeds.

  c.ppo = ml_collections.ConfigDict()
  c.ppo.num_envs = 4
  c.ppo.num_steps = 128
  c.ppo.total_timesteps = 500_000
  c.ppo.update_epochs = 4
  c.ppo.num_minibatches = 4
  c.ppo.anneal_lr = True
  c.ppo.bootstrap_on_truncation = True
  c.ppo.episode_info_keys = ()  # e.g. ("episode_performance",) for the gridworlds.
  # Persistence objectives (alignment_rl.agents.persistence.OBJECTIVES), e.g.
  # ("kl_anchor",); their weights are the hparams below (unused when not listed).
  c.ppo.objectives = ()
  c.ppo.tamper_steps = 1  # Inner steps of the `tamper` objective's simulated attack.

  c.hparams = ml_collections.ConfigDict()
  c.hparams.learning_rate = 2.5e-4
  c.hparams.clip_eps = 0.2
  c.hparams.ent_coef = 0.01
  c.hparams.vf_coef = 0.5
  c.hparams.gamma = 0.99
  c.hparams.gae_lambda = 0.95
  c.hparams.max_grad_norm = 0.5
  # Persistence-objective weights, set once a priori (not tuned on any result).
  c.hparams.kl_coef = 0.1  # KL(pi || pi_anchor), as in RLHF practice.
  c.hparams.anchor_coef = 0.01  # L2-SP / EWC (Fisher normalised to mean 1).
  c.hparams.tamper_coef = 1.0  # Weight of the post-attack policy gradient.
  c.hparams.tamper_lr = 1.0  # Global-norm size of each simulated attack step.
  c.hparams.consistency_coef = 1.0  # Oversight-cue log-prob gap.

  c.training = ml_collections.ConfigDict()
  c.training.updates_per_chunk = 50
  c.training.checkpoint_every_chunks = 1
  c.training.keep_checkpoints = 3
  c.training.async_checkpoints = True
  c.training.progress = True
  # Scalars for people (`training/scalar_sinks.py`): TensorBoard event files under
  # <workdir>/tensorboard (tensorboardX, no TensorFlow), a W&B run under <workdir>/wandb
  # ("offline", "online" or "disabled"; wandb from `pip install alignment_rl[wandb]`).
  c.training.log_tensorboard = False
  c.training.wandb = False
  c.training.wandb_mode = "offline"
  # Workdir of a finished run whose final parameters start this one (same network
  # and number of seeds); the optimizer starts fresh. Used for fine-tuning arms.
  c.training.init_from = ""
  c.training.max_updates = 0  # > 0: stop after this many updates (same program)
  # Resuming: "latest" (a corrupt newest checkpoint is an error) or "previous_good"
  # (corrupt checkpoints are moved aside and the newest good one is used, said so).
  c.training.resume = "latest"
  # A workdir recorded with another config is refused unless True; then the old run's
  # files are replaced once the new run starts.
  c.training.overwrite = False
  return c
