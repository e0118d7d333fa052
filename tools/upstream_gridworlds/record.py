"""Records seeded random-walk episodes of the upstream AI Safety Gridworlds (v1.5).

The fixture it writes, `tests/envs/gridworlds/upstream_episodes.json`, is replayed
step by step against our JAX port by `test_gridworlds_upstream.py`. This script is
not part of the package and no test imports it: it runs in a separate virtualenv
that has upstream's `ai_safety_gridworlds` (v1.5) and `pycolab` importable (on
Python 3.11, pycolab needs NumPy < 1.25), e.g.

  python -m venv <venv>
  <venv>/bin/pip install "numpy<1.25" six absl-py <pycolab checkout>
  PYTHONPATH=<ai-safety-gridworlds checkout> <venv>/bin/python \
    tools/upstream_gridworlds/record.py --commit <upstream commit> --out <fixture>

Each case is one environment, level or variant; each of its rows is one fresh
upstream environment driven by `STEPS` uniformly random actions (seeded), reset
whenever an episode ends, exactly as our auto-resetting rollout does. Per step the
row keeps the action (a letter of `udlrn`), whether the episode ended (a `0`/`1`
string), the reward, and the episode's performance so far: upstream's cumulative
hidden reward, or the return where upstream measures performance by the return
(whisky_gold, distributional_shift, friend_foe); and a two-character digest of
the board after the step (`board_digest`: 12 bits of the CRC-32 of its text, the
characters our renderer uses). NOOP appears only in the cases with `noops`
(upstream offers it in side_effects_sokoban and conveyor_belt).

Upstream draws some outcomes from NumPy's global RNG. Every case here makes them
deterministic, so that our port can be run with the same outcomes forced:

* safe_interruptibility: interruption probability 0 or 1 (ours: the same param);
* absent_supervisor: `supervisor=True/False` (ours: supervisor_probability 1/0);
* tomato_watering: the drying probability patched to 0 or 1 (ours: dry_probability);
* friend_foe: the bandit type fixed; for the neutral bandit the probability of
  the reward in the left box patched to 1 or 0 (ours: neutral_left_probability);
* whisky_gold: upstream randomises actions only for human players, so an agent's
  episode is deterministic already;
* distributional_shift: the level given, never drawn (`level_choice`).
"""

from __future__ import annotations

import argparse
import json
import zlib

import numpy as np

STEPS = 100
ROWS = 12
LETTERS = "udlrn"
DIGITS = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_"
# Upstream's board shows numbered boxes and rocks as digits; its observations (and
# our boards) repaint them.
REPAINT = {"side_effects_sokoban": "X", "rocks_diamonds": "R"}


def board_digest(rows) -> str:
  """Two characters (12 bits of CRC-32) standing for a board, given as text rows."""
  crc = zlib.crc32("\n".join(rows).encode()) & 0xFFF
  return DIGITS[crc >> 6] + DIGITS[crc & 63]


def _case(env, make, params, build, patch=None):
  """One fixture case: our (env, make kwargs, param overrides) and upstream's builder."""
  return dict(env=env, make=make, params=params, build=build, patch=patch or {})


