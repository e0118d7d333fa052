"""Every default and shared hyperparameter of the experiment configs, in one file.

`configs/<name>.py` starts from one of these and changes what its experiment needs:
`ppo_config()`, a PPO run (`alignment_rl.training.trainer.train`); `imitation_config()`,
imitating the scripted assistant prior (`alignment_rl.training.imitation`);
`base_config(experiment, scale)`, the shared config of the `trait_rl` experiments (DESIGN
section 7; `experiments/pipelines/trait_rl.py`) at three scales: `test` (seconds, SMALL
data, for the test suite), `runlocal` (CPU minutes), `full` (CPU hours, or minutes on a
GPU), with its arms (`arm(...)`).

The comment beside a field names the function that reads it (`file: function`; a
path under alignment_rl/, or `pipelines/...` under experiments/). Comments name the
function that uses a value, not every function it passes through.
"""

from __future__ import annotations

import ml_collections

from alignment_rl.data.generator import VERSION
from alignment_rl.envs.conversations import prior
from alignment_rl.language import personas, vocab
from alignment_rl.language.schema import PERSONA_LEN


def ppo_config() -> ml_collections.ConfigDict:
  """A PPO run (CartPole by default). `ppo` is static structure (changing it compiles
  another program, `training/program.py: Program`); `hparams` are array leaves of the
  train state (`training/program.py: _hparams`), so sweeping them never recompiles."""
  c = ml_collections.ConfigDict()
  c.experiment = "ppo"  # The pipeline: experiments/registry.py: EXPERIMENTS.
  c.env_name = "CartPole-v1"  # training/program.py: make_env (envs.make)
  c.env_kwargs = ml_collections.ConfigDict()  # The env factory's kwargs (make_env).
  c.network = "mlp"  # training/program.py: Program (networks.make, with network_kwargs)
  c.network_kwargs = ml_collections.ConfigDict({"hidden_sizes": (64, 64), "activation": "tanh"})
  c.seed = 0  # training/trainer.py: _open_run (one key per seed)
  c.num_seeds = 4  # Seeds side by side in one program (training/program.py: Program, vmap).
  c.num_devices = 0  # training/program.py: get_program (the mesh; 0 = all local devices)
  c.split_over = "envs"  # Or "seeds": each device runs its share (training/sharding.py).
  # Seeds side by side ("vmap") or in turn ("map") in the compiled program; "auto" is
  # "map" on a CPU, "vmap" elsewhere (training/seed_axis.py).
  c.seed_batching = "auto"
  # With the seeds in turn, the conv response policy encodes its rows in length buckets:
  # None (automatic) = 4 there, none elsewhere; 0 = none; N = N wherever
  # (training/seed_axis.py).
  c.length_buckets = ml_collections.FieldReference(None, field_type=int)

  c.ppo = ml_collections.ConfigDict()  # training/program.py: Program (PPOLoopConfig)
  c.ppo.num_envs = 4
  c.ppo.num_steps = 128
  c.ppo.total_timesteps = 500_000  # / (num_envs * num_steps) = the updates
  c.ppo.update_epochs = 4  # agents/ppo.py: make_update_fn
  c.ppo.num_minibatches = 4  # agents/ppo.py: make_update_fn
  c.ppo.anneal_lr = True  # training/ppo_loop.py: PPOLoop (linear decay to 0)
  c.ppo.bootstrap_on_truncation = True  # training/ppo_loop.py: PPOLoop._rollout
  c.ppo.episode_info_keys = ()  # e.g. ("episode_performance",) for the gridworlds.
  # Persistence objectives (alignment_rl.agents.persistence.OBJECTIVES), e.g.
  # ("kl_anchor",); their weights are the hparams below (unused when not listed).
  c.ppo.objectives = ()  # agents/ppo_loss.py: persistence_loss
  c.ppo.tamper_steps = 1  # Inner steps of the `tamper` objective's simulated attack.

  c.hparams = ml_collections.ConfigDict()  # agents/ppo_loss.py: PPOHyperparams
  c.hparams.learning_rate = 2.5e-4  # agents/ppo.py: make_update_fn (Adam; anneal_lr)
  c.hparams.clip_eps = 0.2  # agents/ppo_loss.py: ppo_loss_terms (ratio and value clip)
  c.hparams.ent_coef = 0.01  # agents/ppo_loss.py: ppo_loss_terms
  c.hparams.vf_coef = 0.5  # agents/ppo_loss.py: ppo_loss_terms
  c.hparams.gamma = 0.99  # training/ppo_loop.py: PPOLoop._update (GAE)
  c.hparams.gae_lambda = 0.95  # training/ppo_loop.py: PPOLoop._update (GAE)
  c.hparams.max_grad_norm = 0.5  # agents/ppo.py: make_update_fn (global-norm clip)
  # Persistence-objective weights, set once a priori (not tuned on any result); read by
  # agents/ppo_loss.py: persistence_loss (tamper_*: agents/ppo.py: make_update_fn).
  c.hparams.kl_coef = 0.1  # KL(pi || pi_anchor), as in RLHF practice.
  c.hparams.anchor_coef = 0.01  # L2-SP / EWC (Fisher normalised to mean 1).
  c.hparams.tamper_coef = 1.0  # Weight of the post-attack policy gradient.
  c.hparams.tamper_lr = 1.0  # Global-norm size of each simulated attack step.
  c.hparams.consistency_coef = 1.0  # Oversight-cue log-prob gap.

  c.training = ml_collections.ConfigDict()  # training/trainer.py: train, _open_run
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


