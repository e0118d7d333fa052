"""Explicit name -> object registries, one per component kind.

A registry raises on a duplicate name and lists the known names on a miss, so a
typo in a config gives a one-line error that says what is allowed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")


class UnknownNameError(KeyError):
  """Raised when a name is not in a registry."""

  def __str__(self) -> str:  # KeyError quotes its message; keep it readable.
    return str(self.args[0])


class Registry(Generic[T]):
  """A named collection of objects of one kind (environments, experiments, ...).

  Example:
    >>> envs = Registry("environment")
    >>> @envs.register("probe/constant")
    ... def make_constant(): ...
    >>> envs.get("probe/constant") is make_constant
    True
  """

  def __init__(self, kind: str):
    self.kind = kind
    self._items: dict[str, T] = {}

  def register(self, name: str) -> Callable[[T], T]:
    """Returns a decorator that adds its argument under `name`."""

    def decorator(obj: T) -> T:
      self.add(name, obj)
      return obj

    return decorator

  def add(self, name: str, obj: T) -> None:
    if not isinstance(name, str) or not name:
      raise ValueError(f"{self.kind} name must be a non-empty string, got {name!r}")
    if name in self._items:
      raise ValueError(f"duplicate {self.kind} name {name!r}: it is already registered")
    self._items[name] = obj

  def get(self, name: str) -> T:
    try:
      return self._items[name]
    except KeyError:
      known = ", ".join(sorted(self._items)) or "(none)"
      raise UnknownNameError(f"unknown {self.kind} {name!r}; known: {known}") from None

  def names(self) -> list[str]:
    return sorted(self._items)

  def __contains__(self, name: object) -> bool:
    return name in self._items

  def __iter__(self) -> Iterator[str]:
    return iter(self.names())

  def __len__(self) -> int:
    return len(self._items)


# One registry per library component kind (experiments have theirs in
# `experiments.registry`). Modules register themselves on import; the package
# `__init__` of each kind imports its modules so that lookups see them.
ENVIRONMENTS: Registry = Registry("environment")
NETWORKS: Registry = Registry("network")
GRADERS: Registry = Registry("grader")
EVAL_SPECS: Registry = Registry("evaluation")  # name -> evals.eval_spec.EvalSpec
