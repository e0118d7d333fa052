"""Bad input fails before any work: non-zero exit, `field: value — allowed: ...` in at
most 3 lines of stderr, no traceback, and not one byte of the workdir changed.

One table; most cases run in-process through the launcher's own `plan` (which calls
`config_schema.validate` on the config and every sweep point), its `check_overrides`
and `check_devices`, `figures.main`, the viewer's `main`, and the trainer's first
reads of an earlier run (checkpoint digests, metrics.jsonl); `CLI` cases run the real
command line (kept few: JAX start-up is slow). Each case builds its input in a
folder that also holds an earlier run, and the whole folder is hashed before and
after.
"""

from __future__ import annotations

import contextlib
import io
import os

import pytest
from bad_inputs_helpers import (
  CART,
  TRAIT,
  a_file,
  arm,
  arms,
  bad_config_file,
  cfg,
  config,
  devices,
  drop_digest,
  earlier_run,
  figures_cli,
  flip_byte,
  in_workdir,
  open_checkpoints,
  overrides,
  point_file,
  prepared,
  read_metrics_file,
  run_command,
  sweep_points,
  swept,
  tree_digest,
  under_file,
  viewer,
  write,
)

from experiments import main as launcher
from experiments.config_schema import ConfigError

CLI = "cli"
# fmt: off
CASES = [
  # --- config files --------------------------------------------------------------------
  ("config_file", "missing_file", overrides("--config=configs/nope.py"), "--config"),
  ("config_file", "bad_arg", overrides("--config=configs/cartpole_ppo.py:huge"), "--config"),
  ("config_file", "bad_arg_trait", overrides("--config=configs/trait_rl_vs_baseline.py:xl"),
   "--config"),
  ("config_file", "syntax_error", bad_config_file("def get_config(:\n"), "--config"),
  ("config_file", "no_get_config", bad_config_file("X = 1\n"), "--config"),
  ("config_file", "raises", bad_config_file(
    "def get_config(arg=None):\n  raise RuntimeError('boom')\n"), "--config"),
  ("config_file", "is_a_folder", lambda d: launcher.check_overrides(
    ["main.py", f"--config={d}"]), "--config"),
  ("config_file", "no_experiment_field", lambda d: launcher.plan(
    config().__class__({"seed": 0}), earlier_run(d)), "experiment"),
  ("config_file", "undeclared_field", lambda d: launcher.plan(
    config(ppo__new_knob=3), earlier_run(d)), "ppo.new_knob"),
  (CLI, "cli_missing_file", ["experiments.main", "--config=configs/missing.py"], "--config"),
  # --- flags and overrides -------------------------------------------------------------
  ("flags", "unknown_override", overrides(f"--config={CART}", "--config.ppo.nope=1"),
   "--config.ppo.nope"),
  ("flags", "unknown_group", overrides(f"--config={CART}", "--config.ppox.a=1"),
   "--config.ppox.a"),
  ("flags", "override_below_leaf", overrides(f"--config={CART}", "--config.seed.x=1"),
   "--config.seed.x"),
  ("flags", "sweep_point_out_of_range", swept([{"hparams.learning_rate": -1.0}]),
   "hparams.learning_rate"),
  ("flags", "sweep_unknown_field", swept([{"hparams.lr": 1.0}]), "--sweep"),
  ("flags", "sweep_empty", swept([]), "--sweep"),
  ("flags", "sweep_trait_fraction", swept(
    [{"arms.trait.trait_fraction": 0.05}, {"arms.trait.trait_fraction": 1.5}], TRAIT, "test"),
   "arms.trait.trait_fraction"),
  (CLI, "cli_malformed_value", ["experiments.main", f"--config={CART}",
                                "--config.ppo.num_envs=abc"], "num_envs"),
  (CLI, "cli_unknown_flag", ["experiments.main", f"--config={CART}", "--workdirr=x"],
   "workdirr"),
  (CLI, "cli_positional", ["experiments.main", f"--config={CART}", "extra"], "arguments"),
  (CLI, "cli_unknown_override", ["experiments.main", f"--config={CART}",
                                 "--config.ppo.nope=1"], "--config.ppo.nope"),
  # --- values and ranges ---------------------------------------------------------------
  ("values", "num_seeds_0", cfg(num_seeds=0), "num_seeds"),
  ("values", "keep_checkpoints_0", cfg(training__keep_checkpoints=0),
   "training.keep_checkpoints"),
  ("values", "learning_rate_negative", cfg(hparams__learning_rate=-1e-3),
   "hparams.learning_rate"),
  ("values", "learning_rate_nan", cfg(hparams__learning_rate=float("nan")),
   "hparams.learning_rate"),
  ("values", "gamma_above_1", cfg(hparams__gamma=1.01), "hparams.gamma"),
  ("values", "clip_eps_0", cfg(hparams__clip_eps=0.0), "hparams.clip_eps"),
  ("values", "clip_eps_negative", cfg(hparams__clip_eps=-0.2), "hparams.clip_eps"),
  ("values", "gae_lambda_negative", cfg(hparams__gae_lambda=-0.1), "hparams.gae_lambda"),
  ("values", "gae_lambda_above_1", cfg(hparams__gae_lambda=1.5), "hparams.gae_lambda"),
  ("values", "ent_coef_negative", cfg(hparams__ent_coef=-0.01), "hparams.ent_coef"),
  ("values", "max_grad_norm_0", cfg(hparams__max_grad_norm=0.0), "hparams.max_grad_norm"),
  ("values", "num_envs_0", cfg(ppo__num_envs=0), "ppo.num_envs"),
  ("values", "num_steps_negative", cfg(ppo__num_steps=-4), "ppo.num_steps"),
  ("values", "num_minibatches_0", cfg(ppo__num_minibatches=0), "ppo.num_minibatches"),
  ("values", "update_epochs_0", cfg(ppo__update_epochs=0), "ppo.update_epochs"),
  ("values", "update_epochs_negative", cfg(ppo__update_epochs=-1), "ppo.update_epochs"),
  ("values", "minibatches_do_not_divide", cfg(ppo__num_minibatches=3), "ppo.num_minibatches"),
  ("values", "below_one_update", cfg(ppo__total_timesteps=100), "ppo.total_timesteps"),
  ("values", "envs_by_num_devices", cfg(num_devices=3), "ppo.num_envs"),
  ("values", "envs_by_host_devices", devices(3), "ppo.num_envs"),
  ("values", "seeds_by_devices", devices(3, split_over="seeds"), "num_seeds"),
  ("values", "more_devices_than_host", devices(1, num_devices=2), "num_devices"),
  ("values", "updates_per_chunk_0", cfg(training__updates_per_chunk=0),
   "training.updates_per_chunk"),
  ("values", "max_updates_negative", cfg(training__max_updates=-1), "training.max_updates"),
  ("values", "resume_unknown", cfg(training__resume="oldest"), "training.resume"),
  ("values", "overwrite_not_bool", cfg(training__overwrite="yes"), "training.overwrite"),
  ("values", "num_seeds_float", cfg(num_seeds=2.5), "num_seeds"),
  ("values", "anneal_lr_int", cfg(ppo__anneal_lr=1), "ppo.anneal_lr"),
  ("values", "trait_fraction_above_1", lambda d: launcher.plan(
    config(TRAIT, "test", **arms(x=arm(trait_fraction=1.2))), earlier_run(d)),
   "arms.x.trait_fraction"),
  ("values", "persona_augment_negative", lambda d: launcher.plan(
    config(TRAIT, "test", **arms(x=arm(persona_augment=-0.5))), earlier_run(d)),
   "arms.x.persona_augment"),
  ("values", "persona_fraction_above_1", cfg(TRAIT, "test", prior__imitation__persona_fraction=2.0),
   "prior.imitation.persona_fraction"),
  ("values", "surface_overlap_above_1", cfg(TRAIT, "test", surface_overlap=1.5), "surface_overlap"),
  ("values", "arm_gamma_above_1", cfg(TRAIT, "test", ppo_run__hparams__gamma=2.0),
   "ppo_run.hparams.gamma"),
  ("values", "arm_minibatches", cfg(TRAIT, "test", ppo_run__ppo__num_minibatches=5),
   "ppo_run.ppo.num_minibatches"),
  ("values", "prior_seeds_mismatch", cfg(TRAIT, "test", prior__num_seeds=3), "prior.num_seeds"),
  ("values", "max_turns_over_capacity", cfg(TRAIT, "test", ppo_run__env_kwargs__max_turns=2),
   "ppo_run.env_kwargs.max_turns"),
  ("values", "pressure_turns_9", cfg(TRAIT, "test", pressure_turns=9), "pressure_turns"),
  ("values", "treatment_not_an_arm", cfg(TRAIT, "test", treatment="trai"), "treatment"),
  ("values", "finetune_from_unknown_arm", cfg(TRAIT, "test", finetune_from=("prior", "nope")),
   "finetune_from"),
  ("values", "both_weight_anchors", cfg(ppo__objectives=("weight_anchor", "ewc")),
   "ppo.objectives"),
  ("values", "gridworlds_transfer_overlap", cfg(
    "gridworlds_transfer", transfer__heldout_envs=("boat_race",)), "transfer.heldout_envs"),
  ("values", "batch_runs_unknown", cfg(TRAIT, "test", batch_runs="always"), "batch_runs"),
  (CLI, "cli_num_seeds_0", ["experiments.main", f"--config={CART}", "--config.num_seeds=0",
                            "--workdir={w}"], "num_seeds"),
  (CLI, "cli_keep_checkpoints_0", ["experiments.main", f"--config={CART}", "--workdir={w}",
                                   "--config.training.keep_checkpoints=0"],
   "training.keep_checkpoints"),
  (CLI, "cli_sweep_gamma", ["experiments.main", f"--config={CART}", "--sweep", "--workdir={w}",
                            "--config.hparams.gamma=1.5"], "hparams.gamma"),
  # --- registry names ------------------------------------------------------------------
  ("names", "experiment", cfg(experiment="nope"), "experiment"),
  ("names", "env_name", cfg(env_name="Pong-v9"), "env_name"),
  ("names", "network", cfg(network="lstm"), "network"),
  ("names", "activation", cfg(network_kwargs__activation="swish"), "network_kwargs.activation"),
  ("names", "objective", cfg(ppo__objectives=("kl_anchr",)), "ppo.objectives"),
  ("names", "arm_objective", lambda d: launcher.plan(
    config(TRAIT, "test", **arms(x=arm(objectives=("nope",)))), earlier_run(d)),
   "arms.x.objectives"),
  ("names", "family", lambda d: launcher.plan(
    config(TRAIT, "test", **arms(x=arm(families=("nope",)))), earlier_run(d)),
   "arms.x.families"),
  ("names", "heldout_family", lambda d: launcher.plan(
    config(TRAIT, "test", **arms(x=arm(families=("identity_pair",)))), earlier_run(d)),
   "arms.x.families"),
  ("names", "rubric_control", lambda d: launcher.plan(
    config(TRAIT, "test", **arms(x=arm(rubric_control="nope"))), earlier_run(d)),
   "arms.x.rubric_control"),
  ("names", "controls_not_negative", cfg(TRAIT, "test", controls=("baseline",)), "controls"),
  ("names", "arm_grader", lambda d: launcher.plan(
    config(TRAIT, "test", **arms(x=arm(grader="rubrik"))), earlier_run(d)), "arms.x.grader"),
  ("names", "domain", lambda d: launcher.plan(
    config(TRAIT, "test", **arms(x=arm(domains=("coding",)))), earlier_run(d)),
   "arms.x.domains"),
  ("names", "persona", cfg(TRAIT, "test", personas=("evil_twin",)), "personas"),
  ("names", "suite", cfg(TRAIT, "test", suite="everything"), "suite"),
  ("names", "data_config", cfg(TRAIT, "test", data_config="medium"), "data_config"),
  ("names", "world_version", cfg(TRAIT, "test", world_version="1.0.0"), "world_version"),
  ("names", "eval_grader", cfg("conversation_rl", "test", eval_graders=("eval/nope",)),
   "eval_graders"),
  ("names", "gridworld_env", cfg("gridworlds_baselines", envs=("pacman",)), "envs"),
  ("names", "gridworld_level_env", cfg("gridworlds_baselines", levels={"pacman": 0}),
   "levels.pacman"),
  ("names", "reward_mode", cfg("gridworlds_transfer", transfer__pretrain_reward_mode="hidden"),
   "transfer.pretrain_reward_mode"),
  (CLI, "cli_unknown_experiment", ["experiments.main", f"--config={CART}",
                                   "--config.experiment=nope"], "experiment"),
  # --- workdirs and data dirs ----------------------------------------------------------
  ("workdir", "is_a_file", in_workdir(a_file), "--workdir"),
  ("workdir", "under_a_file", in_workdir(under_file), "--workdir"),
  ("workdir", "not_writable", "not_writable", "--workdir"),
  ("workdir", "parent_not_writable", "parent_not_writable", "--workdir"),
  ("workdir", "sweep_point_dir_is_a_file", prepared(point_file, lambda d: launcher.plan(
    config(), earlier_run(d), sweep_points("cartpole_ppo"))), "--workdir"),
  ("workdir", "data_dir_is_a_file", lambda d: launcher.plan(
    config(TRAIT, "test", data_dir=a_file(d)), earlier_run(d)), "data_dir"),
  ("workdir", "prior_data_dir_is_a_file", lambda d: launcher.plan(
    config(TRAIT, "test", prior__data__data_dir=a_file(d)), earlier_run(d)),
   "prior.data.data_dir"),
  ("workdir", "data_dir_under_a_file", lambda d: launcher.plan(
    config(TRAIT, "test", data_dir=under_file(d)), earlier_run(d)), "data_dir"),
  ("workdir", "reuse_from_missing", lambda d: launcher.plan(
    config(TRAIT, "test", reuse_from=f"{d}/nowhere"), earlier_run(d)), "reuse_from"),
  (CLI, "cli_workdir_is_a_file", ["experiments.main", f"--config={CART}", "--workdir={f}"],
   "--workdir"),
  # --- checkpoints ---------------------------------------------------------------------
  ("checkpoints", "init_from_missing", lambda d: launcher.plan(
    config(training__init_from=f"{d}/nowhere"), earlier_run(d)), "training.init_from"),
  ("checkpoints", "init_from_a_file", lambda d: launcher.plan(
    config(training__init_from=a_file(d)), earlier_run(d)), "training.init_from"),
  ("checkpoints", "evaluate_no_checkpoint", cfg("evaluate", "test"), "checkpoint"),
  ("checkpoints", "evaluate_checkpoint_missing", lambda d: launcher.plan(
    config("evaluate", "test", checkpoint=f"trait={d}/nowhere"), earlier_run(d)), "checkpoint"),
  ("checkpoints", "evaluate_checkpoint_a_file", lambda d: launcher.plan(
    config("evaluate", "test", checkpoint=a_file(d)), earlier_run(d)), "checkpoint"),
  ("checkpoints", "evaluate_name_twice", lambda d: launcher.plan(
    config("evaluate", "test", checkpoint=f"a={d},a={d}"), earlier_run(d)), "checkpoint"),
  ("checkpoints", "viewer_policy_missing", viewer("--data_config=small", "--policy={d}/nowhere"),
   "--policy"),
  # The trainer's first steps on an earlier run's files (training/, another engineer's).
  ("checkpoints", "checkpoint_digest_mismatch", open_checkpoints(flip_byte), "checkpoint 30"),
  ("checkpoints", "checkpoint_digest_missing", open_checkpoints(drop_digest), "checkpoint 20"),
  # --- metrics and results files -------------------------------------------------------
  ("metrics", "results_json_corrupt", figures_cli(
    "--runs={runs}", "--figure=scoreboard", setup=write("trait_rl_vs_baseline/results.json",
                                                         '{"experiment": ')), "results.json"),
  ("metrics", "results_json_not_object", figures_cli(
    "--runs={runs}", setup=write("trait_rl_vs_baseline/results.json", "[1, 2]")),
   "results.json"),
  ("metrics", "figure_without_results", figures_cli("--runs={runs}", "--figure=scoreboard"),
   "results.json"),
  ("metrics", "metrics_line_corrupt", read_metrics_file(
    '{"update": 1}\n{"upd\n{"update": 3}\n'), "metrics.jsonl line 2"),
  ("metrics", "metrics_record_without_update", read_metrics_file(
    '{"update": 1}\n[1, 2]\n'), "metrics.jsonl line 2"),
  (CLI, "cli_results_json_corrupt", ["experiments.figures", "--runs={runs}", "--out={d}/fig"],
   "results.json"),
  # --- evaluation and viewer commands --------------------------------------------------
  ("commands", "evaluate_suite", cfg("evaluate", "test", checkpoint="/", suite="al"), "suite"),
  ("commands", "evaluate_prefix_grader", cfg(
    "evaluate", "test", checkpoint="/", prefix_grader="nope"), "prefix_grader"),
  ("commands", "evaluate_pressure_turns", cfg(
    "evaluate", "test", checkpoint="/", pressure_turns=-1), "pressure_turns"),
  ("commands", "evaluate_attack_lr", cfg(
    "evaluate", "test", checkpoint="/", attack_ppo__hparams__learning_rate=0.0),
   "attack_ppo.hparams.learning_rate"),
  ("commands", "figures_unknown_figure", figures_cli("--runs={runs}", "--figure=nope"),
   "figure"),
  ("commands", "figures_runs_is_a_file", figures_cli("--runs={d}/afile",
                                                     setup=lambda r: a_file(os.path.dirname(r))),
   "--runs"),
  ("commands", "figures_out_is_a_file", figures_cli(
    "--runs={runs}", "--out={d}/afile", setup=lambda r: a_file(os.path.dirname(r))), "--out"),
  ("commands", "viewer_bad_split", viewer("--split=nope"), "--split"),
  ("commands", "viewer_n_negative", viewer("--n=-1"), "--n"),
  ("commands", "viewer_data_dir_file", viewer("--data_config=small", "--data_dir={d}/afile"),
   "--data_dir"),
  (CLI, "cli_evaluate_checkpoint_missing", [
    "experiments.main", "--config=configs/evaluate.py:test", "--workdir={w}",
    "--config.checkpoint={d}/nowhere"], "checkpoint"),
]
# fmt: on