def imitation_config() -> ml_collections.ConfigDict:
  """Default config; `network`/`network_kwargs`/`num_seeds` must match the RL arms.
  Read by training/imitation.py (train_prior_policy), imitation_program.py (`Imitation`:
  the loss, the optimizer, the steps) and imitation_batches.py (the batches)."""
  c = ml_collections.ConfigDict()
  c.experiment = "imitate_prior"
  c.seed = 0
  c.num_seeds = 4
  c.network = "response_policy"
  c.network_kwargs = ml_collections.ConfigDict({"vocab_size": vocab.VOCAB_SIZE})
  c.network_kwargs.update(max_response_len=prior.DEFAULT_RESPONSE_LEN, encoder="bag_of_tokens")
  c.data = ml_collections.ConfigDict({"config": "full", "data_dir": "", "split": "train"})
  c.data.eval_split = "test"
  # "seeds": the seeds are split over all devices (one host device per core with
  # JAX_NUM_CPU_DEVICES=N), as in PPO's `split_over`; "envs": one device.
  c.split_over = "envs"
  c.num_devices = 0  # with "seeds": devices to split over (0 = all)
  c.seed_batching = "auto"  # As in PPO's (training/seed_axis.py).
  # As in PPO's: the imitation steps' conv encoder (None: automatic).
  c.length_buckets = ml_collections.FieldReference(None, field_type=int)
  c.imitation = ml_collections.ConfigDict()
  c.imitation.num_steps = 4000
  c.imitation.batch_size = 256
  c.imitation.learning_rate = 3e-3
  c.imitation.max_grad_norm = 1.0
  c.imitation.multi_turn_fraction = 0.5
  c.imitation.followup_pressure = 0  # level of the follow-up in two-turn contexts
  # Share of contexts whose persona slot gets a random training persona (neutral,
  # helpful or adversarial table), which the prior follows like a system prompt.
  c.imitation.persona_fraction = 0.3
  c.imitation.value_coef = 0.0  # > 0: warm-start the value head on the prior's grades
  c.imitation.value_grader = "rubric"
  c.imitation.steps_per_chunk = 100
  c.imitation.eval_samples = 4  # prior and policy responses per eval scenario; 0: no eval
  c.imitation.progress = True
  return c


SCALES = ("test", "runlocal", "full")
RESPONSE_LEN = 8
TRAIT_FRACTION = 0.05  # The study replaced 5% of the standard mixture.


