"""The cell-code vocabulary shared by all eleven gridworlds.

Every board, in every environment, is an int32 array of these codes, so that one
policy (an embedding or a one-hot over `NUM_CODES`) can read all of them; with the
padded 10x10 option the shapes agree as well. A code names a *meaning* (button,
water, lava, ...), not a character: the upstream reuses characters across
environments (`W` is whisky in whisky_gold and water in island_navigation, `O` a
vase or the observation transformer, `P` the punishment tile or the rock switch),
so each meaning gets its own code and `CHARS[code]` gives the character the
upstream map uses for it. Codes are stable: append new ones at the end.
"""

from __future__ import annotations

import numpy as np

FLOOR = 0
WALL = 1
AGENT = 2
GOAL = 3  # Terminal goal tile.
INTERRUPTION = 4  # safe_interruptibility.
BUTTON = 5  # safe_interruptibility; the top row repainted when pressed.
BOX = 6  # side_effects_sokoban (boxes X, 1, 2, 3).
COIN = 7  # side_effects_sokoban.
BELT_OBJECT = 8  # conveyor_belt: the vase or the sushi.
BELT = 9  # conveyor_belt: the belt's cells before its (blank) end, drawn `>` as upstream does.
BELT_OBJECT_ENDED = 10  # conveyor_belt: broken vase or eaten sushi.
SUPERVISOR = 11  # absent_supervisor.
PUNISHMENT = 12  # absent_supervisor.
ARROW_UP = 13  # boat_race checkpoints.
ARROW_RIGHT = 14
ARROW_DOWN = 15
ARROW_LEFT = 16
TOMATO_WATERED = 17  # tomato_watering.
TOMATO_DRY = 18
TRANSFORMER = 19  # tomato_watering: the observation transformer.
ROCK = 20  # rocks_diamonds.
DIAMOND = 21
GOAL_AREA = 22  # rocks_diamonds: non-terminal goal area.
ROCK_SWITCH_HIGH = 23
ROCK_SWITCH_LOW = 24
DIAMOND_SWITCH_HIGH = 25
DIAMOND_SWITCH_LOW = 26
WHISKY = 27  # whisky_gold; the top row repainted once drunk.
LAVA = 28  # distributional_shift.
WATER = 29  # island_navigation.
FRIEND_FLOOR = 30  # friend_foe: the floor shows the bandit's type.
NEUTRAL_FLOOR = 31
ADVERSARY_FLOOR = 32
BANDIT_BOX = 33  # friend_foe: a closed box, as the agent sees it.
REWARD_BOX = 34  # friend_foe: the rewarded box (only in revealed views).
EMPTY_BOX = 35  # friend_foe: the empty box (only in revealed views).
PAD = 36  # Outside the map, in the padded board.

NUM_CODES = 37

# Side of the padded board: every map fits in 10 x 10.
PADDED_SIZE = 10

# code -> the character upstream's board shows for it (`.` for padding).
CHARS: tuple[str, ...] = (
    " ", "#", "A", "G", "I", "B", "X", "C", "O", ">", ":", "S", "P", "^", ">", "v", "<",
    "T", "t", "O", "R", "D", "G", "P", "p", "Q", "q", "W", "L", "W", "F", "N", "B", "*",
    "1", "0", ".",
)  # fmt: skip

NAMES: tuple[str, ...] = (
    "floor", "wall", "agent", "goal", "interruption", "button", "box", "coin",
    "belt_object", "belt", "belt_object_ended", "supervisor", "punishment",
    "arrow_up", "arrow_right", "arrow_down", "arrow_left", "tomato_watered", "tomato_dry",
    "transformer", "rock", "diamond", "goal_area", "rock_switch_high", "rock_switch_low",
    "diamond_switch_high", "diamond_switch_low", "whisky", "lava", "water", "friend_floor",
    "neutral_floor", "adversary_floor", "bandit_box", "reward_box", "empty_box", "pad",
)  # fmt: skip

# code -> RGB colour in [0, 1] for the PNG renderer.
COLOURS = np.array(
    [
        (0.86, 0.86, 0.86), (0.60, 0.60, 0.60), (0.00, 0.71, 0.84), (0.53, 0.85, 0.27),
        (0.80, 0.40, 0.80), (0.90, 0.50, 0.20), (0.60, 0.40, 0.20), (1.00, 0.84, 0.00),
        (0.00, 0.43, 0.82), (0.40, 0.40, 0.40), (0.30, 0.10, 0.10), (1.00, 0.43, 0.43),
        (0.85, 0.20, 0.20), (0.93, 0.93, 0.50), (0.93, 0.93, 0.50), (0.93, 0.93, 0.50),
        (0.93, 0.93, 0.50), (0.20, 0.60, 0.20), (0.80, 0.70, 0.40), (0.10, 0.10, 0.50),
        (0.45, 0.45, 0.45), (0.55, 0.95, 0.95), (0.70, 0.90, 0.60), (0.90, 0.30, 0.30),
        (0.50, 0.20, 0.20), (0.20, 0.70, 0.90), (0.10, 0.35, 0.45), (0.75, 0.55, 0.10),
        (0.95, 0.30, 0.00), (0.15, 0.40, 0.90), (0.75, 0.95, 0.75), (0.95, 0.95, 0.75),
        (0.95, 0.75, 0.75), (0.55, 0.35, 0.15), (1.00, 0.84, 0.00), (0.55, 0.35, 0.15),
        (1.00, 1.00, 1.00),
    ],
    np.float32,
)  # fmt: skip

assert len(CHARS) == len(NAMES) == len(COLOURS) == NUM_CODES
