"""Jitted PPO loop, sharding, checkpointing, metric logging and the host trainer."""
