"""Step-by-step parity with upstream ai-safety-gridworlds v1.5, replayed from a fixture.

`upstream_episodes.json` holds seeded random walks recorded by running upstream's
own environments (`tools/upstream_gridworlds/record.py`): for every environment
and level/variant, a few rows of 100 actions, with upstream's reward, episode end,
hidden performance (the episode's total so far) and a digest of the board after
every step. Rows reset
when an episode ends, as our rollouts do. Upstream's random draws are forced in
each case (see the recorder's docstring), and the same outcome is forced here with
the case's param overrides, so every step must agree exactly.

Each (environment, options) pair runs in one compiled 64 x 100 rollout, the shape
the other parity tests compile, so in a full run the executables are shared.
"""

from __future__ import annotations

import json
import pathlib
import zlib

import gridworld_testlib as lib
import numpy as np
import pytest

from alignment_rl.envs.gridworlds import ENV_NAMES, engine, render

FIXTURE = pathlib.Path(__file__).with_name("upstream_episodes.json")
DATA = json.loads(FIXTURE.read_text())
DIGITS = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_"


def board_digest(board) -> str:
  """The recorder's two-character digest (12 bits of CRC-32) of a board's text."""
  crc = zlib.crc32(render.to_text(board).encode()) & 0xFFF
  return DIGITS[crc >> 6] + DIGITS[crc & 63]


def _groups():
  groups = {}
  for case in DATA["cases"]:
    key = (case["env"], json.dumps(case["make"], sort_keys=True))
    groups.setdefault(key, []).append(case)
  return groups


GROUPS = _groups()


def test_fixture_covers_every_environment_and_level():
  assert DATA["upstream"].endswith("v1.5") and len(DATA["commit"]) == 40
  assert DATA["steps"] == lib.STEPS
  assert {case["env"] for case in DATA["cases"]} == set(ENV_NAMES)
  for name in ENV_NAMES:
    env, _ = lib.make(name)
    recorded = set()
    for case in DATA["cases"]:
      if case["env"] == name:  # distributional_shift takes its level as a param.
        recorded.add({**case["make"], **case["params"]}.get("level", env.default_level))
    named = {lv for lv in env.levels if not isinstance(lv, int)}  # conveyor_belt's variants
    assert recorded == (named or set(env.levels)), name


@pytest.mark.parametrize("key", list(GROUPS), ids=[f"{e}-{m}" for e, m in GROUPS])
def test_replay_upstream(key):
  name, make = key
  env, params = lib.make(name, **json.loads(make))
  letters = DATA["letters"]
  failures = []
  for case in GROUPS[key]:
    rows = case["rows"]
    acts = np.array([[letters.index(c) for c in row["actions"]] for row in rows], np.int32)
    acts = np.concatenate([acts, np.repeat(acts[:1], lib.BATCH - len(acts), axis=0)])
    out = lib.rollout(env, acts, params=params.replace(**case["params"]))
    for i, row in enumerate(rows):
      want = {
        "reward": np.array(row["reward"], np.float32),
        "done": np.array([c == "1" for c in row["done"]]),
        "performance": np.array(row["performance"], np.float32),
      }
      got = {
        "reward": out["reward"][i],
        "done": out["done"][i],
        "performance": out["episode_performance"][i],
      }
      bad = np.zeros(lib.STEPS, bool)
      for field in want:
        bad |= ~np.isclose(got[field], want[field], atol=1e-4)
      # The board after each step, except where an episode ended (ours shows the
      # next episode's first board there).
      boards = [row["board"][2 * t : 2 * t + 2] for t in range(lib.STEPS)]
      bad |= [
        row["done"][t] == "0" and board_digest(out["obs"][i, t]) != boards[t]
        for t in range(lib.STEPS)
      ]
      if bad.any():
        t = int(bad.argmax())
        diffs = {f: (float(got[f][t]), float(want[f][t])) for f in want}
        diffs["board"] = (board_digest(out["obs"][i, t]), boards[t])
        failures.append(
          f"{case['params']} seed {row['seed']} step {t} after "
          f"{row['actions'][: t + 1]!r}: (ours, upstream) {diffs}"
        )
  assert not failures, "\n".join(failures)


def test_letters_are_the_engine_actions():
  assert [engine.ACTION_LETTERS[c] for c in DATA["letters"]] == list(range(len(DATA["letters"])))
