import pytest

from alignment_rl.registry import Registry, UnknownNameError


def test_register_get_and_names():
  r = Registry("widget")

  @r.register("b")
  def b():
    return 2

  r.add("a", 1)
  assert r.get("b") is b
  assert r.names() == ["a", "b"]
  assert "a" in r and "c" not in r
  assert len(r) == 2


def test_duplicate_raises():
  r = Registry("widget")
  r.add("a", 1)
  with pytest.raises(ValueError, match="duplicate widget name 'a'"):
    r.add("a", 2)


def test_miss_lists_known_names_on_one_line():
  r = Registry("widget")
  r.add("alpha", 1)
  r.add("beta", 2)
  with pytest.raises(UnknownNameError) as e:
    r.get("gamma")
  msg = str(e.value)
  assert msg == "unknown widget 'gamma'; known: alpha, beta"
  assert "\n" not in msg
