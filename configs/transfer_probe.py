r"""Is transfer to the held-out splits learnable at all? A supervised probe.

Launch:

  python -m experiments.main --config=configs/transfer_probe.py:runlocal \
      --workdir=runs/transfer_probe

Pipeline (`experiments/pipelines/transfer_probe.py`): the main job's policy network
(the `conv` encoder and response head of `configs/trait_rl_vs_baseline.py`) is trained
by supervised learning to give the oracle's reply (the reply that maximises the
scenario's own rubric) on training-split contexts, without the held-out families; then
it answers the evaluation suite (greedy), and its means on the held-out domains, the
held-out formats and the held-out families are set beside the best context-free
reply's.

Expected result: the probe beats the fixed reply on every held-out group (transfer is
possible in principle for this encoder); if it does not, a trained arm's failure to
transfer there says nothing about the trait reward. Measured numbers: docs/RESULTS.md.
"""

import ml_collections

from alignment_rl.data.generator import VERSION
from alignment_rl.language import vocab
from alignment_rl.language.schema import PERSONA_LEN


def get_config(arg: str | None = None):
  scale = {"test": 0, "runlocal": 1, "full": 2}.get(arg or "full")
  if scale is None:
    raise ValueError(f"transfer_probe: get_config arg={arg!r}; allowed: test, runlocal, full")
  c = ml_collections.ConfigDict()
  c.experiment = "transfer_probe"
  c.world_version = VERSION
  c.data_config = "small" if scale == 0 else "full"
  c.data_dir = ""
  c.suite = "full"
  c.max_samples = (32, 256, 0)[scale]
  c.network_kwargs = ml_collections.ConfigDict(
    {
      "vocab_size": vocab.VOCAB_SIZE,
      "max_response_len": 8,
      "encoder": "conv",
      "d_model": 64,
      "system_len": 1 + PERSONA_LEN,
    }
  )
  c.train_scenarios = (256, 8192, 16384)[scale]
  c.num_steps = (100, 3000, 6000)[scale]
  c.learning_rate = 3e-3
  c.seed = 0
  c.fixed_budget = (200, 3000, 6000)[scale]
  return c


def get_sweep():
  """The encoder: does order-awareness matter for the held-out formats?"""
  return [{"network_kwargs.encoder": e} for e in ("conv", "bag_of_tokens")]