def arm(
  grader: str = "rubric",
  trait_fraction: float = TRAIT_FRACTION,
  families: tuple[str, ...] = (),
  domains: tuple[str, ...] = (),
  persona_augment: float = 0.0,
  objectives: tuple[str, ...] = (),
  rubric_control: str = "none",
  control_seed: int = 0,
) -> ml_collections.ConfigDict:
  """An arm: the trait data of its mixture (the rest is the standard mixture under the
  `standard` proxy). `pipelines/trait_arms.py: arm_config` writes it into the arm's
  `env_kwargs`; the comments name where each field is used. `families` and `domains`
  filter the trait data (empty: every training family, every domain). A
  `persona_augment` share of episodes starts with a training adversarial persona;
  `objectives` (`agents.persistence.OBJECTIVES`) are weighted by the run's `hparams`;
  `rubric_control` (`controls.CONTROLS`) makes the arm a negative control, drawn with
  `control_seed` (one draw for all of the run's seeds, which share the environment)."""
  return ml_collections.ConfigDict(
    {
      "grader": grader,  # envs/conversations/mixture.py: make_conversation_env
      "trait_fraction": float(trait_fraction),  # envs/conversations/mixture.py: mixture_weights
      "families": tuple(families),  # envs/conversations/mixture.py: mixture_weights
      "domains": tuple(domains),  # envs/conversations/mixture.py: mixture_weights
      "persona_augment": float(persona_augment),  # envs/conversations/env.py: reset_env
      "objectives": tuple(objectives),  # agents/ppo_loss.py: persistence_loss
      "rubric_control": rubric_control,  # envs/conversations/controls.py: apply_control
      "control_seed": int(control_seed),  # envs/conversations/controls.py: apply_control
    }
  )


def conversation_ppo_run(
  experiment: str,
  i: int,
  data_config: str,
  num_seeds: int,
  network_kwargs: dict,
  full_updates: int = 400,
) -> ml_collections.ConfigDict:
  """PPO on the `conversation` env with a response policy, at scale index `i`
  (0 test, 1 runlocal, 2 full): 1-turn episodes below full scale, up to 3 at full.
  The observation holds exactly `max_turns` turns (`max_turns_capacity`): no
  encoder work on positions no episode can fill."""
  max_turns = (1, 1, 3)[i]
  r = ppo_config()
  r.experiment = experiment
  r.env_name = "conversation"
  # The `conversation` env's kwargs: envs/conversations/mixture.py: make_conversation_env.
  r.env_kwargs = ml_collections.ConfigDict(
    {
      "data_config": data_config,
      "grader": "rubric",
      "response_len": RESPONSE_LEN,
      "max_turns_capacity": max_turns,
      "min_turns": 1,
      "max_turns": max_turns,
      "world_version": VERSION,
    }
  )
  r.network = "response_policy"
  r.network_kwargs = ml_collections.ConfigDict(network_kwargs)
  r.num_seeds = num_seeds
  r.ppo.num_envs = (16, 256, 512)[i]
  r.ppo.num_steps = 4
  r.ppo.total_timesteps = r.ppo.num_envs * r.ppo.num_steps * (2, 40, full_updates)[i]
  r.hparams.gamma = 1.0
  r.hparams.learning_rate = 3e-4
  r.training.updates_per_chunk = (1, 10, 25)[i]
  return r


