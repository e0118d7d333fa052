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
    import json, os, sys, time
    import jax
    import numpy as np
    from alignment_rl.training import distributed, trainer
    from configs.common import ppo_config

    out_path, workdir, port, pid, nproc, other_workdir, other_out = sys.argv[1:8]
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
    modes = ("envs", "seeds")
    for mode in modes:
      run_dir = os.path.join(workdir, mode)
      out[mode] = record(trainer.train(config(mode), run_dir))
      mesh = trainer.get_program(config(mode)).mesh
      out[mode]["mesh_processes"] = sorted({d.process_index for d in mesh.devices.flat})
      out[mode]["mesh_size"] = int(mesh.devices.size)
      # Opened again: the finished run restores its last checkpoint (collectively).
      out[mode + "_reopened"] = record(trainer.train(config(mode), run_dir))
    if other_workdir:  # The 2-process run's checkpoints, restored by one process.
      deadline = time.monotonic() + 600
      while not os.path.exists(other_out) and time.monotonic() < deadline:
        time.sleep(0.5)
      for mode in modes:
        run_dir = os.path.join(other_workdir, mode)
        out[mode + "_restored"] = record(trainer.train(config(mode), run_dir))
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


def _start(out_path, workdir, nproc, other_workdir="", other_out=""):
  """Starts a run of `nproc` processes with 4 devices in all (`SCRIPT`)."""
  port = str(_free_port())
  return [
    subprocess.Popen(
      [sys.executable, "-c", SCRIPT, out_path, workdir, port, str(pid), str(nproc)]
      + [other_workdir, other_out],
      cwd=ROOT,
      env=_env(4 // nproc),
      stdout=subprocess.PIPE,
      stderr=subprocess.PIPE,
      text=True,
    )
    for pid in range(nproc)
  ]


def _finish(procs, out_path):
  try:
    results = [p.communicate(timeout=600) for p in procs]
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
  two_out, one_out = str(tmp_path / "two.json"), str(tmp_path / "one.json")
  # At once: the reference restores the 2-process run's checkpoints once it is done.
  two_procs = _start(two_out, two_dir, 2)
  one_procs = _start(one_out, one_dir, 1, other_workdir=two_dir, other_out=two_out)
  two, one = _finish(two_procs, two_out), _finish(one_procs, one_out)
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


def test_launch_values_from_flags_or_environment_bad_ones_one_line():
  from alignment_rl.training import distributed
  from experiments.config_schema import ConfigError

  assert distributed.launch_args(environ={}) == dict.fromkeys(distributed.ENV_VARS)
  env = {"JAX_COORDINATOR_ADDRESS": "10.0.0.1:1234", "JAX_NUM_PROCESSES": "2"}
  assert distributed.launch_args(process_id=1, environ=env) == {
    "coordinator_address": "10.0.0.1:1234",
    "num_processes": 2,
    "process_id": 1,
  }
  distributed.launch_args("h:1", environ={})  # The rest detected (SLURM, TPU).
  for args, env, message in (
    (("localhost", 2, 0), {}, "--coordinator_address: 'localhost' — allowed: host:port of"),
    (("h:1", 0, 0), {}, "--num_processes: 0 — allowed: >= 1"),
    (("h:1", 2, 2), {}, "--process_id: 2 — allowed: 0 to 1 (--num_processes)"),
    (("h:1", None, 0), {}, "--num_processes: None — allowed: given with the other"),
    ((None, 2, 0), {}, "--coordinator_address: None — allowed: host:port of process 0"),
    (("h:1", 2, None), {"JAX_PROCESS_ID": "one"}, "JAX_PROCESS_ID: 'one' — allowed: an integer"),
  ):
    with pytest.raises(ConfigError) as e:
      distributed.launch_args(*args, environ=env)
    assert str(e.value).startswith(message) and "\n" not in str(e.value), str(e.value)
