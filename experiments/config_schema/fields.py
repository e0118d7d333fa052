"""Declared ranges of config fields: each says which values it allows, in words.

A spec is checked against one leaf value of a config (`spec.allows(value)`) and
describes its range for the one-line error (`spec.describe()`). Choices may be given
lazily (a function returning the names, e.g. a registry's): such specs are `lazy`,
and `validate` checks them after every plain range, since naming them may import the
library (and JAX).

Example:
  >>> Int(lo=1).allows(0)
  False
  >>> Real(0, 1).describe()
  'a number in [0, 1]'
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from alignment_rl.errors import ConfigError  # noqa: F401  (re-exported)


class Spec:
  """The declared range of one field."""

  lazy = False

  def allows(self, value) -> bool:
    raise NotImplementedError

  def describe(self) -> str:
    raise NotImplementedError


def _is_int(value) -> bool:
  return isinstance(value, int) and not isinstance(value, bool)


def _fmt(x) -> str:
  return f"{x:g}" if isinstance(x, float) else str(x)


class Int(Spec):
  """An integer in [lo, hi] (either bound may be None)."""

  def __init__(self, lo: int | None = None, hi: int | None = None):
    self.lo, self.hi = lo, hi

  def allows(self, value) -> bool:
    return (
      _is_int(value)
      and (self.lo is None or value >= self.lo)
      and (self.hi is None or value <= self.hi)
    )

  def describe(self) -> str:
    if self.hi is None:
      return "any integer" if self.lo is None else f"an integer >= {self.lo}"
    if self.lo is None:
      return f"an integer <= {self.hi}"
    return f"an integer in [{self.lo}, {self.hi}]"


class Real(Spec):
  """A finite number between lo and hi; `open_lo`/`open_hi` exclude the bound."""

  def __init__(self, lo=None, hi=None, open_lo: bool = False, open_hi: bool = False):
    self.lo, self.hi, self.open_lo, self.open_hi = lo, hi, open_lo, open_hi

  def allows(self, value) -> bool:
    if not (_is_int(value) or isinstance(value, float)) or not math.isfinite(value):
      return False
    if self.lo is not None and (value <= self.lo if self.open_lo else value < self.lo):
      return False
    return self.hi is None or (value < self.hi if self.open_hi else value <= self.hi)

  def describe(self) -> str:
    if self.lo is not None and self.hi is not None:
      left, right = "(" if self.open_lo else "[", ")" if self.open_hi else "]"
      return f"a number in {left}{_fmt(self.lo)}, {_fmt(self.hi)}{right}"
    if self.lo is not None:
      return f"a number {'>' if self.open_lo else '>='} {_fmt(self.lo)}"
    if self.hi is not None:
      return f"a number {'<' if self.open_hi else '<='} {_fmt(self.hi)}"
    return "any finite number"


class Bool(Spec):
  def allows(self, value) -> bool:
    return isinstance(value, bool)

  def describe(self) -> str:
    return "True or False"


class Text(Spec):
  """Any string (a label, or a path that the run checks itself)."""

  def __init__(self, what: str = "any text"):
    self.what = what

  def allows(self, value) -> bool:
    return isinstance(value, str)

  def describe(self) -> str:
    return self.what


class OneOf(Spec):
  """One of a fixed set of values, or of the names a function returns (lazy)."""

  def __init__(self, choices: Sequence | Callable[[], Sequence], prefix: str | None = None):
    self._choices = choices
    self.prefix = prefix  # Also allowed: any string starting with it (e.g. "gymnax/").
    self.lazy = callable(choices)

  def choices(self) -> tuple:
    return tuple(self._choices() if callable(self._choices) else self._choices)

  def allows(self, value) -> bool:
    if self.prefix and isinstance(value, str) and value.startswith(self.prefix):
      return len(value) > len(self.prefix)
    return any(type(c) is type(value) and c == value for c in self.choices())

  def describe(self) -> str:
    names = ", ".join(repr(c) for c in self.choices())
    return f"one of {names}" + (f", or {self.prefix}<name>" if self.prefix else "")


class TupleOf(Spec):
  """A tuple (or list) of items of one spec, at least `min_len` long."""

  def __init__(self, item: Spec, min_len: int = 0, unique: bool = True):
    self.item, self.min_len, self.unique = item, min_len, unique
    self.lazy = item.lazy

  def allows(self, value) -> bool:
    if not isinstance(value, (tuple, list)) or len(value) < self.min_len:
      return False
    if self.unique and len(set(map(repr, value))) != len(value):
      return False
    return all(self.item.allows(v) for v in value)

  def describe(self) -> str:
    size = f"{self.min_len}+ " if self.min_len else ""
    distinct = "distinct " if self.unique else ""
    return f"a tuple of {size}{distinct}items, each {self.item.describe()}"


class Maybe(Spec):
  """None, or a value of `spec`."""

  def __init__(self, spec: Spec):
    self.spec = spec
    self.lazy = spec.lazy

  def allows(self, value) -> bool:
    return value is None or self.spec.allows(value)

  def describe(self) -> str:
    return f"None or {self.spec.describe()}"


class AnyOf(Spec):
  """A value that one of several specs allows."""

  def __init__(self, *specs: Spec):
    self.specs = specs
    self.lazy = any(s.lazy for s in specs)

  def allows(self, value) -> bool:
    return any(s.allows(value) for s in self.specs)

  def describe(self) -> str:
    return " or ".join(s.describe() for s in self.specs)
