"""Two processes on localhost (2 fake CPU devices each, Gloo collectives) train as one
process with 4 devices does: same metrics and final parameters, for both `split_over`
modes, and the checkpoints they write restore, in two processes and in one.

Each run is its own Python process, since devices and `jax.distributed` are set
before JAX starts.
"""

import json
import os
import socket
import subprocess
import sys
import textwrap

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODES = ("envs", "seeds")

SCRIPT = textwrap.dedent(
  """
    import json, os, sys
    import jax
    import numpy as np
    from alignment_rl.training import distributed, trainer
    from alignment_rl.training.defaults import ppo_config

    out_path, workdir, port, pid, nproc = sys.argv[1:6]
    if int(nproc) > 1:
      distributed.initialize(f"localhost:{port}", int(nproc), int(pid))
    assert jax.device_count() == 4 and jax.process_count() == int(nproc), jax.devices()

    def config(split_over):
      c = ppo_config()
      c.experiment = "cartpole_ppo"
      c.num_seeds = 4
      c.split_over = split_over
      c.ppo.num_envs = 8
      c.ppo.num_steps = 16
      c.ppo.total_timesteps = 8 * 16 * 6
      c.training.updates_per_chunk = 2
      c.training.keep_checkpoints = 2  # Old steps deleted: orbax's collective delete.
      c.training.progress = False
      return c

    def record(result):
      return {
        "history": [{k: float(v) for k, v in h.items()} for h in result.history],
        "params": [np.asarray(x).tolist() for x in jax.tree.leaves(result.runner.ppo.params)],
        "resumed_from": result.resumed_from,
      }

    out = {}
    for mode in ("envs", "seeds"):
      run_dir = os.path.join(workdir, mode)
      out[mode] = record(trainer.train(config(mode), run_dir))
      mesh = trainer.get_program(config(mode)).mesh
      out[mode]["mesh_processes"] = sorted({d.process_index for d in mesh.devices.flat})
      out[mode]["mesh_size"] = int(mesh.devices.size)
      # Opened again: the finished run restores its last checkpoint (collectively).
      out[mode + "_reopened"] = record(trainer.train(config(mode), run_dir))
      if int(nproc) == 1:  # The 2-process run's checkpoint, restored by one process.
        out[mode + "_restored"] = record(trainer.train(config(mode), sys.argv[6] + "/" + mode))
    if distributed.is_primary():
      with open(out_path, "w") as f:
        json.dump(out, f)
    """
)


def _free_port() -> int:
  with socket.socket() as s:
    s.bind(("localhost", 0))
    return s.getsockname()[1]


def _env(devices: int) -> dict:
  env = dict(os.environ, JAX_PLATFORMS="cpu", JAX_NUM_CPU_DEVICES=str(devices))
  env.pop("XLA_FLAGS", None)
  env["PYTHONPATH"] = os.pathsep.join([ROOT, env.get("PYTHONPATH", "")])
  return env


def _launch(out_path, workdir, nproc, other_workdir=""):
  port = str(_free_port())
  args = [out_path, workdir, port]
  procs = [
    subprocess.Popen(
      [sys.executable, "-c", SCRIPT, *args, str(pid), str(nproc), other_workdir],
      cwd=ROOT,
      env=_env(4 // nproc),
      stdout=subprocess.PIPE,
      stderr=subprocess.PIPE,
      text=True,
    )
    for pid in range(nproc)
  ]
  try:
    results = [p.communicate(timeout=300) for p in procs]
  finally:
    for p in procs:
      if p.poll() is None:
        p.kill()
  for pid, (p, (_, err)) in enumerate(zip(procs, results, strict=True)):
    assert p.returncode == 0, f"process {pid}: {err[-3000:]}"
  with open(out_path) as f:
    return json.load(f)


def _max_diff(a: dict, b: dict) -> tuple[float, float]:
  """(metrics, params): the largest absolute difference between two runs."""
  assert len(a["history"]) == len(b["history"]) == 6
  metrics = max(
    abs(x[k] - y[k]) for x, y in zip(a["history"], b["history"], strict=True) for k in x
  )
  params = max(
    float(np.max(np.abs(np.asarray(p) - np.asarray(q))))
    for p, q in zip(a["params"], b["params"], strict=True)
  )
  return metrics, params


def test_two_processes_match_one_process_with_four_devices(tmp_path):
  two_dir, one_dir = str(tmp_path / "two"), str(tmp_path / "one")
  two = _launch(str(tmp_path / "two.json"), two_dir, 2)
  one = _launch(str(tmp_path / "one.json"), one_dir, 1, other_workdir=two_dir)
  for mode in MODES:
    metrics, params = _max_diff(one[mode], two[mode])
    print(f"split_over={mode}: max |diff| metrics {metrics:.3g}, params {params:.3g}")
    assert metrics <= 1e-5 and params <= 1e-5, (mode, metrics, params)
    assert two[mode]["mesh_processes"] == [0, 1] and one[mode]["mesh_processes"] == [0]
    assert two[mode]["mesh_size"] == one[mode]["mesh_size"] == 4
    assert two[mode]["resumed_from"] is None
    # Reopened by both processes, and restored by one: the checkpoint of update 6.
    for restored in (two[mode + "_reopened"], one[mode + "_restored"]):
      assert restored["resumed_from"] == 6
      assert restored["params"] == two[mode]["params"]
    assert sorted(os.listdir(os.path.join(two_dir, mode, "checkpoints"))) == ["4", "6"]
    with open(os.path.join(two_dir, mode, "metrics.jsonl")) as f:
      assert [json.loads(line)["update"] for line in f] == [1, 2, 3, 4, 5, 6]  # Once each.


def test_bad_launch_values_are_one_line_errors():
  from alignment_rl.config_schema import ConfigError
  from alignment_rl.training import distributed

  distributed.check_args(None, None, None)  # Detected by JAX (SLURM, Open MPI, TPU).
  distributed.check_args("10.0.0.1:1234", 2, 1)
  for args, message in (
    (("localhost", 2, 0), "--coordinator_address: 'localhost' — allowed: host:port of process 0"),
    (("h:1", 0, 0), "--num_processes: 0 — allowed: >= 1"),
    (("h:1", 2, 2), "--process_id: 2 — allowed: 0 to 1 (--num_processes)"),
    (("h:1", None, 0), "--num_processes: None — allowed: given with the other two launch"),
  ):
    with pytest.raises(ConfigError) as e:
      distributed.check_args(*args)
    assert str(e.value).startswith(message) and "\n" not in str(e.value)
