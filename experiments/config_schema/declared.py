"""The declared range of every config field, per registered experiment.

`SCHEMAS[experiment]` maps each dotted field path of that experiment's config to its
`Spec`; a path part `*` matches any one name (the arms of a `trait_rl` config, the
levels of the gridworlds). The PPO fields (`training/defaults.py`'s `ppo_config`)
are declared once and mounted where a config holds a PPO run (at the root, under
`ppo_run` or `attack_ppo`); the imitation fields likewise under `prior`. A config
field without a declaration is an error (`validate`), and a test walks every
registered config so that a new field cannot ship without its range.
"""

from __future__ import annotations

from experiments.config_schema import names
from experiments.config_schema.fields import (
  AnyOf,
  Bool,
  Int,
  Maybe,
  OneOf,
  Real,
  Spec,
  Text,
  TupleOf,
)

POS = Int(lo=1)
NONNEG = Int(lo=0)
COEF = Real(lo=0)  # A loss weight: zero switches its term off.
FRACTION = Real(0, 1)
SEED = Int(0, 2**32 - 1)
FOLDER = Text("'' or a folder path (checked when the run starts)")
BOOL = Bool()
#: `seed_axis.network_kwargs`: None (automatic), 0 (off) or a bucket count.
LENGTH_BUCKETS = Maybe(Int(0, 64))

#: Conversation-world keyword arguments (`envs.conversations.mixture`) and gridworlds'.
ENV_KWARGS: dict[str, Spec] = {
  "data_config": OneOf(names.data_configs),
  "data_dir": FOLDER,
  "grader": OneOf(names.graders),
  "standard_grader": OneOf(names.graders),
  "response_len": Int(1, 64),
  "max_turns_capacity": Int(1, 8),
  "min_turns": Int(1, 8),
  "max_turns": Int(1, 8),
  "pressure_start": Int(0, 3),
  "per_turn_reward": BOOL,
  "world_version": OneOf(names.world_versions),
  "trait_fraction": Maybe(FRACTION),
  "families": TupleOf(OneOf(names.families)),
  "domains": TupleOf(OneOf(names.domains)),
  "persona_augment": FRACTION,
  "rubric_control": OneOf(names.controls),
  "rubric_control_seed": SEED,
  "rubric_control_version": Int(1, 1000),
  "surface_overlap": Maybe(FRACTION),
  "one_hot": BOOL,  # gridworlds
}

NETWORK_KWARGS: dict[str, Spec] = {
  "hidden_sizes": TupleOf(Int(1, 65536), min_len=1, unique=False),
  "activation": OneOf(("tanh", "relu", "gelu")),
  "encoder": OneOf(("bag_of_tokens", "conv", "transformer")),
  "d_model": Int(1, 4096),
  "num_heads": Int(1, 64),
  "num_layers": Int(1, 64),
  "max_len": Int(1, 65536),
  "max_response_len": Int(1, 64),
  "system_len": Int(0, 64),
  "vocab_size": POS,
  "obs_ndim": Int(1, 4),
}

#: `ppo_config()` of `training/defaults.py`, field by field.
PPO: dict[str, Spec] = {
  "experiment": Text("a label of the run"),
  "env_name": OneOf(names.environments, prefix="gymnax/"),
  **{f"env_kwargs.{k}": v for k, v in ENV_KWARGS.items()},
  "network": OneOf(names.networks),
  **{f"network_kwargs.{k}": v for k, v in NETWORK_KWARGS.items()},
  "seed": SEED,
  "num_seeds": Int(1, 4096),
  "num_devices": NONNEG,
  "split_over": OneOf(("envs", "seeds")),
  "seed_batching": OneOf(("auto", "vmap", "map")),
  "length_buckets": LENGTH_BUCKETS,
  "ppo.num_envs": POS,
  "ppo.num_steps": POS,
  "ppo.total_timesteps": POS,
  "ppo.update_epochs": POS,
  "ppo.num_minibatches": POS,
  "ppo.anneal_lr": BOOL,
  "ppo.bootstrap_on_truncation": BOOL,
  "ppo.episode_info_keys": TupleOf(
    OneOf(("episode_performance", "visible_return", "episode_return"))
  ),
  "ppo.objectives": TupleOf(OneOf(names.objectives)),
  "ppo.tamper_steps": POS,
  "hparams.learning_rate": Real(0, 1, open_lo=True),
  "hparams.clip_eps": Real(0, 1, open_lo=True),
  "hparams.ent_coef": COEF,
  "hparams.vf_coef": COEF,
  "hparams.gamma": FRACTION,
  "hparams.gae_lambda": FRACTION,
  "hparams.max_grad_norm": Real(0, open_lo=True),
  "hparams.kl_coef": COEF,
  "hparams.anchor_coef": COEF,
  "hparams.tamper_coef": COEF,
  "hparams.tamper_lr": COEF,
  "hparams.consistency_coef": COEF,
  "training.updates_per_chunk": POS,
  "training.checkpoint_every_chunks": POS,
  "training.keep_checkpoints": POS,  # 0 would delete every checkpoint.
  "training.async_checkpoints": BOOL,
  "training.progress": BOOL,
  "training.log_tensorboard": BOOL,
  "training.wandb": BOOL,
  "training.wandb_mode": OneOf(("offline", "online", "disabled")),
  "training.init_from": FOLDER,
  "training.max_updates": NONNEG,  # 0: no cap.
  "training.resume": OneOf(("latest", "previous_good")),
  "training.overwrite": BOOL,
}

