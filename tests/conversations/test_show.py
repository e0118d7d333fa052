"""The transcript viewer: a legend, a reply grouped by role, and `--html`."""

import argparse
from html.parser import HTMLParser

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from alignment_rl.envs.conversations import prior
from alignment_rl.language import vocab
from experiments import show

A = vocab.Action


def test_every_reply_token_has_one_role():
  roles = [a for _, acts in show.ROLES.values() for a in acts]
  assert sorted(roles) == list(range(1, vocab.NUM_ACTIONS))  # All but EOT, once each.


def test_reply_is_grouped_by_role_up_to_eot():
  reply = [A.BRIEF, A.ANS_3, A.EXPLAIN, A.CERTAIN, A.WARN_RISK, A.EOT, A.ANS_1]
  assert show.reply_roles(reply) == {
    "answer": ["ANS_3"],
    "confidence": ["CERTAIN"],
    "action": ["EXPLAIN", "WARN_RISK"],
    "format": ["BRIEF"],
  }
  assert show.reply_roles([A.EOT]) == {role: [] for role in show.ROLES}


def test_legend_names_every_role_and_the_turn_markers():
  text = show.legend()
  for role in show.ROLES:
    assert f"    {role} " in text
  for token in ("<user>", "<assistant>", "<notes>", "option-k", "<eot>", "DONT_KNOW", "BULLETS"):
    assert token in text


class _Tags(HTMLParser):
  def __init__(self):
    super().__init__()
    self.tags: list[tuple[str, dict]] = []

  def handle_starttag(self, tag, attrs):
    self.tags.append((tag, dict(attrs)))


@pytest.fixture
def small_test_split(small_splits, monkeypatch):
  """`show.load_split` returns the session's generated SMALL test split (no TFDS)."""
  monkeypatch.setattr(show, "load_split", lambda *args: small_splits["test"])


def test_cli_prints_legend_and_roles_and_writes_html(small_test_split, tmp_path, capsys):
  path = tmp_path / "transcripts.html"
  argv = ["--split=test", "--n=3", "--seed=1", "--data_config=small", f"--html={path}"]
  assert show.main(argv) == 0
  out = capsys.readouterr().out
  assert out.startswith("legend:") and out.count("legend:") == 1
  assert out.count("reply by role: answer:") == 3 and out.count("HealthBench score") == 3
  assert f"wrote {path}" in out

  page = path.read_text(encoding="utf-8")
  assert page.startswith("<!DOCTYPE html>") and page.count("<section>") == 3
  assert "Legend" in page and page.count("HealthBench score") == 3
  parser = _Tags()
  parser.feed(page)
  spans = [a.get("class") for t, a in parser.tags if t == "span"]
  assert spans and set(spans) <= set(show.ROLES)
  assert "&lt;assistant&gt;" in page and "<assistant>" not in page  # Tokens are escaped.


def test_prior_replies_are_the_priors_draws(small_splits):
  """The viewer's prior replies are one rollout turn: `prior_response_and_mode` with the
  scenarios' keys `split(key, n)`, labelled with their modes."""
  batch = {k: jnp.asarray(v[:12]) for k, v in small_splits["test"].items()}
  key = jax.random.PRNGKey(5)
  actions, sources = show.respond(argparse.Namespace(policy=""), batch, key)
  want, modes = jax.vmap(prior.prior_response_and_mode)(jax.random.split(key, 12), batch)
  np.testing.assert_array_equal(actions, want)
  assert sources == [f"prior, {prior.Mode(int(m)).name.lower()} mode" for m in modes]
