"""CLOCK-01: engine code reads the host's wall clock.

The engine core runs on broker time (DESIGN.md "Time"): a host clock read makes decisions
depend on the machine's clock and time zone, and makes the core untestable without patching.
"""

from __future__ import annotations

from typing import Final

import libcst as cst
from ibguard.rules.base import Invalid, Rule, Target, Valid

__all__ = ["EngineReadsWallClock"]

# Calls that read the clock whatever their arguments.
_ALWAYS: Final = frozenset(
    {
        "datetime.datetime.now",
        "datetime.datetime.utcnow",
        "datetime.datetime.today",
        "datetime.date.today",
        "time.time",
        "time.time_ns",
        "pandas.Timestamp.now",
        "pandas.Timestamp.utcnow",
        "pandas.Timestamp.today",
        "arrow.now",
        "arrow.utcnow",
        "pendulum.now",
        "pendulum.today",
    }
)
# Calls that read the clock only when given no argument (`time.localtime()` vs `(secs)`).
_WITHOUT_ARGS: Final = frozenset({"time.localtime", "time.gmtime", "time.ctime", "time.asctime"})


class EngineReadsWallClock(Rule):
    """Engine code must take time from broker events, never from the host clock.

    Reports, in engine files, calls that read the wall clock, resolved through aliases:
    `datetime.now()`, `datetime.utcnow()`, `datetime.today()`, `date.today()`, `time.time()`,
    `time.time_ns()`, argument-less `time.localtime()`/`gmtime()`/`ctime()`/`asctime()`, and
    the `now`/`today` constructors of pandas, arrow and pendulum.
    """

    id = "CLOCK-01"
    MESSAGE = "engine code reads the wall clock; use broker time from events (Tick.now)"
    TARGET = Target.ENGINE
    CANNOT = (
        "Clocks reached through objects (`loop.time()`, an injected clock - which is the fix), "
        "monotonic timers (`time.monotonic()` measures durations, not the time of day), "
        "and `datetime.fromtimestamp(time())` built from an unresolvable value."
    )

    VALID = (
        Valid("""
            from datetime import datetime, timezone
            def on_tick(now: datetime) -> datetime:
                return now.astimezone(timezone.utc)
            """),
        Valid("""
            import time
            started = time.monotonic()
            stamp = time.localtime(1_700_000_000)
            """),
        Valid("""
            class Clock:
                def now(self): ...
            def handle(clock: Clock):
                return clock.now()
            """),
    )

    INVALID = (
        Invalid("import datetime\nstamp = datetime.datetime.now()\n", 2, 9),
        Invalid("from datetime import datetime as dt\nstamp = dt.utcnow()\n", 2, 9),
        Invalid("from datetime import date\ntoday = date.today()\n", 2, 9),
        Invalid("import time as t\nnow = t.time()\n", 2, 7),
        Invalid("from time import localtime\nparts = localtime()\n", 2, 9),
        Invalid("import pandas as pd\nts = pd.Timestamp.now(tz='UTC')\n", 2, 6),
    )

    def visit_Call(self, node: cst.Call) -> None:
        value = self.resolver.value_of(node.func)
        if value is None:
            return
        if value.qualname in _ALWAYS or (value.qualname in _WITHOUT_ARGS and not node.args):
            self.report(node, f"`{value.qualname}()`")