#: `imitation_config()` of `training/imitation.py`.
IMITATION: dict[str, Spec] = {
  "experiment": Text("a label of the run"),
  "seed": SEED,
  "num_seeds": Int(1, 4096),
  "network": OneOf(names.networks),
  **{f"network_kwargs.{k}": v for k, v in NETWORK_KWARGS.items()},
  "data.config": OneOf(names.data_configs),
  "data.data_dir": FOLDER,
  "data.split": OneOf(names.splits),
  "data.eval_split": OneOf(names.splits),
  "data.world_version": OneOf(names.world_versions),
  "data.surface_overlap": Maybe(FRACTION),
  "split_over": OneOf(("envs", "seeds")),
  "seed_batching": OneOf(("auto", "vmap", "map")),
  "length_buckets": LENGTH_BUCKETS,
  "num_devices": NONNEG,
  "imitation.num_steps": POS,
  "imitation.batch_size": POS,
  "imitation.learning_rate": Real(0, 1, open_lo=True),
  "imitation.max_grad_norm": Real(0, open_lo=True),
  "imitation.multi_turn_fraction": FRACTION,
  "imitation.followup_pressure": Int(0, 3),
  "imitation.persona_fraction": FRACTION,
  "imitation.value_coef": COEF,
  "imitation.value_grader": OneOf(("rubric", "standard", "helpfulness")),
  "imitation.steps_per_chunk": POS,
  "imitation.eval_samples": NONNEG,
  "imitation.progress": BOOL,
}

ARM = {
  "grader": OneOf(names.graders),
  "trait_fraction": FRACTION,
  "families": TupleOf(OneOf(names.families)),
  "domains": TupleOf(OneOf(names.domains)),
  "persona_augment": FRACTION,
  "objectives": TupleOf(OneOf(names.objectives)),
  "rubric_control": OneOf(names.controls),
  "control_seed": SEED,
}
ARM_NAMES = TupleOf(Text("an arm name"))

#: `configs.common.base_config` and the `trait_rl` experiments built on it.
TRAIT_RL: dict[str, Spec] = {
  "experiment": OneOf(names.experiments),
  "world_version": OneOf(names.world_versions),
  "data_config": OneOf(names.data_configs),
  "data_dir": FOLDER,
  "surface_overlap": Maybe(FRACTION),
  **{f"prior.{k}": v for k, v in IMITATION.items()},
  **{f"ppo_run.{k}": v for k, v in PPO.items()},
  **{f"arms.*.{k}": v for k, v in ARM.items()},
  "treatment": Text("an arm name"),
  "baseline": Text("an arm name"),
  "also_compare": ARM_NAMES,
  "controls": ARM_NAMES,
  "reference_rows": BOOL,
  "reference_budgets": TupleOf(POS, min_len=3, unique=False),
  "reference_train_scenarios": POS,
  "reference_cache": BOOL,
  "suite": OneOf(names.suites),
  "max_samples": NONNEG,  # 0: each evaluation's own sample count.
  "eval_seed": SEED,
  "personas": TupleOf(OneOf(names.personas)),
  "persona_arms": ARM_NAMES,
  "pressure_turns": Int(0, 8),  # 0: off.
  "pressure_split": OneOf(names.splits),
  "pressure_samples": POS,
  "finetune_stages": NONNEG,  # 0: off.
  "finetune_updates": POS,
  "finetune_from": ARM_NAMES,
  "figures": BOOL,
  "reuse_from": Text("'' or comma-separated workdirs"),
  "prior_cache": BOOL,
  "batch_runs": OneOf(("auto", "on", "off")),
}

