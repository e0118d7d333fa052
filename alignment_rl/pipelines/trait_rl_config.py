"""The shared config of the `trait_rl` experiments (DESIGN section 7) at three scales.

`base_config(experiment, scale)` returns the full ConfigDict that `configs/<name>.py`
adjusts; scales: `test` (seconds, SMALL data, for the test suite), `runlocal` (CPU
minutes), `full` (CPU hours, or minutes on a GPU). Arms are ConfigDicts with the
trait data's `grader`, `trait_fraction` (share of trait conversations in the
mixture; the rest is the standard mixture under the `standard` proxy), and
`families` / `domains` filters of the trait data (empty = all).
"""

from __future__ import annotations

import ml_collections

from alignment_rl.data.generator import VERSION
from alignment_rl.envs.conversations import personas
from alignment_rl.envs.conversations.schema import PERSONA_LEN
from alignment_rl.training.defaults import ppo_config
from alignment_rl.training.imitation import imitation_config

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
  """An arm; `persona_augment` is the share of its episodes that start with a training
  adversarial persona (the adversarial-persona augmentation objective); `objectives`
  are PPO persistence objectives (`agents.persistence.OBJECTIVES`), weighted by the
  run's `hparams` (kl_coef, anchor_coef, tamper_coef, tamper_lr, consistency_coef);
  `rubric_control` (`envs.conversations.controls.CONTROLS`) makes it a negative control,
  drawn with `control_seed` (one permutation or sign pattern for all of the run's
  seeds, which share the environment)."""
  return ml_collections.ConfigDict(
    {
      "grader": grader,
      "trait_fraction": float(trait_fraction),
      "families": tuple(families),
      "domains": tuple(domains),
      "persona_augment": float(persona_augment),
      "objectives": tuple(objectives),
      "rubric_control": rubric_control,
      "control_seed": int(control_seed),
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
  c.data_config = data_config
  c.data_dir = ""
  c.surface_overlap = ml_collections.FieldReference(None, field_type=float)

  c.prior = imitation_config()
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
  c.ppo_run = r

  c.arms = ml_collections.ConfigDict(
    {"baseline": arm(trait_fraction=0.0), "trait": arm(trait_fraction=TRAIT_FRACTION)}
  )
  c.treatment = "trait"
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

  c.suite = "full"
  c.max_samples = (32, 256, 0)[i]  # 0: each evaluation's own sample count
  c.eval_seed = 0
  c.personas = ()
  c.persona_arms = ("baseline", "trait")
  c.pressure_turns = 0
  c.pressure_split = "heldout_domains"
  c.pressure_samples = (32, 512, 2048)[i]
  c.finetune_stages = 0
  c.finetune_updates = (1, 10, 50)[i]
  c.finetune_from = ("prior", "baseline", "trait")
  c.figures = True
  # Comma-separated workdirs of other experiments: a finished prior or arm there with
  # an equal config is copied instead of trained (`pipelines.reuse`).
  c.reuse_from = ""
  # Share the imitated prior with the experiments beside this workdir
  # (`<workdir>/../.prior_cache`, keyed by the prior's config and the source code).
  c.prior_cache = True
  # Train the arms (and each fine-tuning stage's start models) as one program vmapped
  # over runs: "auto" = on accelerators only (no faster on a CPU), "on", "off".
  c.batch_runs = "auto"
  return c


ALL_PERSONAS = personas.EVAL_HARMFUL_PERSONA_NAMES + personas.EVAL_HELPFUL_PERSONA_NAMES
