r"""Does a negative control really reward the wrong thing? Measured per trait row.

For a sample of the trait pool's rows (the main job's mixture on one data config), each
row's own best reply is found by the per-scenario oracle search on its own rubric
(`evals.reference.oracle_reply_fn`: greedy, then local search). Under a control, a row
is still rewarded for the right thing when that reply scores at least as much under the
controlled rubric as the controlled rubric's own best reply. Printed per control, beside
a plain random permutation of the same groups (what the controls did before
`controls.VERSION` 2): the share of such rows, the share of rows whose source has the
row's own behaviour class (`controls.behaviour_classes`), and the median over classes of
the share of a class's rows whose rubrics come from its most common source class (the
structure of the draw: about 0.3 for a random permutation within a family).

  python -m experiments.control_check --rows=768
"""

from __future__ import annotations

import argparse
import collections

import numpy as np

from alignment_rl import rubrics  # noqa: F401  (registers the graders)
from alignment_rl.data import load_split
from alignment_rl.envs.conversations import controls
from alignment_rl.envs.conversations.mixture import mixture_weights
from alignment_rl.evals import reference
from alignment_rl.language import schema
from configs.common import TRAIT_FRACTION


def _plain(split: dict, pool: np.ndarray, within: bool, seed: int) -> dict:
  """The split with a uniform random permutation of the graded fields per group."""
  rng, source = np.random.default_rng(seed), np.arange(len(pool))
  groups = np.asarray(split["family"]) if within else np.zeros(len(pool), np.int64)
  for g in np.unique(groups[pool]):
    rows = np.flatnonzero(pool & (groups == g))
    source[rows] = rng.permutation(rows)
  return {**split, **{k: np.asarray(split[k])[source] for k in controls.GRADED_FIELDS}}, source


def _view(data: dict, idx: np.ndarray) -> dict:
  fields = [k for k, f in schema.FIELDS.items() if f.group != "metadata"]
  return {k: np.asarray(data[k])[idx] for k in fields}


def check(data_config: str = "full", num_rows: int = 768, seed: int = 0) -> list[dict]:
  """Rows of the table (module docstring) for both shuffles and their plain versions."""
  split = load_split("train", data_config)
  w, gi, _ = mixture_weights(split, (), (), TRAIT_FRACTION, "rubric", "standard")
  pool = (gi == 0) & (w > 0)
  rng = np.random.default_rng(seed)
  sample = np.sort(rng.choice(np.flatnonzero(pool), min(num_rows, int(pool.sum())), False))
  own = reference.oracle_reply_fn({"train": split})("train", sample)
  classes = controls.behaviour_classes(split)
  out = []
  for control in ("shuffle_within_family", "shuffle_across_families"):
    within = control == "shuffle_within_family"
    plain, plain_source = _plain(split, pool, within, seed)
    controlled, user_row = controls.apply_control(split, pool, control, seed)
    for name, data, source in (
      ("plain permutation", plain, plain_source),
      (f"control v{controls.VERSION}", controlled, user_row.argsort()),
    ):
      best = reference.oracle_reply_fn({"train": data})("train", sample)
      view = _view(data, sample)
      kept = (
        reference.grade_rows("rubric", own, view)
        >= reference.grade_rows("rubric", best, view) - 1e-6
      )
      rows = np.flatnonzero(pool)
      top = []
      for c in np.unique(classes[rows]):
        members = rows[classes[rows] == c]
        if len(members) >= 20:
          counts = collections.Counter(classes[source[members]].tolist())
          top.append(counts.most_common(1)[0][1] / len(members))
      out.append(
        {
          "control": control,
          "draw": name,
          "rows": len(sample),
          "still_optimal": float(kept.mean()),
          "same_class": float(np.mean(classes[source[rows]] == classes[rows])),
          "top_source_share": float(np.median(top)),
        }
      )
  return out


def main(argv=None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--rows", type=int, default=768, help="sampled trait rows (>= 1)")
  parser.add_argument("--data_config", default="full", help="a scenario data config")
  parser.add_argument("--seed", type=int, default=0, help="sample and control seed (>= 0)")
  args = parser.parse_args(argv)
  if args.rows < 1 or args.seed < 0:
    parser.error(f"--rows={args.rows}, --seed={args.seed}: allowed: rows >= 1, seed >= 0")
  print(
    "| control | draw | rows | own best reply still optimal | source of own class "
    "| top source class share |"
  )
  print("|---|---|---:|---:|---:|---:|")
  for r in check(args.data_config, args.rows, args.seed):
    print(
      f"| {r['control']} | {r['draw']} | {r['rows']} | {r['still_optimal']:.1%} | "
      f"{r['same_class']:.1%} | {r['top_source_share']:.2f} |"
    )
  return 0


if __name__ == "__main__":
  raise SystemExit(main())
