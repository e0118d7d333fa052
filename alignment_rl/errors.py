"""The one-line error of bad input, shared by the library and the launcher."""

from __future__ import annotations


class ConfigError(ValueError):
  """A config field (or a path argument) outside its declared range; one line."""

  def __init__(self, field: str, value, allowed: str):
    self.field, self.value, self.allowed = field, value, allowed
    super().__init__(f"{field}: {value!r} — allowed: {allowed}")

  @classmethod
  def from_message(cls, message: str) -> ConfigError:
    """An error of a check that words its own one-line message (`field: ...`)."""
    error = cls.__new__(cls)
    error.field, _, rest = message.partition(":")
    error.value, error.allowed = None, rest.strip()
    ValueError.__init__(error, message)
    return error
