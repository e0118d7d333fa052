r"""Transcript viewer: scenarios, a sampled response and its rubric breakdown.

  python -m experiments.show --split=test --n=5
  python -m experiments.show --data_config=small --policy=runs/imitate_prior

For each of `--n` scenarios drawn (with `--seed`) from `--split`, prints the context
(`vocab.render`), a response sampled from the assistant prior (default; with its mode)
or from the final parameters of a finished run (`--policy=<workdir>`, seed
`--policy_seed` of the run's seed axis), the class the user model reads it as, and the
rubric: each criterion's points and text, whether it is met, the HealthBench score, and
the `standard` and `helpfulness` grades. Hidden latents are printed for the reader; the
responder never sees them. A legend comes first, and each reply is also shown grouped
by role: its answer, its stated confidence, its actions (cite, explain, warn, ...)
and its format. `--html=PATH` also writes the transcripts as one shareable HTML page.

Uses argparse, not absl flags: `experiments/main.py` owns the absl flag namespace.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import sys
import textwrap

import jax
import jax.numpy as jnp
import numpy as np

from alignment_rl import networks
from alignment_rl.agents.policies import ResponsePolicy
from alignment_rl.data import load_split
from alignment_rl.envs.conversations import prior, rollout
from alignment_rl.envs.conversations.user_model import classify_response
from alignment_rl.language import lexicon, schema, vocab
from alignment_rl.language.tokens import reply_tokens
from alignment_rl.registry import GRADERS
from alignment_rl.rubrics import criteria_met, criterion_text
from alignment_rl.training import checkpointing


class _OneLineParser(argparse.ArgumentParser):
  """Bad arguments exit 2 with one line on stderr (no usage block); `--help` still
  prints the whole usage."""

  def error(self, message: str):
    self.exit(2, f"{self.prog}: error: {message}\n")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
  p = _OneLineParser(prog="python -m experiments.show", description=__doc__.split("\n")[0])
  p.add_argument("--split", default="test", choices=schema.SPLITS)
  p.add_argument("--n", type=int, default=5, help="number of conversations")
  p.add_argument("--seed", type=int, default=0, help="picks the scenarios and the samples")
  p.add_argument("--data_config", default="full", choices=("small", "full"))
  p.add_argument("--data_dir", default=None, help="TFDS cache (default ~/.cache/...)")
  p.add_argument("--policy", default="", help="workdir of a finished run (default: prior)")
  p.add_argument("--policy_seed", type=int, default=0, help="which seed of the run")
  p.add_argument("--html", default="", help="also write the transcripts to this HTML file")
  args = p.parse_args(argv)
  if args.n < 1:
    p.error(f"--n must be >= 1, got {args.n}")
  if args.data_dir and os.path.isfile(os.path.expanduser(args.data_dir)):
    p.error(f"--data_dir={args.data_dir} is a file; allowed: a folder (made if missing)")
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
  """(actions int32[n, R], source labels) from the prior or the `--policy` run: one turn
  of the conversation rollout (`envs.conversations.rollout`) on `scenarios`."""
  n = scenarios["context"].shape[0]
  if not args.policy:
    policy_of = lambda sc, _: rollout.prior_policy(sc)  # noqa: E731
    actions, modes = _one_turn(policy_of, None, scenarios, key, prior.DEFAULT_RESPONSE_LEN)
    return actions, [f"prior, {prior.Mode(int(m)).name.lower()} mode" for m in modes]
  network, params = load_policy(args.policy, args.policy_seed)

  def policy_of(sc, p):
    def policy(obs, k):
      return network.apply(p, obs[:, : schema.CONTEXT_LEN], k, method=network.sample)[0], None

    return policy

  actions, _ = _one_turn(policy_of, params, scenarios, key, network.max_response_len)
  return actions, [f"policy {args.policy} seed {args.policy_seed}"] * n


def _one_turn(policy_of, params, scenarios, key, response_len: int):
  """(actions int32[n, R], aux) of a one-turn rollout of `policy_of(scenarios, params)`,
  whose policy key is `key` (jitted; `params` traced)."""
  env = rollout.world(response_len, 1)

  @jax.jit
  def run(sc, p, k):
    return rollout.rollout(policy_of(sc, p), env, rollout.batch_params(sc, 1), k[None])

  out = run(scenarios, params, key)
  return out["actions"][0], jax.tree.map(lambda x: x[0], out["aux"])


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
  tokens = reply_tokens(actions)
  out = {"met": criteria_met(tokens, scenario), "class": classify_response(tokens, scenario)}
  out.update({g: GRADERS.get(g)(tokens, scenario) for g in ("rubric", "standard", "helpfulness")})
  return out


A = vocab.Action
# The role of each reply token (an action of the policy); EOT ends the reply.
ROLES: dict[str, tuple[str, tuple[int, ...]]] = {
  "answer": ("the option the reply commits to (ANS_k names option-k)", vocab.ANS_ACTIONS),
  "confidence": ("the confidence it states", tuple(range(A.CERTAIN, A.DONT_KNOW + 1))),
  "action": (
    "what it does: cite, retract, explain, apologize, agree, warn, refuse, act, ...",
    tuple(range(A.CITE_NOTES, A.SEEK_ACCESS + 1)),
  ),
  "format": ("its style", tuple(range(A.BRIEF, A.BULLETS + 1))),
}
ROLE_OF: dict[int, str] = {a: role for role, (_, acts) in ROLES.items() for a in acts}
_CONTEXT_LEGEND = (
  ("<sys> <user> <assistant> <notes>", "turn markers: system prompt, user, assistant, notes"),
  ("option-k", "answer option k as the context names it (a reply's ANS_k)"),
  ("stem@domain", "a concept stem in one domain's phrasing (a bare stem: shared)"),
  ("<eot>", "end of a reply"),
)


def legend() -> str:
  """What the transcript's tokens mean, and the roles of a reply's tokens."""
  lines = ["legend:"]
  lines += [f"  {tokens:<34} {meaning}" for tokens, meaning in _CONTEXT_LEGEND]
  lines.append("  a reply's tokens, by role:")
  for role, (meaning, acts) in ROLES.items():
    lines.append(f"    {role:<11} {meaning}")
    names = " ".join(A(a).name for a in acts)
    lines.append(textwrap.fill(names, 88, initial_indent=" " * 16, subsequent_indent=" " * 16))
  return "\n".join(lines)


def reply_roles(actions) -> dict[str, list[str]]:
  """The reply's token names up to EOT, grouped by role (in `ROLES` order)."""
  out: dict[str, list[str]] = {role: [] for role in ROLES}
  for a in np.asarray(actions).reshape(-1):
    if int(a) == A.EOT:
      break
    out[ROLE_OF[int(a)]].append(A(int(a)).name)
  return out


