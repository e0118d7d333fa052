"""Reuse of finished runs across experiments' workdirs.

Many experiments of the trait pipeline share runs: every one starts from the same
imitated prior, and most train the same baseline arm (and several the same trait
arm) with the same seeds. Training is deterministic given its config, so a run whose
config equals a finished run's in another workdir would reproduce it. With
`config.reuse_from` (a list of other experiments' workdirs) the pipeline copies such
a finished run instead of training it again:

* the prior, when that workdir's finished prior has an equal config;
* an arm, when a finished arm of a workdir whose prior was equal has an equal
  trainer config;
* a harmful fine-tuning stage, when that workdir fine-tuned the same start model (the
  same run: the folder itself or a copy of it, `origin`) with an equal stage config.

"Equal" is `checkpointing.config_differences` == []: everything but the runtime
fields, which include the run's label (`experiment`) and `training.init_from` (the
path of the prior, whose content is checked by the first rule). A copy goes to a
temporary folder first and is renamed into place; an existing folder is never
touched. The copy records its source in `reused_from.json`, and the pipeline lists
the sources in `results.json` under `reused`.
"""

from __future__ import annotations

import glob
import json
import os
import shutil

from alignment_rl.training import checkpointing

RECORD = "reused_from.json"


def finished_prior(run_dir: str) -> bool:
  return os.path.exists(os.path.join(run_dir, "summary.json")) and os.path.isdir(
    os.path.join(run_dir, "params")
  )


def finished_arm(run_dir: str) -> bool:
  return os.path.isdir(os.path.join(run_dir, "params"))


def matches(run_dir: str, config_dict: dict, is_finished) -> bool:
  """Whether `run_dir` is a finished run of a config equal to `config_dict`."""
  if not is_finished(run_dir):
    return False
  try:
    with open(os.path.join(run_dir, "config.json"), encoding="utf-8") as f:
      saved = json.load(f)
  except (OSError, ValueError):
    return False
  return not checkpointing.config_differences(saved, json.loads(json.dumps(config_dict)))


def copy_run(source: str, dest: str) -> None:
  """Copies a finished run folder to `dest` (which must not exist) and records it."""
  tmp = dest + ".copying"
  shutil.rmtree(tmp, ignore_errors=True)
  shutil.copytree(source, tmp)
  with open(os.path.join(tmp, RECORD), "w", encoding="utf-8") as f:
    json.dump({"source": os.path.abspath(source)}, f)
  os.replace(tmp, dest)


def reuse_run(dest: str, config_dict: dict, candidates: list[str], is_finished) -> str | None:
  """Copies the first candidate that `matches` into `dest`, if `dest` does not exist
  yet; returns its source folder, or None."""
  if os.path.exists(dest):
    return None
  for source in candidates:
    if matches(source, config_dict, is_finished):
      copy_run(source, dest)
      print(f"reused {source} as {dest} (same config)")
      return source
  return None


def origin(run_dir: str) -> str:
  """The folder where the run in `run_dir` was trained: itself, or the origin of the
  run it was copied from."""
  seen = set()
  run_dir = os.path.abspath(run_dir)
  while run_dir not in seen and os.path.exists(os.path.join(run_dir, RECORD)):
    seen.add(run_dir)
    with open(os.path.join(run_dir, RECORD), encoding="utf-8") as f:
      run_dir = os.path.abspath(json.load(f)["source"])
  return run_dir


def finetune_candidates(start_dir: str, workdirs: list[str]) -> list[str]:
  """The fine-tuning folders (`finetune_<model>`) of `workdirs` whose start model is
  the same run as `start_dir` (the prior or an arm with the same `origin`)."""
  mine = origin(start_dir)
  out = []
  for w in workdirs:
    for run in [os.path.join(w, "prior"), *arm_candidates([w])]:
      model = os.path.basename(run).removeprefix("arm_")
      if os.path.isdir(run) and origin(run) == mine:
        out.append(os.path.join(w, f"finetune_{model}"))
  return out


def reuse_stages(dest: str, stage_config: dict, candidates: list[str], num_stages: int) -> None:
  """Copies each finished, equal `stage_<i>` of the `candidates` (fine-tuning folders of
  the same start model) that `dest` lacks. Every stage has the same config (only its
  `init_from`, a runtime field, differs), so an equal stage i continues equal stages."""
  for i in range(1, num_stages + 1):
    stages = [os.path.join(c, f"stage_{i}") for c in candidates]
    reuse_run(os.path.join(dest, f"stage_{i}"), stage_config, stages, finished_arm)


def arm_candidates(workdirs: list[str]) -> list[str]:
  """The arm folders of `workdirs`, in order."""
  return [d for w in workdirs for d in sorted(glob.glob(os.path.join(w, "arm_*")))]


def sources(workdir: str) -> dict[str, str]:
  """{run folder name: source} of the runs copied into `workdir` (fine-tuning stages
  as `finetune_<model>/stage_<i>`)."""
  out = {}
  for pattern in ("*", os.path.join("finetune_*", "stage_*")):
    for record in sorted(glob.glob(os.path.join(workdir, pattern, RECORD))):
      with open(record, encoding="utf-8") as f:
        out[os.path.relpath(os.path.dirname(record), workdir)] = json.load(f)["source"]
  return out
