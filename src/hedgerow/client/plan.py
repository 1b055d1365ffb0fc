"""One source for the blocking and asyncio client: plans, and the two drivers that run them.

Role: every client method (``Table.row``, ``Connection.create_table``,
``Admin.split``...) is written once, as a *plan*: a generator that validates its
arguments, yields the backend calls it needs (``yield from call(Operations.get,
...)``) and returns the method's result.  A plan does no I/O.  ``blocking(plan)``
makes it a method of a blocking class (``Table``), whose backend runs each call
and sends the answer back in; ``awaiting(plan)`` makes it a coroutine method of
an asyncio class (``AsyncTable``), which awaits each call instead.  The two
flavours therefore share every argument check, request and result shape, and
their signatures are the plan's own (``ParamSpec``: mypy checks every call).
Invariants: a backend error is thrown into the plan at its ``yield``, so a plan
may catch it; the class a method is bound to holds its backend in ``_backend``
(a ``Backend`` for ``blocking``, an ``AsyncBackend`` for ``awaiting``).
Concurrency: a plan runs on the caller's thread (or coroutine), start to end.
Hot path: every client call runs one plan; a plan with one call costs one
generator and one ``send`` over the backend call itself (bench/bench_engine.py).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine, Generator
from dataclasses import dataclass
from typing import Any, Concatenate, ParamSpec, TypeVar

from hedgerow._internal.sansio import drive, drive_async
from hedgerow.rpc.operations import Operations

__all__ = ["Plan", "Step", "awaiting", "blocking", "call"]

P = ParamSpec("P")
R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class Step:
    """One backend call a plan asks for: ``backend.call(op, *args, **kwargs)``."""

    op: Callable[..., Any]
    args: tuple[Any, ...]
    kwargs: dict[str, Any]


#: a plan: yields ``Step``s, is sent each step's result, returns the method's result
Plan = Generator[Step, Any, R]


def call(
    op: Callable[Concatenate[Operations, P], R], *args: P.args, **kwargs: P.kwargs
) -> Generator[Step, Any, R]:
    """The plan of one backend call (``yield from call(Operations.get, t, row, spec)``)."""
    result: R = yield Step(op, args, kwargs)
    return result


def _perform(backend: Any) -> Callable[[Step], Any]:
    def perform(step: Step) -> Any:
        return backend.call(step.op, *step.args, **step.kwargs)

    return perform


def blocking(plan: Callable[Concatenate[Any, P], Plan[R]]) -> Callable[Concatenate[Any, P], R]:
    """``plan`` as a method of a blocking class: each step runs on ``self._backend``."""

    @functools.wraps(plan)
    def method(self: Any, /, *args: P.args, **kwargs: P.kwargs) -> R:
        return drive(plan(self, *args, **kwargs), _perform(self._backend))

    return method


def awaiting(
    plan: Callable[Concatenate[Any, P], Plan[R]],
) -> Callable[Concatenate[Any, P], Coroutine[Any, Any, R]]:
    """``plan`` as a coroutine method of an asyncio class: each step is awaited on
    ``self._backend``."""

    @functools.wraps(plan)
    async def method(self: Any, /, *args: P.args, **kwargs: P.kwargs) -> R:
        return await drive_async(plan(self, *args, **kwargs), _perform(self._backend))

    return method
