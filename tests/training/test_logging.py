"""Logging people read: TensorBoard event files without TensorFlow, W&B offline, one
line when a writer is missing, and the suite's scores per category."""

import collections
import glob
import json
import os
import struct
import sys
import types

import numpy as np
import pytest

from alignment_rl.training import metrics_writer, scalar_sinks, trainer

# Tags the PPO loop logs on every update (besides each objective's own term).
TRAINING_TAGS = (
  "episode_return",
  "loss",
  "pg_loss",
  "value_loss",
  "entropy",
  "approx_kl",
  "clip_frac",
  "learning_rate",
  "grad_norm",
)


def _tensorflow_modules() -> list[str]:
  return [m for m in sys.modules if m == "tensorflow" or m.startswith("tensorflow.")]


def _masked_crc(data: bytes) -> int:
  from tensorboardX.crc32c import crc32c

  crc = crc32c(data)
  return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def read_events(path: str) -> list:
  """The `Event` protos of one event file, its TFRecord checksums checked."""
  from tensorboardX.proto import event_pb2

  with open(path, "rb") as f:
    data = f.read()
  events, pos = [], 0
  while pos < len(data):
    header = data[pos : pos + 8]
    (length,) = struct.unpack("<Q", header)
    assert struct.unpack("<I", data[pos + 8 : pos + 12])[0] == _masked_crc(header)
    body = data[pos + 12 : pos + 12 + length]
    assert struct.unpack("<I", data[pos + 12 + length : pos + 16 + length])[0] == _masked_crc(body)
    events.append(event_pb2.Event.FromString(body))
    pos += 16 + length
  return events


def read_scalars(logdir: str) -> dict[str, dict[int, float]]:
  """{tag: {step: value}} of every event file in `logdir`, oldest file first, each
  file's purge marker (a resumed run's) dropping earlier values at its step on, as
  TensorBoard shows them."""
  out: dict[str, dict[int, float]] = collections.defaultdict(dict)
  for path in sorted(glob.glob(os.path.join(logdir, "events.out.tfevents.*"))):
    for ev in read_events(path):
      if ev.HasField("session_log") and ev.session_log.status == ev.session_log.START:
        for values in out.values():
          for step in [s for s in values if s >= ev.step]:
            del values[step]
      for v in ev.summary.value:
        out[v.tag][ev.step] = v.simple_value
  return dict(out)


def test_tensorboard_event_files_without_tensorflow(tmp_path, small_ppo_config, monkeypatch):
  """A CartPole run, interrupted after 4 updates and resumed, with TensorFlow blocked:
  its event files hold every metrics.jsonl value (float32) and the throughput."""
  for name in _tensorflow_modules():
    monkeypatch.delitem(sys.modules, name)
  # `import tensorflow` fails (and `find_spec` finds none) even where it is installed.
  monkeypatch.setitem(sys.modules, "tensorflow", None)
  config = small_ppo_config
  config.training.log_tensorboard = True
  record_chunk = trainer._record_chunk

  def interrupted(run, program, metrics, first, length):
    if first == 4:  # Killed after update 4's checkpoint; the rerun resumes there.
      raise KeyboardInterrupt
    record_chunk(run, program, metrics, first, length)

  monkeypatch.setattr(trainer, "_record_chunk", interrupted)
  with pytest.raises(KeyboardInterrupt):
    trainer.train(config, str(tmp_path))
  monkeypatch.setattr(trainer, "_record_chunk", record_chunk)
  trainer.train(config, str(tmp_path))
  assert _tensorflow_modules() == ["tensorflow"] and sys.modules["tensorflow"] is None

  logdir = str(tmp_path / scalar_sinks.TENSORBOARD_DIR)
  files = sorted(glob.glob(os.path.join(logdir, "events.out.tfevents.*")))
  assert len(files) == 2, files  # One per invocation.
  scalars = read_scalars(logdir)
  records = metrics_writer.read_metrics(str(tmp_path))
  assert [r["update"] for r in records] == list(range(1, 11))
  names = {k for k in records[0] if k not in ("update", "env_steps") and "/per_seed" not in k}
  assert set(TRAINING_TAGS) <= names
  assert names | {scalar_sinks.THROUGHPUT_TAG} == set(scalars)
  for r in records:
    for name in names:
      assert scalars[name][r["update"]] == np.float32(r[name]), (name, r["update"])
  # Throughput from each invocation's second chunk on (the first one compiles).
  throughput = scalars[scalar_sinks.THROUGHPUT_TAG]
  assert sorted(throughput) == [4, 8, 10]
  assert all(v > 0 for v in throughput.values())
  # The resumed invocation's file starts with TensorBoard's purge marker at update 5.
  marker = [e for e in read_events(files[1]) if e.HasField("session_log")]
  assert [(e.step, e.session_log.status) for e in marker] == [(5, marker[0].session_log.START)]
  assert "throughput" not in json.dumps(records)  # Machine-dependent: not in the record.


