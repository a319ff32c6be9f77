"""Log codes of `ibguard check` (logger `ibguard.rules`).

Every record the rules side writes carries one of these as ``extra={"code": ...}``; tests
assert on the code, never on the wording. Findings are not logged: they are the report.
"""

from __future__ import annotations

from enum import Enum

__all__ = ["CheckLogCode"]


class CheckLogCode(str, Enum):
    CACHE_CORRUPT = "CHECK_CACHE_CORRUPT"  # unreadable or malformed: ignored, rebuilt on save
    CACHE_UNWRITABLE = "CHECK_CACHE_UNWRITABLE"  # could not save: the next run starts cold
