"""Kill -9 at random points of a run's state writes, then the same command: the final
parameters, metrics and summary are bit-identical to an uninterrupted run's.

Each trial is a workdir of the tiny CartPole run stopped at a seeded random point (its
n-th metrics line, checkpoint save or digest record, or its final parameters; a
metrics line may be left half written; a save may be under way) while the other
trials go on; once all have stopped, the process is killed with SIGKILL after a
seeded random delay (`kill_trials.py`). One process holds all trials (a thread each)
and a second runs the same command in every workdir and in an uninterrupted reference
workdir: the trials of every selected variant (3, and 20 marked slow) share these two
processes (the first compiles into a compilation cache the second loads). The
summaries differ only in `resumed_from`; the metrics files are compared byte for byte.
"""

import json
import os
import random
import signal
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
EVENTS = 21  # Per run: 10 metrics lines, 5 saves, 5 digest records, final parameters.


VARIANTS = {"3_trials": 3, "20_trials": 20}  # The second is marked slow.


def _spawn(mode, spec, folder):
  path = os.path.join(folder, f"{mode}.json")
  with open(path, "w", encoding="utf-8") as f:
    json.dump(spec, f)
  # Every process compiles alike; unoptimised code compiles in about half the time.
  flags = "--xla_backend_optimization_level=0 --xla_llvm_disable_expensive_passes=true"
  env = dict(
    os.environ, JAX_PLATFORMS="cpu", XLA_FLAGS=f"{os.environ.get('XLA_FLAGS', '')} {flags}"
  )
  return subprocess.run(
    [sys.executable, os.path.join(HERE, "kill_trials.py"), mode, path],
    cwd=ROOT,
    env=env,
    capture_output=True,
    text=True,
    timeout=900,
  )


def _read(path):
  with open(path, "rb") as f:
    return f.read()


@pytest.fixture(scope="module")
def killed_and_resumed(request, tmp_path_factory):
  """The trials of every selected variant, killed in one process and resumed (with
  the reference) in a second: {variant: [(workdir, point)]}, and the reference."""
  name = "test_kill_at_random_points_then_resume_is_bit_identical"
  selected = [
    item.callspec.id
    for item in request.session.items
    if item.originalname == name and hasattr(item, "callspec")
  ]
  folder = tmp_path_factory.mktemp("kill_trials")
  rng = random.Random(20)
  trials, workdirs, points = {}, [], []
  for variant in selected:
    for i in range(VARIANTS[variant]):
      workdirs.append(str(folder / f"{variant}_{i}"))
      points.append([rng.randint(1, EVENTS), rng.choice(("torn", "before", "after"))])
      trials.setdefault(variant, []).append((workdirs[-1], points[-1]))
  cache = str(folder / "jax_cache")  # Only the first process compiles.
  spec = {"cache": cache, "workdirs": workdirs, "points": points, "jitter": rng.random() / 20}
  killed = _spawn("kill", spec, str(folder))
  assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
  for w in workdirs:
    assert not os.path.exists(os.path.join(w, "summary.json"))  # Each was cut off.
  reference = str(folder / "uninterrupted")
  again = _spawn("run", dict(spec, workdirs=[reference, *workdirs]), str(folder))
  assert again.returncode == 0, again.stderr[-2000:]
  return trials, reference


@pytest.mark.parametrize(
  "variant",
  ["3_trials", pytest.param("20_trials", marks=pytest.mark.slow)],
)
def test_kill_at_random_points_then_resume_is_bit_identical(killed_and_resumed, variant):
  trials, reference = killed_and_resumed
  assert len(trials[variant]) == VARIANTS[variant]
  ref_summary = json.loads(_read(os.path.join(reference, "summary.json")))
  ref_metrics = _read(os.path.join(reference, "metrics.jsonl"))
  assert len(ref_metrics.splitlines()) == 10
  for workdir, point in trials[variant]:
    summary = json.loads(_read(os.path.join(workdir, "summary.json")))
    resumed_from = summary.pop("resumed_from")
    assert summary == {k: v for k, v in ref_summary.items() if k != "resumed_from"}, point
    assert resumed_from is None or 0 < resumed_from <= 10, point
    assert _read(os.path.join(workdir, "metrics.jsonl")) == ref_metrics, point  # Once each.