def transcript(scenario, actions, graded, source: str) -> dict:
  """The parts of one scenario's transcript (numpy arrays; `graded`: this scenario's
  row of `grade`): header, hidden latents, context, reply, roles, rubric, grades."""
  n_ctx = int(scenario["context_len"])
  family = schema.Family(int(scenario["family"])).name
  end = int(np.argmax(np.asarray(actions) == 0))
  rubric = [
    (bool(graded["met"][i]), criterion_text(scenario["crit_id"][i], scenario["crit_points"][i]))
    for i in range(int(scenario["num_criteria"]))
  ]
  return {
    "header": f"#{int(scenario['index'])}  family {family}  domain "
    f"{lexicon.DOMAINS[int(scenario['domain'])]}  template {int(scenario['template'])}",
    "hidden": _hidden(scenario),
    "context": vocab.render(scenario["context"][:n_ctx]),
    "reply": vocab.render_actions(np.asarray(actions)[: end + 1]),
    "roles": reply_roles(actions),
    "source": source,
    "class": schema.ResponseClass(int(graded["class"])).name,
    "rubric": rubric,
    "grades": f"HealthBench score {float(graded['rubric']):+.3f}   standard "
    f"{float(graded['standard']):.3f}   helpfulness {float(graded['helpfulness']):.3f}",
  }


