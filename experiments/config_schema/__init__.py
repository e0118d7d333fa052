"""Declared ranges of every config field, and `validate(config, workdir)` before any work.

  from experiments.config_schema import ConfigError, validate
  validate(config, workdir)  # raises ConfigError("field: value — allowed: ...")

`declared.py` holds the ranges (one `Spec` per field, per registered experiment),
`fields.py` the kinds of range, `checks.py` and `paths.py` the checks across fields
and of the folders a run reads and writes, `names.py` the registries' names.
"""

from experiments.config_schema.fields import ConfigError
from experiments.config_schema.validate import check_devices, declared_fields, leaves, validate

__all__ = ["ConfigError", "check_devices", "declared_fields", "leaves", "validate"]
