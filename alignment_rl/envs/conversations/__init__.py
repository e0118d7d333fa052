"""The conversation world: the environment, its mixture of scenario sets, the user
model, the negative controls and the scripted assistant prior.

The language the world is written in (vocabulary, schema, lexicon, personas) lives
one floor down, in `alignment_rl.language`.
"""
