"""Which subject method a case is in, and what to say when one raises or hangs.

Owns `CallLog` (the stack of subject methods running now, shared by every stage of a case),
`Tracked` (a subject seen through the log: every method call and property read is recorded,
and an exception out of the subject becomes a `SubjectError` naming the method), and
`case_deadline` (the per-case timeout: when it expires, `CaseTimeout` is raised in whatever
runs, naming the subject method it hangs in).

The deadline is a POSIX interval timer (SIGALRM), so it interrupts pure-Python loops and
blocking sleeps alike; where there is no such timer (Windows, a thread other than the main
one) the case runs without one. `CaseTimeout` derives from BaseException so that an
engine's own `except Exception` cannot swallow it.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any, Final, final

__all__ = ["CallLog", "CaseTimeout", "SubjectError", "Tracked", "case_deadline", "where_raised"]

_KIT_FOLDER: Final = Path(__file__).resolve().parent.parent  # ibguard/kit


class SubjectError(AssertionError):
    """The subject raised from one of its methods (the case fails: a crash is a failure)."""

    def __init__(self, method: str, error: BaseException) -> None:
        self.method = method
        self.error = error
        name = type(error).__name__
        detail = str(error).splitlines()[0][:300] if str(error) else ""
        super().__init__(
            f"the subject's {method} raised {name}" + (f": {detail}" if detail else "")
        )


class CaseTimeout(BaseException):
    """The case ran past its deadline (`case-timeout` in [tool.ibguard])."""


@final
class CallLog:
    """The subject methods running right now, innermost last."""

    __slots__ = ("running",)

    def __init__(self) -> None:
        self.running: list[str] = []

    @property
    def current(self) -> str | None:
        return self.running[-1] if self.running else None

    @contextlib.contextmanager
    def call(self, method: str) -> Iterator[None]:
        self.running.append(method)
        try:
            yield
        except (SubjectError, CaseTimeout):
            raise
        except Exception as error:
            raise SubjectError(method, error) from error
        finally:
            self.running.pop()


class Tracked:
    """`subject` with every method call and property read going through `log`."""

    __slots__ = ("_log", "_subject")

    def __init__(self, subject: object, log: CallLog) -> None:
        object.__setattr__(self, "_subject", subject)
        object.__setattr__(self, "_log", log)

    def __getattr__(self, name: str) -> Any:
        subject, log = self._subject, self._log
        if name.startswith("__"):
            return getattr(subject, name)
        with log.call(name):
            value = getattr(subject, name)
        if not callable(value) or isinstance(value, type):
            return value

        def tracked(*args: Any, **kwargs: Any) -> Any:
            with log.call(f"{name}()"):
                return value(*args, **kwargs)

        return tracked

    def __setattr__(self, name: str, value: object) -> None:
        setattr(self._subject, name, value)

    def __repr__(self) -> str:
        return repr(self._subject)


@contextlib.contextmanager
def case_deadline(seconds: float, log: CallLog, case_id: str) -> Iterator[None]:
    """Raise CaseTimeout in the running code once `seconds` have passed."""
    usable = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if not usable or seconds <= 0:
        yield
        return

    def expire(signum: int, frame: FrameType | None) -> None:
        where = log.current
        inside = f"in the subject's {where}" if where else "in the kit, outside any subject call"
        raise CaseTimeout(
            f"{case_id} did not finish within {seconds:g} s: it hangs {inside} "
            "(raise case-timeout in [tool.ibguard] if the engine is only slow)"
        )

    previous: Callable[..., Any] | int | None = signal.signal(signal.SIGALRM, expire)
    started = time.monotonic()
    # an outer timer (pytest-timeout's signal method) is put back with what it had left
    outer_delay, outer_interval = signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous if previous is not None else signal.SIG_DFL)
        if outer_delay:
            left = max(outer_delay - (time.monotonic() - started), 0.001)
            signal.setitimer(signal.ITIMER_REAL, left, outer_interval)


def where_raised(error: BaseException, limit: int = 3) -> list[str]:
    """The innermost frames of `error`'s traceback outside ibguard's kit, as
    "path:line in function" lines (the subject's and its engine's own code)."""
    tb: TracebackType | None = error.__traceback__
    frames = [
        frame
        for frame in traceback.extract_tb(tb)
        if _KIT_FOLDER not in Path(frame.filename).resolve().parents
    ]
    return [f"{f.filename}:{f.lineno} in {f.name}" for f in frames[-limit:]]
