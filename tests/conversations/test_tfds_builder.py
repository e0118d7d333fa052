"""The TFDS builder and loader: builds array_record files and loads them without TF."""

import dataclasses
import hashlib
import sys

import numpy as np
import pytest

from alignment_rl.data import SMALL, generate_split, load_split, make_builder, scenario_config
from alignment_rl.language import schema


def file_digests(builder):
  root = builder.data_path
  return {
    p.name: hashlib.sha256(p.read_bytes()).hexdigest()
    for p in sorted(root.iterdir())
    if ".array_record" in p.name
  }


@pytest.fixture(scope="module")
def built(tmp_path_factory):
  data_dir = tmp_path_factory.mktemp("tfds")
  builder = make_builder("small", str(data_dir))
  builder.download_and_prepare()
  return builder, str(data_dir)


def test_builds_array_record_without_tensorflow(built):
  builder, _ = built
  assert "tensorflow" not in sys.modules
  assert builder.info.file_format.value == "array_record"
  assert set(builder.info.splits) == set(schema.SPLITS)
  assert builder.info.splits["train"].num_examples == SMALL.size("train")


def test_loaded_split_equals_generated_arrays(built, small_splits):
  _, data_dir = built
  for split in ("train", "heldout_formats"):
    loaded = load_split(split, "small", data_dir, cache_stacked=False)
    want = small_splits[split]
    for name, field in schema.FIELDS.items():
      assert loaded[name].dtype == field.dtype, name
      np.testing.assert_array_equal(loaded[name], want[name], err_msg=name)
  assert "tensorflow" not in sys.modules


def test_stacked_cache_roundtrip(built, small_splits):
  _, data_dir = built
  first = load_split("validation", "small", data_dir)
  cached = load_split("validation", "small", data_dir)
  for name in schema.FIELDS:
    np.testing.assert_array_equal(first[name], cached[name])
    np.testing.assert_array_equal(cached[name], small_splits["validation"][name])


def test_rebuild_gives_identical_files(built, tmp_path):
  builder, _ = built
  again = make_builder("small", str(tmp_path))
  again.download_and_prepare()
  assert file_digests(again) == file_digests(builder) != {}


def test_derived_configs_get_their_own_names():
  base = scenario_config("small")
  assert base.name == "small"
  swept = scenario_config("small", surface_overlap=0.0)
  assert swept.name.startswith("small-") and swept.surface_overlap == 0.0
  assert scenario_config("small", surface_overlap=0.0).name == swept.name
  assert scenario_config("small", seed=3).name not in (swept.name, "small")
  assert (
    scenario_config(dataclasses.replace(SMALL, seed=3)).name
    == scenario_config("small", seed=3).name
  )


def test_bad_arguments_are_clear_errors(tmp_path):
  with pytest.raises(ValueError, match="unknown split 'dev'"):
    load_split("dev", "small", str(tmp_path))
  with pytest.raises(ValueError, match="unknown config 'tiny'; known: full, small"):
    load_split("train", "tiny", str(tmp_path))
  with pytest.raises(ValueError, match="unknown GeneratorConfig field"):
    scenario_config("small", overlap=0.1)


def test_custom_config_builds(tmp_path):
  tiny = dataclasses.replace(SMALL, sizes=tuple((s, 26) for s in schema.SPLITS))
  arrays = load_split("test", tiny, str(tmp_path), surface_overlap=0.25)
  want = generate_split(scenario_config(tiny, surface_overlap=0.25), "test")
  for name in schema.FIELDS:
    np.testing.assert_array_equal(arrays[name], want[name])
