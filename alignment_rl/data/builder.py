"""TFDS builder of the scenario dataset: array_record files, no download, no TensorFlow.

`ScenarioDataset` is a `tfds.core.GeneratorBasedBuilder` whose examples are the records
of `generator.generate_split`, stored as 6 fixed-shape int32 features (`pack`; the
scalar fields are one vector in schema order, the rubric one [4, C] tensor) and
returned by the loader as the named fields of `schema.FIELDS` (`unpack`). Shuffling is
disabled so that records keep the generator's order.

TensorFlow is never imported: building uses TFDS's numpy example serializer and the
array_record writer, and reading uses `builder.as_data_source(split)` (TFDS's
random-access `ArrayRecordDataSource`, which decodes to numpy). `builder.as_dataset`
would need TensorFlow and is not used; `loader.load_split` is the entry point.

Configs: `full` (default) and `small` (tests); `ScenarioConfig(generator=...)` builds
any other `GeneratorConfig` (`loader.scenario_config` names it by a hash of its fields).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import tensorflow_datasets as tfds

from alignment_rl.data import generator
from alignment_rl.language import schema

FILE_FORMAT = "array_record"


@dataclasses.dataclass(eq=False)
class ScenarioConfig(tfds.core.BuilderConfig):
  """A TFDS builder config wrapping a `generator.GeneratorConfig`."""

  generator: generator.GeneratorConfig = generator.FULL


# Scalar fields are stored together as one int32 vector (in schema order) and the four
# rubric arrays as one int32[4, C] tensor: TFDS's per-feature encode/decode cost is
# Python-level, so 6 features instead of 36 make building and reading ~5x faster.
SCALAR_FIELDS = tuple(k for k, f in schema.FIELDS.items() if f.shape == ())
RUBRIC_FIELDS = ("crit_pred", "crit_arg", "crit_points", "crit_id")
ARRAY_FIELDS = tuple(k for k, f in schema.FIELDS.items() if f.shape and k not in RUBRIC_FIELDS)


def features() -> tfds.features.FeaturesDict:
  """The stored features: the array fields, `rubric: int32[4, C]`, `scalars: int32[S]`."""

  def tensor(shape):
    return tfds.features.Tensor(shape=shape, dtype=np.int32, encoding="bytes")

  spec = {k: tensor(schema.FIELDS[k].shape) for k in ARRAY_FIELDS}
  spec["rubric"] = tensor((len(RUBRIC_FIELDS), schema.MAX_CRITERIA))
  spec["scalars"] = tensor((len(SCALAR_FIELDS),))
  return tfds.features.FeaturesDict(spec)


def pack(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
  """Stacked schema fields -> stacked stored features (leading axis N)."""
  out = {k: np.asarray(arrays[k], np.int32) for k in ARRAY_FIELDS}
  out["rubric"] = np.stack([arrays[k] for k in RUBRIC_FIELDS], axis=1).astype(np.int32)
  out["scalars"] = np.stack([arrays[k] for k in SCALAR_FIELDS], axis=1).astype(np.int32)
  return out


def unpack(stored: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
  """Stacked stored features -> stacked schema fields, in `index` order.

  Raises:
    ValueError: a field whose shape differs from the schema.
  """
  out = {k: stored[k] for k in ARRAY_FIELDS}
  out.update({k: stored["rubric"][:, i] for i, k in enumerate(RUBRIC_FIELDS)})
  out.update({k: stored["scalars"][:, i] for i, k in enumerate(SCALAR_FIELDS)})
  order = np.argsort(out["index"], kind="stable")
  result = {}
  for name, field in schema.FIELDS.items():
    arr = np.ascontiguousarray(out[name][order], dtype=field.dtype)
    if arr.shape[1:] != field.shape:
      raise ValueError(f"field {name!r} has shape {arr.shape[1:]}, schema says {field.shape}")
    result[name] = arr
  return result


class ScenarioDataset(tfds.core.GeneratorBasedBuilder):
  """Scenarios of the conversation world (see `alignment_rl.data.generator`)."""

  VERSION = tfds.core.Version(generator.VERSION)
  RELEASE_NOTES = {
    "1.0.0": "First release: 13 families, 15 domains, 5 splits.",
    "2.0.0": "v2 world: benign twins in every cautious family, coherence criteria, "
    "held-out families, held-out formats with new structures.",
  }
  BUILDER_CONFIGS = [
    ScenarioConfig(name=name, description=f"{cfg.sizes}", generator=cfg)
    for name, cfg in generator.CONFIGS.items()
  ]
  DEFAULT_CONFIG_NAME = "full"

  @tfds.core.utils.classproperty
  @classmethod
  def code_path(cls):
    """No source-relative files (checksums, metadata): nothing is downloaded.

    TFDS's default looks the package up with `importlib_resources`, which is not a
    dependency of this project; returning None skips the checksum lookup.
    """
    return None

  def __init__(self, **kwargs):
    kwargs.setdefault("file_format", FILE_FORMAT)
    super().__init__(**kwargs)

  def _info(self) -> tfds.core.DatasetInfo:
    return tfds.core.DatasetInfo(
      builder=self,
      description="Multi-turn assistant scenarios with hidden latents and rubrics.",
      features=features(),
      disable_shuffling=True,
    )

  def _split_generators(self, dl_manager):
    del dl_manager  # nothing to download
    return {split: self._generate_examples(split) for split in schema.SPLITS}

  def _generate_examples(self, split: str):
    stored = pack(generator.generate_split(self.builder_config.generator, split))
    for i in range(len(stored["scalars"])):
      yield i, {k: v[i] for k, v in stored.items()}
