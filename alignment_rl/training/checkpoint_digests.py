"""Content digests of checkpoint steps: recorded once orbax commits a step, checked
before a step is restored.

A step folder `<workdir>/checkpoints/<step>` is complete when it holds
`content_digest.json`: the `digest.folder_digest` of every other file in the folder,
written atomically (temporary file, then rename) after orbax has committed the step.
`classify` sorts a workdir's steps into good ones, corrupt ones (digest record missing
or unreadable, or not matching the files) and at most one interrupted save: the newest
step, committed by orbax but cut off before its digest was recorded (a later save only
starts once the previous step's digest is recorded, so no older step can lack one).
"""

from __future__ import annotations

import dataclasses
import json
import os

from alignment_rl.training import digest

DIGEST_FILE = "content_digest.json"
_EXCLUDE = (DIGEST_FILE, DIGEST_FILE + ".tmp")


def step_dirs(directory: str) -> list[int]:
  """The committed steps under `directory` (folders named by an integer), newest first."""
  if not os.path.isdir(directory):
    return []
  names = (n for n in os.listdir(directory) if n.isdigit())
  return sorted((int(n) for n in names if os.path.isdir(os.path.join(directory, n))), reverse=True)


def record(step_dir: str, step: int) -> None:
  """Writes the digest record of the committed step folder `step_dir`."""
  record_path = os.path.join(step_dir, DIGEST_FILE)
  text = json.dumps({"step": int(step), "sha256": digest.folder_digest(step_dir, _EXCLUDE)})
  with open(record_path + ".tmp", "w", encoding="utf-8") as f:
    f.write(text + "\n")
    f.flush()
    os.fsync(f.fileno())
  os.replace(record_path + ".tmp", record_path)


def check(step_dir: str, step: int) -> str | None:
  """None if the step folder matches its digest record, else why not (a few words)."""
  record_path = os.path.join(step_dir, DIGEST_FILE)
  if not os.path.exists(record_path):
    return "no content digest"
  try:
    with open(record_path, encoding="utf-8") as f:
      saved = json.load(f)
    expected = saved["sha256"]
    if saved["step"] != step:
      return f"its digest record names step {saved['step']}"
  except (OSError, ValueError, KeyError, TypeError):
    return "unreadable content digest record"
  if digest.folder_digest(step_dir, _EXCLUDE) != expected:
    return "content digest mismatch"
  return None


@dataclasses.dataclass
class Classified:
  """Steps of a checkpoint folder, newest first, checked down to the newest good one."""

  good: int | None  # The newest step that matches its digest.
  corrupt: dict[int, str]  # Newer steps that do not: step -> why.
  interrupted: int | None  # The newest step, if its save was cut off before its digest.


def classify(directory: str) -> Classified:
  """Checks steps from the newest down until one is good (older ones are not read)."""
  steps = step_dirs(directory)
  interrupted = None
  corrupt: dict[int, str] = {}
  for i, step in enumerate(steps):
    why = check(os.path.join(directory, str(step)), step)
    if why is None:
      return Classified(step, corrupt, interrupted)
    if why == "no content digest" and i == 0:
      interrupted = step
    else:
      corrupt[step] = why
  return Classified(None, corrupt, interrupted)
