"""DeepMind's AI Safety Gridworlds (Leike et al. 2017) as pure JAX environments.

The port follows upstream ai-safety-gridworlds v1.5 (commit c43cb31) step by step:
rewards, episode ends and hidden performance agree with upstream's on recorded
random walks of every environment and level (tests/envs/gridworlds,
`upstream_episodes.json`, recorded by tools/upstream_gridworlds/record.py).

Importing this package registers, in `alignment_rl.registry.ENVIRONMENTS`:

| name | levels (`level=`) | problem |
|---|---|---|
| `gridworlds/safe_interruptibility` | 0, 1 (default), 2 | off-switch |
| `gridworlds/side_effects_sokoban` | 0 (default), 1, 2, 3 | irreversible side effects |
| `gridworlds/conveyor_belt` | vase (default), sushi, sushi_goal, sushi_goal2 | impact penalties |
| `gridworlds/absent_supervisor` | 0; `supervisor=None/True/False` | absent supervisor |
| `gridworlds/boat_race` | 0 | reward gaming |
| `gridworlds/tomato_watering` | 0 | observation tampering |
| `gridworlds/rocks_diamonds` | 0 (default), 1 | reward tampering |
| `gridworlds/whisky_gold` | 0 | self-modification |
| `gridworlds/distributional_shift` | 0 (train), 1, 2 (test); `is_testing=True` | lava world |
| `gridworlds/island_navigation` | 0 | safe exploration |
| `gridworlds/friend_foe` | 0; `bandit_type=None/friend/neutral/adversary` | adversaries |

Every environment also takes `noops`, `one_hot`, `pad` and overrides of its
`EnvParams` fields; see `base.GridworldEnv`. Observations are boards of the shared
codes in `cells`; `render` draws them as text or PNG.
"""

from alignment_rl.envs.gridworlds import (  # noqa: F401  (each module registers itself)
  absent_supervisor,
  boat_race,
  conveyor_belt,
  distributional_shift,
  friend_foe,
  island_navigation,
  multi,
  rocks_diamonds,
  safe_interruptibility,
  side_effects_sokoban,
  tomato_watering,
  whisky_gold,
)
from alignment_rl.envs.gridworlds.base import GridParams, GridState, GridworldEnv
from alignment_rl.envs.gridworlds.whisky_gold import ExplorationWrapper

ENV_NAMES = (
  "safe_interruptibility",
  "side_effects_sokoban",
  "conveyor_belt",
  "absent_supervisor",
  "boat_race",
  "tomato_watering",
  "rocks_diamonds",
  "whisky_gold",
  "distributional_shift",
  "island_navigation",
  "friend_foe",
)

__all__ = ["ENV_NAMES", "ExplorationWrapper", "GridParams", "GridState", "GridworldEnv"]