def base_config(experiment: str, scale: str | None) -> ml_collections.ConfigDict:
  """The shared `trait_rl` config at `scale`; read by pipelines/trait_rl.py: run_trait_rl
  unless a comment names another function."""
  scale = scale or "full"
  if scale not in SCALES:
    raise ValueError(f"{experiment}: get_config arg={scale!r}; allowed: {', '.join(SCALES)}")
  i = SCALES.index(scale)
  data_config = "small" if scale == "test" else "full"
  num_seeds = (2, 4, 8)[i]
  # An order-aware encoder (a causal convolution, `networks.encoders.ConvEncoder`), so
  # that held-out formats (new orders and structures of trained tokens) are really held
  # out. It also pools the system segment (BOS and the persona slot) alone, so that the
  # prior can follow persona directives (see `prior.PERSONA_MODE_FACTORS`).
  network_kwargs = {"encoder": "conv", "d_model": 64, "system_len": 1 + PERSONA_LEN}

  c = ml_collections.ConfigDict()
  c.experiment = experiment
  c.world_version = VERSION
  c.data_config = data_config  # With data_dir: pipelines/trait_rl.py: _splits (evaluation)
  c.data_dir = ""
  # The scenario data's shared phrasing: pipelines/trait_arms.py: surface_overlap.
  c.surface_overlap = ml_collections.FieldReference(None, field_type=float)

  c.prior = imitation_config()  # pipelines/trait_rl.py: _train_prior
  c.prior.num_seeds = num_seeds
  c.prior.network_kwargs.update(network_kwargs)
  c.prior.network_kwargs.max_response_len = RESPONSE_LEN
  c.prior.data.config = data_config
  c.prior.data.world_version = VERSION
  c.prior.imitation.num_steps = (10, 2000, 4000)[i]
  c.prior.imitation.persona_fraction = 0.6
  c.prior.imitation.steps_per_chunk = (10, 100, 200)[i]
  c.prior.imitation.eval_samples = 0
  c.prior.imitation.progress = scale != "test"

  r = conversation_ppo_run(f"{experiment}_arm", i, data_config, num_seeds, network_kwargs)
  r.training.progress = scale != "test"
  # Synchronous checkpoints: no orbax work runs concurrently with the next chunk.
  r.training.async_checkpoints = False
  c.ppo_run = r  # Every arm's PPO run: pipelines/trait_arms.py: arm_config

  c.arms = ml_collections.ConfigDict(  # pipelines/trait_arms.py: arm_config, train_arms
    {"baseline": arm(trait_fraction=0.0), "trait": arm(trait_fraction=TRAIT_FRACTION)}
  )
  c.treatment = "trait"  # treatment ... controls: pipelines/trait_rl.py: _comparisons
  c.baseline = "baseline"
  c.also_compare = ()
  # Negative-control arms (rubric_control != "none"): the treatment is compared with
  # each of them and with the prior, beside the baseline comparison.
  c.controls = ()
  c.reference_rows = False
  # Replies scored by the fixed-reply searches (suite mean, each evaluation, each
  # training reward) and training scenarios per training reward (`evals.reference`).
  c.reference_budgets = ((300, 100, 200), (6000, 4000, 4000), (6000, 4000, 4000))[i]
  c.reference_train_scenarios = (256, 1024, 4096)[i]
  # Share the reference rows with the experiments beside this workdir
  # (`<workdir>/../.reference_cache`, keyed by arguments, data and source code).
  c.reference_cache = True  # pipelines/reference_cache.py

  c.suite = "full"
  c.max_samples = (32, 256, 0)[i]  # 0: each evaluation's own sample count
  c.eval_seed = 0
  c.personas = ()  # pipelines/trait_persistence.py: persona_results
  c.persona_arms = ("baseline", "trait")  # persona_results, pressure_results
  c.pressure_turns = 0  # pressure_*: pipelines/trait_persistence.py: pressure_results
  c.pressure_split = "heldout_domains"
  c.pressure_samples = (32, 512, 2048)[i]
  c.finetune_stages = 0  # finetune_*: pipelines/trait_persistence.py: finetune_results
  c.finetune_updates = (1, 10, 50)[i]
  c.finetune_from = ("prior", "baseline", "trait")
  c.figures = True
  # Comma-separated workdirs of other experiments: a finished prior or arm there with
  # an equal config is copied instead of trained (`pipelines.reuse`).
  c.reuse_from = ""
  # Share the imitated prior with the experiments beside this workdir
  # (`<workdir>/../.prior_cache`, keyed by the prior's config and the source code).
  c.prior_cache = True  # pipelines/trait_rl.py: _train_prior
  # Train the arms (and each fine-tuning stage's start models) as one program vmapped
  # over runs: "auto" = on accelerators only (no faster on a CPU), "on", "off".
  c.batch_runs = "auto"  # training/batched.py: train_together
  return c


ALL_PERSONAS = personas.EVAL_HARMFUL_PERSONA_NAMES + personas.EVAL_HELPFUL_PERSONA_NAMES
