"""The one filter of a split's scenarios by their metadata (family, domain, trait).

Every consumer that keeps part of a split - an evaluation's scenarios, a mixture's trait
data, the prior's imitation data without the held-out families, a probe's training
rows - asks `split_rows` for a mask. Families, domains and traits are given by name
(`FAMILY_NAMES`, `lexicon.DOMAINS`, `TRAIT_NAMES`) or by index (a `schema.Family`, an
int); an unknown name is an error that lists the known ones.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np

from alignment_rl.language import lexicon, schema

#: Family names, in `schema.Family` order (the name of family f is FAMILY_NAMES[f]).
FAMILY_NAMES: tuple[str, ...] = tuple(f.name.lower() for f in schema.Family)
#: Trait names, in `schema.Trait` order (the columns of the `traits` field).
TRAIT_NAMES: tuple[str, ...] = tuple(t.name.lower() for t in schema.Trait)


def name_indices(values: Iterable[str | int], names: tuple[str, ...], what: str) -> list[int]:
  """Indices into `names` of names or indices (`what` names the kind in errors)."""
  out = []
  for v in values:
    if isinstance(v, str):
      if v not in names:
        raise ValueError(f"unknown {what} {v!r}; known: {', '.join(names)}")
      out.append(names.index(v))
    else:
      out.append(int(v))
  return out


def split_rows(
  split: Mapping[str, np.ndarray],
  *,
  families: Iterable[str | int] = (),
  domains: Iterable[str | int] = (),
  trait: str | int | None = None,
  exclude_families: Iterable[str | int] = (),
) -> np.ndarray:
  """Which scenarios of a split pass a metadata filter.

  keep[i] = (family[i] in families, if any given) & (domain[i] in domains, if any)
            & (traits[i, trait] > 0, if a trait is given)
            & (family[i] not in exclude_families).

  Args:
    split: stacked scenario arrays with `family` int[N] (and `domain` int[N],
      `traits` int[N, NUM_TRAITS] when filtered on them).
    families: keep these families (names or indices); empty = every family.
    domains: keep these domains (names or indices); empty = every domain.
    trait: keep scenarios whose rubric tests this trait (name or index); None = all.
    exclude_families: drop these families (names or indices).

  Returns:
    bool[N].
  """
  family = np.asarray(split["family"])
  keep = np.ones(family.shape[0], bool)
  families, exclude = list(families), list(exclude_families)
  if families:
    keep &= np.isin(family, name_indices(families, FAMILY_NAMES, "family"))
  domains = list(domains)
  if domains:
    keep &= np.isin(np.asarray(split["domain"]), name_indices(domains, lexicon.DOMAINS, "domain"))
  if trait is not None:
    (column,) = name_indices([trait], TRAIT_NAMES, "trait")
    keep &= np.asarray(split["traits"])[:, column] > 0
  if exclude:
    keep &= ~np.isin(family, name_indices(exclude, FAMILY_NAMES, "family"))
  return keep