def _params():
  out = []
  for kind, name, run, field in CASES:
    marks = ()
    if isinstance(run, type(pytest.param(None))):
      run, marks = run.values[0], run.marks
    out.append(pytest.param(kind, run, field, id=f"{kind}-{name}", marks=marks))
  return out


def _special(run, d, monkeypatch):
  """Cases that need more than a callable: unwritable folders (we may run as root, who
  can write anywhere, so `os.access` answers as for another user)."""
  if run == "not_writable":
    w = earlier_run(d)
    monkeypatch.setattr(os, "access", lambda p, mode: os.path.abspath(p) != os.path.abspath(w))
    return launcher.plan(config(), w)
  if run == "parent_not_writable":
    monkeypatch.setattr(os, "access", lambda p, mode: os.path.abspath(p) != str(d))
    return launcher.plan(config(), os.path.join(str(d), "new_run"))
  raise AssertionError(run)


def _check_stderr(text: str, field: str) -> None:
  lines = [line for line in text.strip().splitlines() if line.strip()]
  assert 1 <= len(lines) <= 3, text
  assert "Traceback" not in text, text
  assert field in text, text


@pytest.mark.parametrize("kind, run, field", [p for p in _params() if p.values[0] != CLI])
def test_bad_input_in_process(kind, run, field, tmp_path, monkeypatch):
  earlier_run(tmp_path)
  a_file(tmp_path)
  if hasattr(run, "prepare"):
    run.prepare(tmp_path)
  before = tree_digest(tmp_path)
  err = io.StringIO()
  with contextlib.redirect_stderr(err):
    try:
      code = _special(run, tmp_path, monkeypatch) if isinstance(run, str) else run(tmp_path)
    except ConfigError as e:
      code, text = 1, str(e)
      assert "\n" not in text and text.startswith(field) and "allowed" in text, text
    except SystemExit as e:
      code = e.code
    except Exception as e:  # noqa: BLE001 - the launcher prints these as one line.
      if not isinstance(e, launcher.one_line_errors()):
        raise
      code = 1
      print(f"error: {e}", file=err)
  assert isinstance(code, int) and code != 0, f"no error: {code!r}"
  if err.getvalue():
    _check_stderr(err.getvalue(), field)
  monkeypatch.undo()
  assert tree_digest(tmp_path) == before, "bytes on disk changed"


@pytest.mark.parametrize(
  "run, field", [pytest.param(r, f, id=n) for k, n, r, f in CASES if k == CLI]
)
def test_bad_input_command_line(run, field, tmp_path):
  w = earlier_run(tmp_path)
  f = a_file(tmp_path)
  runs = tmp_path / "runs"
  (runs / "trait_rl_vs_baseline").mkdir(parents=True)
  (runs / "trait_rl_vs_baseline" / "results.json").write_text('{"experiment": ')
  before = tree_digest(tmp_path)
  args = [a.format(w=w, f=f, d=tmp_path, runs=runs) for a in run]
  proc = run_command(*args)
  assert proc.returncode != 0, proc.stdout + proc.stderr
  _check_stderr(proc.stderr, field)
  assert tree_digest(tmp_path) == before, "bytes on disk changed"
