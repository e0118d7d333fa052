"""experiments/control_draws.py: a control averaged over its permutation draws."""

import json

import numpy as np
import pytest

from experiments import control_draws


def _results(trait, control):
  rows = [{"arm": "trait", "evaluation": "x", "seed": s, "mean": m} for s, m in enumerate(trait)]
  rows += [
    {"arm": "control_shuffle_family", "evaluation": "x", "seed": s, "mean": m}
    for s, m in enumerate(control)
  ]
  return {"evaluation": rows}


def test_hand_computed_draw_average(tmp_path, capsys):
  # Draws (0.4, 0.5, 0.6) and (0.6, 0.5, 0.4): the draw mean is 0.5 on every seed, so
  # trait − control = (0.1, 0.2, 0.3): mean 0.2, sd 0.1; sd across draws 0.1414 per seed
  # except the middle one (0): mean 0.0943.
  runs = [_results((0.6, 0.7, 0.8), (0.4, 0.5, 0.6)), _results((0.6, 0.7, 0.8), (0.6, 0.5, 0.4))]
  table = control_draws.control_draws(runs)["control_shuffle_family"]
  assert table["draws"] == pytest.approx([0.5, 0.5])
  assert table["sd_draws"] == pytest.approx(2 * np.sqrt(0.02) / 3)
  assert table["sd_seeds"] == pytest.approx(0.1)
  half = 4.302653 * 0.1 / np.sqrt(3)
  assert table["effect"]["mean_delta"] == pytest.approx(0.2)
  assert table["effect"]["ci_low"] == pytest.approx(0.2 - half, abs=1e-6)
  dirs = []
  for i, r in enumerate(runs):
    d = tmp_path / str(i)
    d.mkdir()
    (d / "results.json").write_text(json.dumps(r))
    dirs.append(str(d))
  assert control_draws.main(dirs) == 0
  assert "| control_shuffle_family | 0.500, 0.500 |" in capsys.readouterr().out
  with pytest.raises(SystemExit):
    control_draws.main([str(tmp_path / "missing")])


def test_control_check_measures_the_controls_against_a_plain_permutation():
  from experiments import control_check

  rows = control_check.check("small", num_rows=48)
  assert [(r["control"], r["draw"].split()[0]) for r in rows] == [
    ("shuffle_within_family", "plain"),
    ("shuffle_within_family", "control"),
    ("shuffle_across_families", "plain"),
    ("shuffle_across_families", "control"),
  ]
  plain, ours = rows[0], rows[1]
  assert ours["same_class"] < 0.02 < plain["same_class"]
  assert ours["still_optimal"] < plain["still_optimal"]
  assert all(0 < r["top_source_share"] < 0.6 for r in rows)
