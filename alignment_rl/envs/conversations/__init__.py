"""The conversation world's data-facing definitions: vocabulary, lexicon, personas, schema.

Imports nothing heavy (numpy only); the environment that runs episodes on top of these
arrays lives elsewhere.
"""

from alignment_rl.envs.conversations import lexicon, personas, schema, vocab

__all__ = ["lexicon", "personas", "schema", "vocab"]
