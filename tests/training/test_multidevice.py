"""One device vs four fake CPU devices (environments split) and two (seeds split, the
seeds of each device run in turn or side by side): same global batch and seed, same
metrics.

Runs in its own process, since the fake device count must be set before JAX
starts.
"""

import json
import os
import subprocess
import sys
import textwrap

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

SCRIPT = textwrap.dedent(
  """
    import json, sys, tempfile
    import jax
    import numpy as np
    from alignment_rl.training import sharding, trainer
    from experiments import runs
    from configs.common import ppo_config

    assert jax.device_count() == 4, jax.devices()
    c = ppo_config()
    c.num_seeds = 2
    c.ppo.num_envs = 16
    c.ppo.num_steps = 32
    c.ppo.total_timesteps = 16 * 32 * 6
    c.training.updates_per_chunk = 3
    c.training.progress = False
    out = {}
    cases = (
      ("1", 1, "envs", "vmap"), ("4", 4, "envs", "vmap"),
      ("seeds", 2, "seeds", "map"), ("seeds_vmap", 2, "seeds", "vmap"),
    )
    for name, n, split_over, seed_batching in cases:
      c.split_over, c.seed_batching = split_over, seed_batching
      mesh = sharding.make_mesh(n)
      with tempfile.TemporaryDirectory() as d:
        result = trainer.train(c, d, mesh=mesh)
      leaf = jax.tree.leaves(result.runner.obs)[0]
      param = jax.tree.leaves(result.runner.ppo.params)[0]
      out[name] = {
          "history": [{k: float(v) for k, v in h.items()} for h in result.history],
          "params": [np.asarray(x).ravel()[:64].tolist()
                     for x in jax.tree.leaves(result.runner.ppo.params)],
          "obs_devices": len(leaf.sharding.device_set),
          "param_devices": len(param.sharding.device_set),
          "param_shard_shape": list(param.sharding.shard_shape(param.shape)),
      }
    c.split_over = "sideways"
    try:
      trainer.train(c, tempfile.mkdtemp(), mesh=sharding.make_mesh(2))
    except ValueError as e:
      out["bad_split"] = str(e)
    print(json.dumps(out))
    """
)


def test_one_vs_four_devices_same_metrics():
  env = dict(
    os.environ,
    XLA_FLAGS="--xla_force_host_platform_device_count=4",
    JAX_PLATFORMS="cpu",
  )
  proc = subprocess.run(
    [sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True
  )
  assert proc.returncode == 0, proc.stderr[-3000:]
  out = json.loads(proc.stdout.strip().splitlines()[-1])
  one, four, seeds, seeds_vmap = out["1"], out["4"], out["seeds"], out["seeds_vmap"]
  assert one["obs_devices"] == 1 and four["obs_devices"] == 4  # Really sharded.
  assert four["param_devices"] == 4 and four["param_shard_shape"][0] == 2  # Replicated.
  # Split over seeds: each of 2 devices holds one seed's parameters.
  for split in (seeds, seeds_vmap):
    assert split["param_devices"] == 2 and split["param_shard_shape"][0] == 1
  assert len(one["history"]) == len(four["history"]) == len(seeds["history"]) == 6
  for other in (four, seeds, seeds_vmap):
    for a, b in zip(one["history"], other["history"], strict=True):
      for key in ("loss", "pg_loss", "value_loss", "entropy", "episode_return", "grad_norm"):
        assert abs(a[key] - b[key]) <= 1e-5 * max(1.0, abs(a[key])), (key, a[key], b[key])
    for pa, pb in zip(one["params"], other["params"], strict=True):
      assert max(abs(x - y) for x, y in zip(pa, pb, strict=True)) <= 1e-5
  assert out["bad_split"].startswith("config.split_over='sideways'; allowed: envs, seeds")
