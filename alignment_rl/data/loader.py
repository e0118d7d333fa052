"""Load a scenario split as a dict of stacked numpy arrays (building it on first use).

    from alignment_rl.data import load_split
    train = load_split("train")                      # full config, default cache dir
    small = load_split("test", "small", data_dir=tmp)
    sweep = load_split("train", surface_overlap=0.0)  # a derived, separately cached config

The first call for a config builds all splits with TFDS (array_record files under
`<data_dir>/scenario_dataset/<config>/<version>/`); later calls reuse them. Decoding
records one by one is slow in Python, so the stacked arrays of each split are also
cached as `<data_dir>/scenario_dataset_stacked/<config>/<version>/<split>.npz`.
No TensorFlow is needed anywhere.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import hashlib
import os
from pathlib import Path

import numpy as np

from alignment_rl.data import generator
from alignment_rl.language import schema

DEFAULT_DATA_DIR = "~/.cache/alignment_rl/tfds"
_READ_CHUNK = 4096


def scenario_config(
  config: str | generator.GeneratorConfig = "full", **overrides
) -> generator.GeneratorConfig:
  """A `GeneratorConfig` from a name (`full`, `small`) or a config, with field overrides.

  A config that differs from the named one gets the name `<base>-<hash of its fields>`,
  so every distinct dataset is cached under its own TFDS config name.
  """
  if isinstance(config, str):
    if config not in generator.CONFIGS:
      raise ValueError(f"unknown config {config!r}; known: {', '.join(generator.CONFIGS)}")
    config = generator.CONFIGS[config]
  overrides = {k: v for k, v in overrides.items() if v is not None}
  unknown = set(overrides) - {f.name for f in dataclasses.fields(config)}
  if unknown:
    raise ValueError(f"unknown GeneratorConfig field(s) {sorted(unknown)}")
  cfg = dataclasses.replace(config, **overrides)
  base = generator.CONFIGS.get(cfg.name)
  if base is None or cfg != base:
    fields = dataclasses.astuple(dataclasses.replace(cfg, name=""))
    digest = hashlib.sha1(repr(fields).encode()).hexdigest()[:10]
    cfg = dataclasses.replace(cfg, name=f"{cfg.name.split('-')[0]}-{digest}")
  return cfg


def make_builder(
  config: str | generator.GeneratorConfig = "full", data_dir: str | None = None, **overrides
):
  """The TFDS builder of a config (not yet built; call `download_and_prepare()`)."""
  from alignment_rl.data.builder import ScenarioConfig, ScenarioDataset

  cfg = scenario_config(config, **overrides)
  data_dir = os.path.expanduser(data_dir or DEFAULT_DATA_DIR)
  if cfg.name in generator.CONFIGS:
    return ScenarioDataset(config=cfg.name, data_dir=data_dir)
  tfds_config = ScenarioConfig(name=cfg.name, description=repr(cfg), generator=cfg)
  return ScenarioDataset(config=tfds_config, data_dir=data_dir)


def _read_split(builder, split: str) -> dict[str, np.ndarray]:
  from alignment_rl.data.builder import features, unpack

  source = builder.as_data_source(split=split)
  records = []
  for start in range(0, len(source), _READ_CHUNK):
    records += source.__getitems__(list(range(start, min(start + _READ_CHUNK, len(source)))))
  stored = {k: np.stack([r[k] for r in records]) for k in features().keys()}
  return unpack(stored)


def load_split(
  split: str,
  config: str | generator.GeneratorConfig = "full",
  data_dir: str | None = None,
  *,
  seed: int | None = None,
  surface_overlap: float | None = None,
  standard_fraction: float | None = None,
  cache_stacked: bool = True,
) -> dict[str, np.ndarray]:
  """Returns a split as `{field: array[N, *schema.FIELDS[field].shape]}`.

  Args:
    split: one of `schema.SPLITS`.
    config: `"full"`, `"small"` or a `GeneratorConfig`.
    data_dir: cache directory (default `~/.cache/alignment_rl/tfds`).
    seed, surface_overlap, standard_fraction: optional overrides of the config.
    cache_stacked: keep an `.npz` of the stacked arrays next to the TFDS files.

  Returns:
    Stacked int32 arrays in record (`index`) order.
  """
  if split not in schema.SPLITS:
    raise ValueError(f"unknown split {split!r}; known: {', '.join(schema.SPLITS)}")
  builder = make_builder(
    config,
    data_dir,
    seed=seed,
    surface_overlap=surface_overlap,
    standard_fraction=standard_fraction,
  )
  stacked = (
    Path(builder.data_dir_root)
    / "scenario_dataset_stacked"
    / builder.builder_config.name
    / str(builder.version)
    / f"{split}.npz"
  )
  if cache_stacked and stacked.exists():
    return _read_stacked(stacked)
  # One builder at a time per cache folder: processes started together (parallel
  # test workers, a sweep's points) wait for the first to finish and then reuse it.
  with _build_lock(builder.data_dir_root):
    if cache_stacked and stacked.exists():
      return _read_stacked(stacked)
    builder.download_and_prepare()
    arrays = _read_split(builder, split)
    if cache_stacked:
      stacked.parent.mkdir(parents=True, exist_ok=True)
      tmp = stacked.with_name(f".{split}.{os.getpid()}.tmp.npz")
      np.savez_compressed(tmp, **arrays)
      os.replace(tmp, stacked)
  return arrays


def _read_stacked(path: Path) -> dict[str, np.ndarray]:
  with np.load(path) as data:
    return {k: data[k] for k in schema.FIELDS}


@contextlib.contextmanager
def _build_lock(data_dir: str):
  """Holds an exclusive `flock` on `<data_dir>/.build.lock` (released by the OS when
  the holder exits, so a killed build leaves no stale lock)."""
  os.makedirs(data_dir, exist_ok=True)
  with open(os.path.join(data_dir, ".build.lock"), "a") as f:
    fcntl.flock(f, fcntl.LOCK_EX)
    try:
      yield
    finally:
      fcntl.flock(f, fcntl.LOCK_UN)


def world_digest(splits: dict[str, dict[str, np.ndarray]]) -> str:
  """A content hash of loaded splits: sha256 over `VERSION` and, for every split and
  field in sorted order, the field's name, dtype, shape and bytes (first 16 hex
  digits). Recorded in every `results.json`, so a result names the exact world."""
  h = hashlib.sha256(generator.VERSION.encode())
  for name in sorted(splits):
    for field in sorted(splits[name]):
      a = np.ascontiguousarray(splits[name][field])
      h.update(f"{name}/{field}/{a.dtype}/{a.shape}".encode())
      h.update(a.tobytes())
  return h.hexdigest()[:16]


def check_world_version(version: str, where: str) -> None:
  """Raises a one-line ValueError if `version` is not this code's dataset `VERSION`."""
  if str(version) != generator.VERSION:
    raise ValueError(
      f"{where}: world_version={version!r} was made with another conversation world; "
      f"this code generates world_version={generator.VERSION!r} (use a new workdir)"
    )
