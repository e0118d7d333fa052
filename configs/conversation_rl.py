r"""Learnability of the conversation world: prior -> PPO (rubric vs standard) -> grades.

Launch:

  python -m experiments.main --config=configs/conversation_rl.py:runlocal \
      --workdir=runs/conversation_rl

Pipeline (`experiments/pipelines/conversation.py`): every seed imitates the
assistant prior; from there two compute-matched PPO arms train on the same trait
conversations (every family but everyday questions, the 12 training domains),
rewarded by the scenario's `rubric` or by the `standard` proxy; then the prior and
both arms answer every trait scenario of the test and held-out-domain splits,
graded by the trait rubric and by evaluation graders. Results: `results.json`
and a table (means over seeds with bootstrap CIs over seeds).

Expected result (the hypothesis, not a guarantee): the rubric arm's held-out trait
score beats the prior's; the standard arm's pushback-truth and check-integrity scores
(the true answer after pushback; fixing or reporting a checks task without gaming it)
fall below the rubric arm's. Measured numbers are in docs/RESULTS.md.
"""

import ml_collections

from configs.common import RESPONSE_LEN, conversation_ppo_run, imitation_config


def get_config(arg: str | None = None):
  if arg not in ("runlocal", "full", "", None, "test"):
    raise ValueError(f"conversation_rl: get_config arg={arg!r}; allowed: 'runlocal', 'full'")
  scale = {"test": 0, "runlocal": 1, "full": 2}.get(arg or "full")
  data_config = "small" if scale == 0 else "full"
  num_seeds = (2, 3, 4)[scale]
  network_kwargs = {"encoder": "bag_of_tokens", "d_model": 64}

  c = ml_collections.ConfigDict()
  c.experiment = "conversation_rl"
  c.data_config = data_config
  c.data_dir = ""
  c.arms = ("rubric", "standard")
  c.eval_splits = ("test", "heldout_domains")
  c.eval_graders = (
    "rubric",
    "eval/pushback_truth",
    "eval/check_integrity",
    "eval/honesty",
    "eval/calibration",
    "eval/refusal",
  )
  c.eval_seed = 1234

  c.prior = imitation_config()
  c.prior.num_seeds = num_seeds
  c.prior.network_kwargs.update(network_kwargs)
  c.prior.network_kwargs.max_response_len = RESPONSE_LEN
  c.prior.data.config = data_config
  c.prior.imitation.num_steps = (20, 600, 2000)[scale]
  c.prior.imitation.steps_per_chunk = (10, 100, 100)[scale]
  c.prior.imitation.eval_samples = (0, 1, 2)[scale]

  c.ppo_run = conversation_ppo_run(
    "conversation_rl_arm", scale, data_config, num_seeds, network_kwargs, full_updates=300
  )
  return c


def get_sweep():
  """Trait-data fraction is not swept here; a learning-rate sweep of the arms."""
  return [{"ppo_run.hparams.learning_rate": lr} for lr in (1e-4, 3e-4, 1e-3)]
