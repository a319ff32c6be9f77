"""A log record's creation time as the JSON lines write it: UTC ISO-8601, cheaply.

`datetime.fromtimestamp(created, timezone.utc).isoformat()` builds a datetime and formats
every field for every line, which is most of the cost of a line. `RecordTime` gives the
same text, digit for digit (microseconds rounded half to even, as `fromtimestamp` rounds
them), and formats the date and time of day once per second.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone

__all__ = ["RecordTime"]


_NO_SECOND = -(2**63)  # no time_ns is within a second of it


class RecordTime:
    __slots__ = ("_second", "_second_ns")

    def __init__(self) -> None:
        # (second, its text); one tuple: read and replaced whole
        self._second: tuple[float, str] = (math.nan, "")
        # (the second's start in ns, its text), for text_ns: a range test, no divmod
        self._second_ns: tuple[int, str] = (_NO_SECOND, "")

    def text(self, created: float) -> str:
        """The text of `datetime.fromtimestamp(created, timezone.utc).isoformat()`."""
        fraction, whole = math.modf(created)
        micro = round(fraction * 1e6)  # as fromtimestamp: half to even, then carried
        if micro >= 1_000_000:
            whole += 1.0
            micro -= 1_000_000
        elif micro < 0:
            whole -= 1.0
            micro += 1_000_000
        return self._text(whole, micro)

    def text_ns(self, ns: int) -> str:
        """The same text for `ns` nanoseconds since the epoch (what `time.time_ns` reads),
        microseconds truncated: an exact instant needs no rounding."""
        start, prefix = self._second_ns
        nanos = ns - start
        if not 0 <= nanos < 1_000_000_000:  # another second than the last one
            whole, nanos = divmod(ns, 1_000_000_000)
            prefix = self._prefix(whole)
            self._second_ns = (ns - nanos, prefix)
        micro = nanos // 1000
        # str(10**6 + micro)[1:] is micro in six digits, cheaper than a format spec
        return f"{prefix}.{str(1_000_000 + micro)[1:]}+00:00" if micro else f"{prefix}+00:00"

    def _text(self, whole: float, micro: int) -> str:
        prefix = self._prefix(whole)
        return f"{prefix}.{micro:06d}+00:00" if micro else f"{prefix}+00:00"

    def _prefix(self, whole: float) -> str:
        """The date and time of day of second `whole`, made once per second."""
        second, prefix = self._second
        if whole != second:
            prefix = datetime.fromtimestamp(whole, timezone.utc).isoformat()[:-6]  # "+00:00"
            self._second = (whole, prefix)
        return prefix
