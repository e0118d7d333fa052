"""Subprocess side of the kill -9 trials (`test_kill_resume.py`).

  python tests/training/kill_trials.py kill SPEC.json   # trains every trial's workdir
  python tests/training/kill_trials.py run SPEC.json    # the same command, no kill

Both modes train the tiny CartPole run (`run_ppo`) into every workdir of the spec,
concurrently (one thread each), with JAX's persistent compilation cache in
`spec["cache"]` so that only the first process compiles. In `kill` mode trial i stops
at its `spec["points"][i] = [event, how]`: its event-th write of run state (a metrics
line, a checkpoint save, a digest record, the final parameters) where `how` is
`"torn"` (part of a metrics line written), `"before"` or `"after"` (a save under way);
once every trial has stopped, the process waits `spec["jitter"]` seconds (saves under
way keep going) and sends itself SIGKILL.
"""

import json
import os
import signal
import sys
import threading
import time

import jax

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)


def tiny_config():
  """The conftest's `small_ppo_config`, with two kept checkpoints."""
  from configs.common import ppo_config

  c = ppo_config()
  c.experiment = "cartpole_ppo"
  c.num_seeds = 2
  c.ppo.num_envs = 8
  c.ppo.num_steps = 16
  c.ppo.total_timesteps = 8 * 16 * 10
  c.training.updates_per_chunk = 2
  c.training.keep_checkpoints = 2
  c.training.progress = False
  return c


_TURN = threading.Lock()
_HOLDS_TURN = threading.local()


def _take_turns() -> None:
  """Orbax keeps process-wide state (operation ids, signals): saves and restores begun
  by several threads at once collide, so the trial threads take turns to begin them
  (as the batched trainer does from one thread); the writes still overlap in orbax's
  background threads."""
  from alignment_rl.training import checkpointing

  def in_turn(real):
    def call(*args, **kwargs):
      with _TURN:
        _HOLDS_TURN.yes = True
        try:
          return real(*args, **kwargs)
        finally:
          _HOLDS_TURN.yes = False

    return call

  for name in ("__init__", "save", "restore", "wait", "close"):
    setattr(checkpointing.Checkpointer, name, in_turn(getattr(checkpointing.Checkpointer, name)))
  for name in ("save_final_params", "load_final_params"):
    setattr(checkpointing, name, in_turn(getattr(checkpointing, name)))


def _install_stops(points: dict, stopped: dict) -> None:
  """Wraps the run-state writers so that trial `workdir` blocks at its stop point."""
  from alignment_rl.training import checkpoint_digests, checkpointing, metrics_writer

  counts = dict.fromkeys(points, 0)
  lock = threading.Lock()

  def reached(workdir: str) -> str | None:
    with lock:
      counts[workdir] += 1
      event, how = points[workdir]
      return how if counts[workdir] == event else None

  def block(workdir: str):
    if getattr(_HOLDS_TURN, "yes", False):  # Stopped for good: let the others go on.
      _HOLDS_TURN.yes = False
      _TURN.release()
    stopped[workdir].set()
    threading.Event().wait()  # Until the process is killed.

  def wrap(owner, name, workdir_of, torn=None):
    real = getattr(owner, name)

    def wrapped(*args, **kwargs):
      workdir = workdir_of(*args)
      how = reached(workdir) if workdir in counts else None
      if how == "torn" and torn is not None:
        torn(*args, **kwargs)
        block(workdir)
      if how in ("before", "torn"):
        block(workdir)
      out = real(*args, **kwargs)
      if how == "after":
        block(workdir)
      return out

    setattr(owner, name, wrapped)

  def torn_line(writer, update, env_steps, metrics):
    with open(writer.path, "a", encoding="utf-8") as f:
      f.write(json.dumps({"update": int(update), "env_steps": int(env_steps)})[:9])

  wrap(metrics_writer.MetricsWriter, "write", lambda w, *a: os.path.dirname(w.path), torn_line)
  wrap(checkpointing.Checkpointer, "save", lambda c, *a: c.workdir)
  wrap(checkpoint_digests, "record", lambda d, *a: os.path.dirname(os.path.dirname(d)))
  wrap(checkpointing, "save_final_params", lambda w, *a: os.path.abspath(w))


def main(mode: str, spec_path: str) -> None:
  with open(spec_path, encoding="utf-8") as f:
    spec = json.load(f)
  jax.config.update("jax_compilation_cache_dir", spec["cache"])
  jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
  jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
  from alignment_rl.training import trainer
  from experiments import runs

  _take_turns()
  config = tiny_config()
  trainer.get_program(config)  # Built once, before the threads.
  workdirs = [os.path.abspath(w) for w in spec["workdirs"]]
  stopped = {w: threading.Event() for w in workdirs}
  if mode == "kill":
    _install_stops(dict(zip(workdirs, map(tuple, spec["points"]), strict=True)), stopped)
  errors = []

  def trial(workdir):
    try:
      runs.run_ppo(config, workdir)
    except BaseException as e:  # noqa: BLE001 - reported below.
      errors.append(f"{workdir}: {type(e).__name__}: {e}")
    stopped[workdir].set()

  threads = [threading.Thread(target=trial, args=(w,), daemon=True) for w in workdirs]
  for t in threads:
    t.start()
  for w in workdirs:
    stopped[w].wait()
  if errors:
    print("\n".join(errors), file=sys.stderr)
    sys.exit(1)
  if mode == "kill":
    time.sleep(spec["jitter"])
    os.kill(os.getpid(), signal.SIGKILL)


if __name__ == "__main__":
  main(sys.argv[1], sys.argv[2])
