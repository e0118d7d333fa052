"""The conversation language, the ground floor of the conversation world: vocabulary,
schema, lexicon and personas (and reply tokenization).

Imports nothing heavy (numpy only) and nothing else of the package: `data/`,
`rubrics/`, `envs/` and `evals/` import it, never the reverse.
"""

from alignment_rl.language import lexicon, personas, schema, vocab

__all__ = ["lexicon", "personas", "schema", "vocab"]
