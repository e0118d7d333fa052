"""alignment_rl: RL toward broadly and persistently beneficial traits, in JAX."""

__version__ = "0.1.0"
