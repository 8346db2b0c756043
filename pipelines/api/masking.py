"""What a caller sees of each column: in clear up to the role's clearance, masked above it.

A column's level is its JR/T 0197 classification, raised to the minimum level of its JR/T 0171 personal-information
class (C1→L2, C2→L3, C3→L4, from ``catalog/classification_policy.yml``); a column the catalog does not classify
counts as L5, and L5 (核心) is never served in clear. Masking happens in SQL, so every format keeps the column's type:

- text: the first character and ``***`` (e.g. ``湖***``), so a row stays recognisable to someone entitled to the
  next level; text holding personal information shows ``******`` only, nothing of the value;
- every other type (numbers, dates, booleans): NULL.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from pipelines.api.access import LEVELS, Role, level_number
from pipelines.catalog.collect import read_yaml
from pipelines.lake.sql import quote

UNCLASSIFIED_LEVEL = 5
TEXT_TYPES = ("VARCHAR", "TEXT", "STRING", "CHAR", "BPCHAR")


@functools.cache
def pi_minimum_levels() -> dict[str, int]:
    policy = read_yaml("classification_policy.yml")  # the catalog's own reader of what people decide
    return {name: level_number(spec["minimum_level"])
            for name, spec in (policy.get("personal_information_classes") or {}).items()}


@dataclass(frozen=True)
class Column:
    name: str
    data_type: str  # DuckDB's type of the published relation (not the catalog's), e.g. DECIMAL(18,2)
    description: str | None = None
    classification: str | None = None
    personal_information: str | None = None

    @property
    def level(self) -> int:
        level = level_number(self.classification) or UNCLASSIFIED_LEVEL
        if self.personal_information:
            level = max(level, pi_minimum_levels().get(self.personal_information, UNCLASSIFIED_LEVEL))
        return level

    @property
    def level_label(self) -> str:
        return LEVELS[self.level - 1]

    @property
    def is_text(self) -> bool:
        return self.data_type.upper() in TEXT_TYPES

    def in_clear_for(self, role: Role) -> bool:
        return self.level <= role.clearance and self.level < UNCLASSIFIED_LEVEL

    def masking(self) -> str:
        """How the column looks masked, for the column listing."""
        if not self.is_text:
            return "null"
        return "full" if self.personal_information else "partial"

    def projection(self, role: Role, table: str = "src") -> str:
        """The SELECT item for this column, masked unless the role sees it in clear."""
        ref = f"{table}.{quote(self.name)}"
        if self.in_clear_for(role):
            expr = ref
        elif not self.is_text:
            expr = f"CAST(NULL AS {self.data_type})"  # the type string comes from DuckDB itself, not the request
        elif self.personal_information:
            expr = f"CASE WHEN {ref} IS NULL THEN NULL ELSE '******' END"
        else:
            expr = f"CASE WHEN {ref} IS NULL THEN NULL ELSE left({ref}, 1) || '***' END"
        return f"{expr} AS {quote(self.name)}"
