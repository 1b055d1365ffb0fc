"""Request deadlines that stop running work: a per-thread deadline that long loops check.

Role: the RPC dispatcher runs each request inside ``scope(at_s, clock, make_error)``
(the caller's deadline, carried in the frame header); loops that may run long for
one request (a region's filtered scan and get, the scanner batch loop) call
``check()`` once per row, which raises ``make_error()`` once the deadline has
passed. The work then unwinds like any failed request and the worker thread is
free again (issue 11, finding 6; tests/rpc/test_server.py and
tests/regressions/test_i11_f6_regex_deadline.py). Code run outside a scope (the
embedded engine, background flushes) sees no deadline: ``check()`` returns at once.
Invariants: ``check()`` raises only inside a scope whose deadline has passed; a
scope restores the enclosing one on exit, so scopes nest.
Concurrency: the current deadline is thread-local; a generator resumed by another
thread (a scanner advanced by another worker) sees that thread's deadline.
Hot path: ``check`` (once per row scanned under a deadline): a thread-local read,
and a clock read when a deadline is set.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from hedgerow._internal.clock import Clock

__all__ = ["Deadline", "check", "current", "scope"]


class Deadline:
    """A point on ``clock``'s monotonic scale and the error to raise past it."""

    __slots__ = ("at_s", "clock", "make_error")

    def __init__(self, at_s: float, clock: Clock, make_error: Callable[[], Exception]) -> None:
        # constant after __init__
        self.at_s = at_s
        self.clock = clock
        self.make_error = make_error

    def expired(self) -> bool:
        return self.clock.monotonic_s() > self.at_s


class _Current(threading.local):
    deadline: Deadline | None = None


_current = _Current()


def current() -> Deadline | None:
    """This thread's deadline, or None outside a scope."""
    return _current.deadline


@contextmanager
def scope(at_s: float, clock: Clock, make_error: Callable[[], Exception]) -> Iterator[Deadline]:
    """Run the body under a deadline; ``check()`` inside it raises ``make_error()`` after
    ``at_s`` (``clock.monotonic_s()`` scale).

    >>> from hedgerow._internal.clock import ManualClock
    >>> clock = ManualClock(0)
    >>> with scope(1.0, clock, lambda: TimeoutError("too late")):
    ...     check()  # in time: nothing happens
    ...     clock.advance_ms(1001)
    ...     check()
    Traceback (most recent call last):
    ...
    TimeoutError: too late
    >>> check()  # outside any scope
    """
    outer = _current.deadline
    d = Deadline(at_s, clock, make_error)
    _current.deadline = d
    try:
        yield d
    finally:
        _current.deadline = outer


def check() -> None:
    """Raise the current deadline's error if it has passed (no-op outside a scope)."""
    d = _current.deadline
    if d is not None and d.clock.monotonic_s() > d.at_s:
        raise d.make_error()
