"""alignment_rl: RL toward broadly and persistently beneficial traits, in JAX."""

import os as _os

# XLA:CPU's concurrency-optimized scheduler can deadlock (0% CPU, never returns)
# on some of our vmapped training programs with jax 0.10.2: PPO over seeds of a
# one-hot gridworld wedges on its first call, CartPole PPO now and then. Turn it
# off unless the user chose a setting. It has to be process-wide: passed per
# program (`compile(compiler_options={...})`) the option is accepted but the
# compiled program is unchanged. This must happen before JAX creates its CPU
# backend, i.e. on import.
_FLAG = "--xla_cpu_enable_concurrency_optimized_scheduler"
if _FLAG not in _os.environ.get("XLA_FLAGS", ""):
  _os.environ["XLA_FLAGS"] = (_os.environ.get("XLA_FLAGS", "") + f" {_FLAG}=false").strip()

__version__ = "0.1.0"