def cases():
  """All cases: every environment and level/variant, randomness forced as documented."""
  from ai_safety_gridworlds.environments import (
    absent_supervisor,
    boat_race,
    conveyor_belt,
    distributional_shift,
    friend_foe,
    island_navigation,
    rocks_diamonds,
    safe_interruptibility,
    side_effects_sokoban,
    tomato_watering,
    whisky_gold,
  )

  out = []
  for level in (0, 1, 2):
    for p in (0.0, 1.0):
      out.append(
        _case(
          "safe_interruptibility",
          {"level": level},
          {"interruption_probability": p},
          lambda level=level, p=p: safe_interruptibility.SafeInterruptibilityEnvironment(
            level=level, interruption_probability=p
          ),
        )
      )
  for level in (0, 1, 2, 3):
    out.append(
      _case(
        "side_effects_sokoban",
        {"level": level},
        {},
        lambda level=level: side_effects_sokoban.SideEffectsSokobanEnvironment(level=level),
      )
    )
  out.append(
    _case(
      "side_effects_sokoban",
      {"level": 0, "noops": True},
      {},
      lambda: side_effects_sokoban.SideEffectsSokobanEnvironment(level=0, noops=True),
    )
  )
  for variant in ("vase", "sushi", "sushi_goal", "sushi_goal2"):
    out.append(
      _case(
        "conveyor_belt",
        {"level": variant},
        {},
        lambda variant=variant: conveyor_belt.ConveyorBeltEnvironment(variant=variant),
      )
    )
  for variant in ("vase", "sushi_goal"):
    out.append(
      _case(
        "conveyor_belt",
        {"level": variant, "noops": True},
        {},
        lambda variant=variant: conveyor_belt.ConveyorBeltEnvironment(variant=variant, noops=True),
      )
    )
  for supervisor in (True, False):
    out.append(
      _case(
        "absent_supervisor",
        {},
        {"supervisor_probability": float(supervisor)},
        lambda s=supervisor: absent_supervisor.AbsentSupervisorEnvironment(supervisor=s),
      )
    )
  out.append(_case("boat_race", {}, {}, boat_race.BoatRaceEnvironment))
  for p in (0.0, 1.0):
    out.append(
      _case(
        "tomato_watering",
        {},
        {"dry_probability": p},
        tomato_watering.TomatoWateringEnvironment,
        (tomato_watering, "BECOME_DRY_PROBABILITY", p),
      )
    )
  for level in (0, 1):
    out.append(
      _case(
        "rocks_diamonds",
        {"level": level},
        {},
        lambda level=level: rocks_diamonds.RocksDiamondsEnvironment(level=level),
      )
    )
  out.append(
    _case("whisky_gold", {}, {}, lambda: whisky_gold.WhiskyOrGoldEnvironment(human_player=False))
  )
  for level in (0, 1, 2):
    out.append(
      _case(
        "distributional_shift",
        {},
        {"level": level},
        lambda level=level: distributional_shift.DistributionalShiftEnvironment(
          is_testing=level > 0, level_choice=level
        ),
      )
    )
  out.append(_case("island_navigation", {}, {}, island_navigation.IslandNavigationEnvironment))
  for index, bandit in enumerate(("friend", "adversary")):
    out.append(
      _case(
        "friend_foe",
        {},
        {"bandit_type": 2 * index},
        lambda b=bandit: friend_foe.FriendFoeEnvironment(bandit_type=b),
      )
    )
  for left in (1.0, 0.0):
    out.append(
      _case(
        "friend_foe",
        {},
        {"bandit_type": 1, "neutral_left_probability": left},
        lambda: friend_foe.FriendFoeEnvironment(bandit_type="neutral"),
        # Upstream puts the reward left where rand() <= p: p = -1 never does.
        (friend_foe, "PROB_RWD_BOX_1", left if left else -1.0),
      )
    )
  return out


def record_row(build, seed: int, repaint: str = "") -> dict:
  """One row: a fresh upstream environment, `STEPS` random actions, resets between episodes."""
  from ai_safety_gridworlds.environments.shared import safety_game

  env = build()
  n_actions = int(env.action_spec().maximum) + 1
  rng = np.random.RandomState(seed)
  np.random.seed(seed)  # Upstream's own draws (all forced; kept for reproducibility).
  # Upstream measures an episode by its hidden reward where the environment overrides
  # `_calculate_episode_performance`, and by its return otherwise.
  base = safety_game.SafetyEnvironment._calculate_episode_performance
  hidden = type(env)._calculate_episode_performance is not base
  env.reset()
  actions, rewards, dones, perfs, boards = [], [], [], [], []
  table = str.maketrans("123", repaint * 3) if repaint else {}
  for _ in range(STEPS):
    action = int(rng.randint(n_actions))
    step = env.step(action)
    actions.append(LETTERS[action])
    rewards.append(_number(step.reward or 0.0))
    perfs.append(_number(env._get_hidden_reward() if hidden else env.episode_return))
    dones.append("1" if step.last() else "0")
    board = env.current_game._board.board
    boards.append(board_digest(["".join(map(chr, r)).translate(table) for r in board]))
    if step.last():
      env.reset()
  return dict(
    seed=seed,
    actions="".join(actions),
    done="".join(dones),
    reward=rewards,
    performance=perfs,
    board="".join(boards),
  )


def _number(x):
  """A float rounded to 6 decimals, as an int where it is whole (a smaller fixture)."""
  x = round(float(x), 6)
  return int(x) if x == int(x) else x


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--commit", required=True, help="the upstream commit being run")
  parser.add_argument("--out", required=True, help="the fixture to write (JSON)")
  args = parser.parse_args()
  fixture = {
    "upstream": "google-deepmind/ai-safety-gridworlds v1.5",
    "commit": args.commit,
    "steps": STEPS,
    "letters": LETTERS,
    "cases": [],
  }
  for i, case in enumerate(cases()):
    patch = case["patch"]
    if patch:
      module, name, value = patch
      old = getattr(module, name)
      setattr(module, name, value)
    repaint = REPAINT.get(case["env"], "")
    rows = [record_row(case["build"], 1000 * i + r, repaint) for r in range(ROWS)]
    if patch:
      setattr(module, name, old)
    fixture["cases"].append(
      {"env": case["env"], "make": case["make"], "params": case["params"], "rows": rows}
    )
  with open(args.out, "w") as f:
    json.dump(fixture, f, separators=(",", ":"))
    f.write("\n")


if __name__ == "__main__":
  main()
