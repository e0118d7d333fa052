r"""Records every experiment's results, and compares two records: a refactor that
must not change behaviour shows `identical` for every experiment.

  python tools/same_results.py record --out=before.json            # test scale, all
  python tools/same_results.py record --out=main.json --main_job   # main job, runlocal
  python tools/same_results.py compare before.json after.json

`record` launches each registered experiment's config through `experiments.main`
(its `test` scale; cartpole and the two gridworld configs, which have none, at
`runlocal` cut to two updates) in a fresh folder, then reads back every JSON file
it wrote (`summary.json`, `results.json`, `metrics.jsonl`, ...), with the fields
that measure time, name paths or say when a run resumed left out. Everything else
(parameter digests, learning curves, grades, intervals) must be equal bit for bit.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

_TINY_PPO = [
  "--config.ppo.num_envs=4",
  "--config.ppo.num_steps=8",
  "--config.ppo.total_timesteps=64",
  "--config.ppo.update_epochs=1",
  "--config.ppo.num_minibatches=1",
  "--config.training.updates_per_chunk=2",
]
_TINY_GRID = [*_TINY_PPO, "--config.eval.num_streams=2", "--config.eval.episodes_per_stream=2"]

#: name -> (get_config arg, overrides).
EXPERIMENTS = {
  "cartpole_ppo": ("runlocal", _TINY_PPO),
  "gridworlds_baselines": ("runlocal", _TINY_GRID),
  "gridworlds_transfer": ("runlocal", _TINY_GRID),
  **{
    name: ("test", [])
    for name in (
      "conversation_rl",
      "emergent_misalignment",
      "evaluate",
      "generic_helpfulness_control",
      "harmful_finetune",
      "health_only_transfer",
      "long_interaction_pressure",
      "no_health_science",
      "persistence_objectives",
      "persona_persistence",
      "refusal_side_effects",
      "surface_overlap_sweep",
      "trait_rl_vs_baseline",
      "transfer_probe",
    )
  },
}

# Fields that measure wall time, name a folder, or say whether a run resumed.
_VOLATILE = re.compile(r"(time|seconds|_s$|wall|elapsed|date|path|dir|resumed|host|version_jax)")


def _strip(value):
  if isinstance(value, dict):
    return {k: _strip(v) for k, v in value.items() if not _VOLATILE.search(str(k))}
  if isinstance(value, list):
    return [_strip(v) for v in value]
  return value


def read_outputs(workdir: str) -> dict:
  """{relative path: stripped JSON content} of every .json/.jsonl file under workdir."""
  out = {}
  for root, _, files in os.walk(workdir):
    for name in sorted(files):
      path = os.path.join(root, name)
      rel = os.path.relpath(path, workdir)
      if name.endswith(".json"):
        with open(path, encoding="utf-8") as f:
          out[rel] = _strip(json.load(f))
      elif name.endswith(".jsonl"):
        with open(path, encoding="utf-8") as f:
          out[rel] = [_strip(json.loads(line)) for line in f if line.strip()]
  return dict(sorted(out.items()))


def launch(config: str, workdir: str, overrides: list[str]) -> float:
  cmd = [sys.executable, "-m", "experiments.main", f"--config={config}", f"--workdir={workdir}"]
  start = time.time()
  proc = subprocess.run(
    [*cmd, *overrides], cwd=ROOT, capture_output=True, text=True, env={**os.environ}
  )
  if proc.returncode != 0:
    print(f"{config} failed:\n{proc.stderr[-3000:]}", file=sys.stderr)
  return time.time() - start


def config_of(name: str) -> str:
  return os.path.join(ROOT, f"configs/{name}.py:{EXPERIMENTS[name][0]}")


def record(out: str, main_job: bool, only: list[str]) -> None:
  runs = {}
  with tempfile.TemporaryDirectory() as tmp:
    if main_job:
      jobs = {
        "main_job_runlocal": (os.path.join(ROOT, "configs/trait_rl_vs_baseline.py:runlocal"), [])
      }
    else:
      jobs = {
        n: (os.path.join(ROOT, f"configs/{n}.py:{arg}"), ov)
        for n, (arg, ov) in EXPERIMENTS.items()
        if not only or n in only
      }
    for name, (config, overrides) in jobs.items():
      workdir = os.path.join(tmp, name)
      if name == "evaluate":  # It evaluates a finished run: conversation_rl's prior.
        prior = os.path.join(tmp, "conversation_rl", "prior")
        if not os.path.isdir(prior):
          launch(config_of("conversation_rl"), os.path.dirname(prior), [])
        overrides = [*overrides, f"--config.checkpoint=prior={prior}"]
      if name in ("cartpole_ppo", "gridworlds_baselines", "gridworlds_transfer"):
        overrides = [*overrides, "--config.training.progress=False"]
      seconds = launch(config, workdir, overrides)
      runs[name] = read_outputs(workdir)
      print(f"{name}: {len(runs[name])} files, {seconds:.0f} s", flush=True)
      with open(out, "w", encoding="utf-8") as f:  # After each experiment.
        json.dump(runs, f, indent=1, sort_keys=True)


def _diff(a, b, where: str, found: list[str]) -> None:
  if len(found) >= 20:
    return
  if isinstance(a, dict) and isinstance(b, dict):
    for k in sorted(set(a) | set(b)):
      if k not in a or k not in b:
        found.append(f"{where}/{k}: only in {'after' if k not in a else 'before'}")
      else:
        _diff(a[k], b[k], f"{where}/{k}", found)
  elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
    for i, (x, y) in enumerate(zip(a, b, strict=True)):
      _diff(x, y, f"{where}[{i}]", found)
  elif a != b and not (a != a and b != b):  # NaN == NaN here.
    found.append(f"{where}: {str(a)[:80]} != {str(b)[:80]}")


def compare(before: str, after: str) -> int:
  with open(before, encoding="utf-8") as f:
    a = json.load(f)
  with open(after, encoding="utf-8") as f:
    b = json.load(f)
  bad = 0
  for name in sorted(set(a) | set(b)):
    found: list[str] = []
    _diff(a.get(name), b.get(name), name, found)
    files = len(a.get(name) or {})
    print(f"{name}: {'identical' if not found else 'DIFFERENT'} ({files} files)")
    for line in found:
      print(f"  {line}")
    bad += bool(found)
  return 1 if bad else 0


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  sub = parser.add_subparsers(dest="cmd", required=True)
  rec = sub.add_parser("record")
  rec.add_argument("--out", required=True)
  rec.add_argument("--main_job", action="store_true")
  rec.add_argument("--only", nargs="*", default=[])
  cmp_ = sub.add_parser("compare")
  cmp_.add_argument("before")
  cmp_.add_argument("after")
  args = parser.parse_args()
  if args.cmd == "record":
    record(args.out, args.main_job, args.only)
  else:
    sys.exit(compare(args.before, args.after))


if __name__ == "__main__":
  main()