def describe(scenario, actions, graded, source: str) -> str:
  """The transcript, response and rubric breakdown of one scenario as text."""
  t = transcript(scenario, actions, graded, source)
  roles = " | ".join(f"{r}: {' '.join(names) or '-'}" for r, names in t["roles"].items())
  lines = [
    f"=== {t['header']} ===",
    f"(hidden: {t['hidden']})",
    t["context"],
    f"  {t['reply']}",
    f"  reply by role: {roles}",
    f"--- response from {t['source']}; the user model reads it as {t['class']}",
    "--- rubric (points, met):",
  ]
  lines += [f"  {'MET' if met else ' - '}  {text}" for met, text in t["rubric"]]
  lines.append(t["grades"])
  return "\n".join(lines)


_CSS = (
  "body{font-family:sans-serif;max-width:60em;margin:auto}pre{white-space:pre-wrap}"
  ".answer{background:#cde}.confidence{background:#edc}.action{background:#cec}"
  ".format{background:#ddd}.met{color:#070}section{border-top:1px solid #888}"
)


def to_html(transcripts: list[dict], title: str) -> str:
  """One self-contained HTML page: the legend, then every transcript."""
  e = html.escape
  rows = "".join(
    f'<tr><td class="{role}">{role}</td><td>{e(meaning)}</td>'
    f"<td>{e(' '.join(A(a).name for a in acts))}</td></tr>"
    for role, (meaning, acts) in ROLES.items()
  )
  rows += "".join(f"<tr><td>{e(k)}</td><td colspan=2>{e(v)}</td></tr>" for k, v in _CONTEXT_LEGEND)
  parts = [f"<h1>{e(title)}</h1><h2>Legend</h2><table>{rows}</table>"]
  for t in transcripts:
    reply = " ".join(
      f'<span class="{role}">{e(name)}</span>'
      for role, names in t["roles"].items()
      for name in names
    )
    rubric = "".join(
      f'<li class="{"met" if met else "unmet"}">{"MET" if met else "not met"}: {e(text)}</li>'
      for met, text in t["rubric"]
    )
    parts.append(
      f"<section><h3>{e(t['header'])}</h3><p><i>hidden: {e(t['hidden'])}</i></p>"
      f"<pre>{e(t['context'])}</pre><p>reply ({e(t['source'])}): {reply or '(empty)'}"
      f" &lt;eot&gt;</p><p>the user model reads it as {e(t['class'])}</p>"
      f"<ul>{rubric}</ul><p>{e(t['grades'])}</p></section>"
    )
  return (
    f"<!DOCTYPE html><html><head><meta charset=utf-8><title>{e(title)}</title>"
    f"<style>{_CSS}</style></head><body>{''.join(parts)}</body></html>\n"
  )


def main(argv: list[str] | None = None) -> int:
  args = parse_args(argv)
  try:
    data = load_split(args.split, args.data_config, args.data_dir)
    rng = np.random.default_rng(args.seed)
    pick = np.sort(rng.choice(len(data["index"]), min(args.n, len(data["index"])), replace=False))
    scenarios = {k: v[pick] for k, v in data.items()}
    batch = {k: jnp.asarray(v) for k, v in scenarios.items()}
    actions, sources = respond(args, batch, jax.random.PRNGKey(args.seed))
  except (checkpointing.CheckpointError, ValueError, KeyError, OSError) as e:
    print(f"show: {e}", file=sys.stderr)
    return 2
  graded = jax.device_get(grade(actions, batch))
  actions = np.asarray(actions)
  print(legend() + "\n")
  transcripts = []
  for i in range(len(pick)):
    one = {k: v[i] for k, v in scenarios.items()}
    row = {k: v[i] for k, v in graded.items()}
    print(describe(one, actions[i], row, sources[i]) + "\n")
    transcripts.append(transcript(one, actions[i], row, sources[i]))
  if args.html:
    title = f"alignment_rl transcripts: split {args.split}, seed {args.seed}"
    with open(args.html, "w", encoding="utf-8") as f:
      f.write(to_html(transcripts, title))
    print(f"wrote {args.html}")
  return 0


if __name__ == "__main__":
  sys.exit(main())
