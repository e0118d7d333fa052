r"""Gathers a sweep's finished points into one table (`--sweep_report`).

  python -m experiments.main --config=configs/cartpole_ppo.py:runlocal \
      --workdir=runs/cartpole_sweep --sweep_report

Each point of the config's `get_sweep()` ran (`--sweep`, or `--sweep_index=K` on
machines of their own) in `<workdir>/<index>_<overrides>/`, which holds
`sweep.POINT_FILE` (its summary) once it has finished. The report lists every point:
its swept values and the scalar fields of its summary (nested ones dotted) for the
finished points, and which points have not finished (not started, or started and
unfinished: rerun `--sweep_index=K` to resume them). It writes
`<workdir>/sweep_report.md` and `<workdir>/sweep_report.json` and returns the
markdown.
"""

from __future__ import annotations

import json
import math
import os

from experiments import sweep

REPORT_FILES = ("sweep_report.md", "sweep_report.json")


def _scalars(summary: dict) -> dict:
  """The summary's numbers, strings and booleans, nested keys dotted (lists left out:
  the JSON report keeps them)."""
  flat = sweep.flat_fields(summary)
  return {k: v for k, v in flat.items() if isinstance(v, (int, float, str, bool)) or v is None}


def gather(jobs: list, overrides: list[dict]) -> dict:
  """{"points": [...], "finished": n, "unfinished": [names]} of the planned `jobs`
  (`launch_checks.plan`: `(name, config, workdir)`) and their sweep `overrides`."""
  points, unfinished = [], []
  for index, ((name, _, point_dir), swept) in enumerate(zip(jobs, overrides, strict=True)):
    path = os.path.join(point_dir, sweep.POINT_FILE)
    point = {"index": index, "name": name, "workdir": point_dir, "overrides": swept}
    if os.path.isfile(path):
      with open(path, encoding="utf-8") as f:
        point["summary"] = json.load(f)["summary"]
      point["status"] = "finished"
    else:
      point["status"] = "unfinished" if os.path.isdir(point_dir) else "not started"
      unfinished.append(name)
    points.append(point)
  return {"points": points, "finished": len(points) - len(unfinished), "unfinished": unfinished}


def _cell(value) -> str:
  if isinstance(value, float) and math.isfinite(value):
    return f"{value:.6g}"
  return str(value).replace("|", "\\|")


def markdown(report: dict) -> str:
  """The report as a markdown table of finished points and a list of the others."""
  finished = [p for p in report["points"] if p["status"] == "finished"]
  swept = list(dict.fromkeys(k for p in report["points"] for k in p["overrides"]))
  fields = list(dict.fromkeys(k for p in finished for k in _scalars(p["summary"])))
  total = len(report["points"])
  lines = [f"# Sweep: {report['finished']} of {total} points finished", ""]
  if finished:
    header = ["index", "point", *swept, *fields]
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for p in finished:
      values = _scalars(p["summary"])
      row = [p["index"], p["name"], *(p["overrides"].get(k, "") for k in swept)]
      row += [values.get(k, "") for k in fields]
      lines.append("| " + " | ".join(_cell(v) for v in row) + " |")
    lines.append("")
  others = [p for p in report["points"] if p["status"] != "finished"]
  if others:
    lines.append("Not finished (rerun with `--sweep_index=K` to run or resume):")
    lines += [f"- {p['index']}: {p['name']} ({p['status']})" for p in others]
  return "\n".join(lines).rstrip() + "\n"


def write(report: dict, workdir: str) -> str:
  """Writes `REPORT_FILES` into `workdir` (atomically each); returns the markdown."""
  text = markdown(report)
  os.makedirs(workdir, exist_ok=True)
  for name, content in zip(REPORT_FILES, (text, json.dumps(report, indent=2)), strict=True):
    path = os.path.join(workdir, name)
    with open(path + ".tmp", "w", encoding="utf-8") as f:
      f.write(content)
    os.replace(path + ".tmp", path)
  return text
