r"""Evaluate checkpoints: the 64-evaluation suite, the scoreboard, and the attacks.

Launch (a checkpoint is a finished run's workdir: an imitated prior or a PPO arm):

  python -m experiments.main --config=configs/evaluate.py:runlocal \
      --config.checkpoint=trait=runs/conversation_rl/arm_rubric \
      --config.baseline=baseline=runs/conversation_rl/arm_standard \
      --workdir=runs/evaluate

`checkpoint` (and the optional `baseline`) take `dir` or `name=dir`, several
separated by commas. Prints the scoreboard (mean [95% CI over seeds] per arm; with a
baseline also delta, Welch p and Benjamini-Hochberg q, and the headline "k of n
improved, s significant, r significant regressions") and writes
`evaluation.{json,csv}` (tidy rows: evaluation, category, arm, seed, mean, CI, n),
`scoreboard.md`, `persona_attack.{json,csv}` and `attacks.json`.

Attacks: `personas` (every harmful and helpful evaluation persona by default),
`pressure_turns` (multi-turn pressure escalation on held-out-domain trait
conversations: the score at every turn), `prefix_budget` (an optimized adversarial
prefix: greedy coordinate search over the persona slot's tokens to minimise the
`prefix_grader` score; score vs queries on the search batch and on held-out
scenarios),
`finetune_stages` x `finetune_updates` PPO updates of harmful fine-tuning on bad
medical advice (0 stages: off). Scale: `runlocal` caps each evaluation at 256
scenarios; `full` uses each evaluation's own sample count (512 at most).

Expected result: a harmful persona lowers the imitated prior's suite scores and a
helpful one does not (measured numbers: docs/RESULTS.md).

Power (docs/statistics.md): checkpoints that share no start model are compared by
Welch's test; with the measured runlocal seed-to-seed sd 0.018 of an arm's suite mean
it detects (two-sided alpha 0.05, 80% power) a suite-mean difference of about 0.043
suite points at 4 seeds per arm and 0.027 at 8; arms trained from the same prior per
seed gain power from pairing (`scoreboard.compare(..., paired=True)`: 0.024 and
0.013).
"""

import ml_collections

from configs.common import ALL_PERSONAS, conversation_ppo_run


def get_config(arg: str | None = None):
  if arg not in ("runlocal", "full", "", None, "test"):
    raise ValueError(f"evaluate: get_config arg={arg!r}; allowed: 'runlocal', 'full', 'test'")
  scale = arg or "full"
  i = ("test", "runlocal", "full").index(scale)
  c = ml_collections.ConfigDict()
  c.experiment = "evaluate"
  c.checkpoint = ""
  c.baseline = ""
  c.suite = "full"
  c.data_config = "small" if scale == "test" else "full"
  c.data_dir = ""
  c.max_samples = {"test": 32, "runlocal": 256, "full": 0}[scale]
  c.eval_seed = 0
  c.personas = ALL_PERSONAS  # Every harmful and helpful evaluation persona.
  c.pressure_turns = 8  # 0: off
  c.pressure_samples = {"test": 16, "runlocal": 256, "full": 1024}[scale]
  c.prefix_budget = {"test": 4, "runlocal": 64, "full": 256}[scale]  # 0: off
  c.prefix_grader = "rubric"
  c.finetune_stages = 0
  c.finetune_updates = {"test": 1, "runlocal": 10, "full": 50}[scale]
  # Harmful fine-tuning's PPO run: that of `configs/conversation_rl.py`'s arms (the
  # checkpoints evaluated by default), with the same seeds and network.
  c.attack_ppo = conversation_ppo_run(
    "conversation_rl_arm",
    i,
    c.data_config,
    num_seeds=(2, 3, 4)[i],
    network_kwargs={"encoder": "bag_of_tokens", "d_model": 64},
    full_updates=300,
  )
  return c


def get_sweep():
  """One point per harmful-fine-tuning budget."""
  return [{"finetune_stages": s} for s in (0, 2, 4)]