def test_missing_writers_say_so_in_one_line(tmp_path, monkeypatch, capsys):
  monkeypatch.setitem(sys.modules, "tensorboardX", None)  # Its import fails.
  monkeypatch.setitem(sys.modules, "wandb", None)
  monkeypatch.setattr(scalar_sinks, "_warned", set())
  for _ in range(2):  # Said once per process, not per run.
    writer = metrics_writer.MetricsWriter(str(tmp_path), tensorboard=True, wandb=True)
    writer.write(1, 8, {"loss": np.array([1.0, 3.0])})
    writer.close()
  lines = capsys.readouterr().err.strip().splitlines()
  assert len(lines) == 2, lines
  assert lines[0].startswith("WARNING: training.log_tensorboard=True but tensorboardX")
  assert lines[1].startswith("WARNING: training.wandb=True but wandb is not installed")
  assert all("metrics.jsonl only" in line for line in lines)
  assert not os.path.exists(tmp_path / "tensorboard")
  assert [r["loss"] for r in metrics_writer.read_metrics(str(tmp_path))] == [2.0, 2.0]


def test_wandb_sink_is_offline_by_default(tmp_path, monkeypatch):
  """The calls made to wandb (a stand-in module): offline, one run under the
  workdir, scalars at the update as step."""
  calls = []

  class Run:
    def log(self, data, step):
      calls.append(("log", data, step))

    def finish(self):
      calls.append(("finish",))

  def init(**kw):
    calls.append(("init", kw))
    return Run()

  monkeypatch.setitem(sys.modules, "wandb", types.SimpleNamespace(init=init))
  writer = metrics_writer.MetricsWriter(str(tmp_path), wandb=True, name="cartpole_ppo")
  writer.write(1, 8, {"loss": np.array([1.0, 3.0])})
  writer.write_scalars(1, {scalar_sinks.THROUGHPUT_TAG: 5.0})
  writer.close()
  kind, kw = calls[0]
  assert kind == "init" and kw["mode"] == "offline" and kw["dir"] == str(tmp_path)
  assert kw["name"] == "cartpole_ppo"
  assert calls[1:] == [
    ("log", {"loss": 2.0}, 1),
    ("log", {scalar_sinks.THROUGHPUT_TAG: 5.0}, 1),
    ("finish",),
  ]
  with pytest.raises(ValueError, match=r"training.wandb_mode='cloud'; allowed: offline"):
    metrics_writer.MetricsWriter(str(tmp_path), wandb=True, wandb_mode="cloud")


def test_wandb_offline_run_is_written(tmp_path, monkeypatch):
  pytest.importorskip("wandb")
  monkeypatch.setenv("WANDB_SILENT", "true")
  writer = metrics_writer.MetricsWriter(str(tmp_path), wandb=True, name="cartpole_ppo")
  writer.write(1, 8, {"loss": np.array([1.0, 3.0])})
  writer.close()
  (log,) = glob.glob(str(tmp_path / "wandb" / "offline-run-*" / "run-*.wandb"))
  with open(log, "rb") as f:
    assert b"loss" in f.read()  # The history row (its protobuf holds the key).


def test_suite_scores_per_category(tmp_path):
  rows = [
    {"evaluation": "a", "category": "safety", "arm": "x", "seed": 0, "mean": 0.5},
    {"evaluation": "a", "category": "safety", "arm": "x", "seed": 1, "mean": 1.0},
    {"evaluation": "b", "category": "benefits", "arm": "x", "seed": 0, "mean": 0.25},
    {"evaluation": "c", "category": "benefits", "arm": "x", "seed": 0, "mean": float("nan")},
  ]
  scalars = scalar_sinks.log_suite_scores(str(tmp_path), 7, rows)
  assert scalars == {"suite/benefits": 0.25, "suite/safety": 0.75}
  logdir = str(tmp_path / scalar_sinks.TENSORBOARD_DIR)
  assert read_scalars(logdir) == {"suite/benefits": {7: 0.25}, "suite/safety": {7: 0.75}}
  (path,) = glob.glob(os.path.join(logdir, "events.out.tfevents.*"))
  assert not [e for e in read_events(path) if e.HasField("session_log")]  # Curves kept.