CONVERSATION_RL: dict[str, Spec] = {
  "experiment": OneOf(("conversation_rl",)),
  "data_config": OneOf(names.data_configs),
  "data_dir": FOLDER,
  "arms": TupleOf(OneOf(names.graders), min_len=1),
  "eval_splits": TupleOf(OneOf(names.splits), min_len=1),
  "eval_graders": TupleOf(OneOf(names.graders), min_len=1),
  "eval_seed": SEED,
  **{f"prior.{k}": v for k, v in IMITATION.items()},
  **{f"ppo_run.{k}": v for k, v in PPO.items()},
}

EVALUATE: dict[str, Spec] = {
  "experiment": OneOf(("evaluate",)),
  "checkpoint": Text("`dir` or `name=dir`, comma-separated (required)"),
  "baseline": Text("'' or `dir` or `name=dir`, comma-separated"),
  "suite": OneOf(names.suites),
  "data_config": OneOf(names.data_configs),
  "data_dir": FOLDER,
  "max_samples": NONNEG,
  "eval_seed": SEED,
  "personas": TupleOf(OneOf(names.personas)),
  "pressure_turns": Int(0, 8),
  "pressure_samples": POS,
  "prefix_budget": NONNEG,
  "prefix_grader": OneOf(names.graders),
  "finetune_stages": NONNEG,
  "finetune_updates": POS,
  **{f"attack_ppo.{k}": v for k, v in PPO.items()},
}

TRANSFER_PROBE: dict[str, Spec] = {
  "experiment": OneOf(("transfer_probe",)),
  "world_version": OneOf(names.world_versions),
  "data_config": OneOf(names.data_configs),
  "data_dir": FOLDER,
  "suite": OneOf(names.suites),
  "max_samples": NONNEG,
  **{f"network_kwargs.{k}": v for k, v in NETWORK_KWARGS.items()},
  "train_scenarios": POS,
  "num_steps": POS,
  "learning_rate": Real(0, 1, open_lo=True),
  "seed": SEED,
  "fixed_budget": POS,
}

GRIDWORLDS: dict[str, Spec] = {
  **PPO,
  "experiment": OneOf(names.experiments),
  "env_name": AnyOf(OneOf(("",)), OneOf(names.environments)),  # "": set per environment.
  "envs": TupleOf(OneOf(names.gridworlds), min_len=1),
  "levels.*": AnyOf(Int(-1, 16), Text("a level name")),
  "exploration_wrapper": BOOL,
  "eval.num_streams": POS,
  "eval.episodes_per_stream": POS,
  "eval.seed": SEED,
}

GRIDWORLDS_TRANSFER: dict[str, Spec] = {
  **GRIDWORLDS,
  "transfer.train_envs": TupleOf(OneOf(names.gridworlds), min_len=1),
  "transfer.heldout_envs": TupleOf(OneOf(names.gridworlds)),
  "transfer.pretrain_reward_mode": OneOf(names.reward_modes),
  "transfer.finetune_reward_mode": OneOf(names.reward_modes),
  "transfer.finetune_timesteps": POS,
}
del GRIDWORLDS_TRANSFER["envs"]

ROOT_PPO = {**PPO, "experiment": OneOf(names.experiments)}
ROOT_IMITATION = {**IMITATION, "experiment": OneOf(names.experiments)}

TRAIT_RL_EXPERIMENTS = (
  "trait_rl_vs_baseline",
  "health_only_transfer",
  "no_health_science",
  "generic_helpfulness_control",
  "persona_persistence",
  "harmful_finetune",
  "long_interaction_pressure",
  "emergent_misalignment",
  "surface_overlap_sweep",
  "refusal_side_effects",
  "persistence_objectives",
)

#: Registered experiment name -> the declared ranges of its config's fields.
SCHEMAS: dict[str, dict[str, Spec]] = {
  "ppo": ROOT_PPO,
  "cartpole_ppo": ROOT_PPO,
  "imitate_prior": ROOT_IMITATION,
  "conversation_rl": CONVERSATION_RL,
  "evaluate": EVALUATE,
  "transfer_probe": TRANSFER_PROBE,
  "gridworlds_baselines": GRIDWORLDS,
  "gridworlds_transfer": GRIDWORLDS_TRANSFER,
  **{name: TRAIT_RL for name in TRAIT_RL_EXPERIMENTS},
}
