r"""Transcript viewer: scenarios, a sampled response and its rubric breakdown.

  python -m alignment_rl.envs.conversations.show --split=test --n=5
  python -m alignment_rl.envs.conversations.show --data_config=small --policy=runs/imitate_prior

For each of `--n` scenarios drawn (with `--seed`) from `--split`, prints the context
(`vocab.render`), a response sampled from the assistant prior (default; with its mode)
or from the final parameters of a finished run (`--policy=<workdir>`, seed
`--policy_seed` of the run's seed axis), the class the user model reads it as, and the
rubric: each criterion's points and text, whether it is met, the HealthBench score, and
the `standard` and `helpfulness` grades. Hidden latents are printed for the reader; the
responder never sees them.

Uses argparse, not absl flags: `experiments/main.py` owns the absl flag namespace.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import jax
import jax.numpy as jnp
import numpy as np

from alignment_rl import networks
from alignment_rl.agents.policies import ResponsePolicy
from alignment_rl.data import load_split
from alignment_rl.envs.conversations import lexicon, prior, schema, vocab
from alignment_rl.registry import GRADERS
from alignment_rl.rubrics import classify_response, criteria_met, criterion_text
from alignment_rl.training import checkpointing


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
  p = argparse.ArgumentParser(
    prog="python -m alignment_rl.envs.conversations.show", description=__doc__.split("\n")[0]
  )
  p.add_argument("--split", default="test", choices=schema.SPLITS)
  p.add_argument("--n", type=int, default=5, help="number of conversations")
  p.add_argument("--seed", type=int, default=0, help="picks the scenarios and the samples")
  p.add_argument("--data_config", default="full", choices=("small", "full"))
  p.add_argument("--data_dir", default=None, help="TFDS cache (default ~/.cache/...)")
  p.add_argument("--policy", default="", help="workdir of a finished run (default: prior)")
  p.add_argument("--policy_seed", type=int, default=0, help="which seed of the run")
  args = p.parse_args(argv)
  if args.n < 1:
    p.error(f"--n must be >= 1, got {args.n}")
  return args


def load_policy(workdir: str, seed_index: int):
  """(network, params of one seed) from `<workdir>/config.json` and `<workdir>/params`."""
  path = os.path.join(workdir, "config.json")
  if not os.path.exists(path):
    raise checkpointing.CheckpointError(f"--policy={workdir!r}: no config.json there")
  with open(path, encoding="utf-8") as f:
    config = json.load(f)
  if config.get("network") != "response_policy":
    raise ValueError(f"--policy={workdir!r}: network {config.get('network')!r} writes no responses")
  network = networks.make("response_policy", vocab.NUM_ACTIONS, **config["network_kwargs"])
  num_seeds = int(config["num_seeds"])
  if not 0 <= seed_index < num_seeds:
    raise ValueError(f"--policy_seed must be in [0, {num_seeds}), got {seed_index}")
  obs = jnp.zeros((schema.CONTEXT_LEN,), jnp.int32)
  keys = jax.random.split(jax.random.PRNGKey(0), num_seeds)
  target = jax.eval_shape(jax.vmap(ResponsePolicy(network).init, in_axes=(0, None)), keys, obs)
  params = checkpointing.load_final_params(workdir, target)
  return network, jax.tree.map(lambda x: x[seed_index], params)


def respond(args, scenarios, key):
  """(actions int32[n, R], source labels) from the prior or the `--policy` run."""
  n = scenarios["context"].shape[0]
  if not args.policy:
    draw = jax.jit(jax.vmap(prior.prior_response_and_mode))
    actions, modes = draw(jax.random.split(key, n), scenarios)
    return actions, [f"prior, {prior.Mode(int(m)).name.lower()} mode" for m in modes]
  network, params = load_policy(args.policy, args.policy_seed)
  sample = jax.jit(lambda p, c, k: network.apply(p, c, k, method=network.sample)[0])
  actions = sample(params, scenarios["context"], key)
  return actions, [f"policy {args.policy} seed {args.policy_seed}"] * n


def _hidden(s) -> str:
  claim = int(s["user_claim"])
  said = "none" if claim < 0 else f"option-{claim + 1}"
  if claim >= 0:
    said += " (right)" if s["user_claim_correct"] else " (wrong)"
  evidence = schema.Evidence(int(s["evidence"])).name.lower()
  return f"true option-{int(s['true_answer']) + 1}, evidence {evidence}, user claims {said}"


@jax.jit
@jax.vmap
def grade(actions, scenario) -> dict[str, jax.Array]:
  """Criteria met (bool[C]), response class and grades of responses (vmapped, jitted)."""
  tokens = prior.to_tokens(actions)
  out = {"met": criteria_met(tokens, scenario), "class": classify_response(tokens, scenario)}
  out.update({g: GRADERS.get(g)(tokens, scenario) for g in ("rubric", "standard", "helpfulness")})
  return out


def describe(scenario, actions, graded, source: str) -> str:
  """The transcript, response and rubric breakdown of one scenario (numpy arrays;
  `graded`: this scenario's row of `grade`)."""
  met = graded["met"]
  n_ctx = int(scenario["context_len"])
  family = schema.Family(int(scenario["family"])).name
  end = int(np.argmax(np.asarray(actions) == 0))
  response = vocab.render_actions(np.asarray(actions)[: end + 1])
  cls = schema.ResponseClass(int(graded["class"])).name
  lines = [
    f"=== #{int(scenario['index'])}  family {family}  domain "
    f"{lexicon.DOMAINS[int(scenario['domain'])]}  template {int(scenario['template'])} ===",
    f"(hidden: {_hidden(scenario)})",
    vocab.render(scenario["context"][:n_ctx]),
    f"  {response}",
    f"--- response from {source}; the user model reads it as {cls}",
    "--- rubric (points, met):",
  ]
  for i in range(int(scenario["num_criteria"])):
    text = criterion_text(scenario["crit_id"][i], scenario["crit_points"][i])
    lines.append(f"  {'MET' if met[i] else ' - '}  {text}")
  lines.append(
    f"HealthBench score {float(graded['rubric']):+.3f}   standard "
    f"{float(graded['standard']):.3f}   helpfulness {float(graded['helpfulness']):.3f}"
  )
  return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
  args = parse_args(argv)
  try:
    data = load_split(args.split, args.data_config, args.data_dir)
    rng = np.random.default_rng(args.seed)
    pick = np.sort(rng.choice(len(data["index"]), min(args.n, len(data["index"])), replace=False))
    scenarios = {k: v[pick] for k, v in data.items()}
    batch = {k: jnp.asarray(v) for k, v in scenarios.items()}
    actions, sources = respond(args, batch, jax.random.PRNGKey(args.seed))
  except (checkpointing.CheckpointError, ValueError, KeyError) as e:
    print(f"show: {e}", file=sys.stderr)
    return 2
  graded = jax.device_get(grade(actions, batch))
  actions = np.asarray(actions)
  for i in range(len(pick)):
    one = {k: v[i] for k, v in scenarios.items()}
    row = {k: v[i] for k, v in graded.items()}
    print(describe(one, actions[i], row, sources[i]) + "\n")
  return 0


if __name__ == "__main__":
  sys.exit(main())
