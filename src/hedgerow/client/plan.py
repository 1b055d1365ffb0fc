"""One source for the blocking and asyncio client: plans, and the two drivers that run them.

Role: every client method (``Table.row``, ``Connection.create_table``,
``Admin.split``...) is written once, as a *plan*: a generator that validates its
arguments, yields the backend calls it needs (``yield from call(Operations.get,
...)``) and returns the method's result.  A plan does no I/O.  ``method(plan)``
binds it, once, in a class both flavours inherit: on a blocking instance
(``Table``, a ``Blocking``) the backend runs each call and the answer is sent
back in; on an asyncio instance (``AsyncTable``, an ``Awaiting``) each call is
awaited instead and the method is a coroutine.  The two flavours therefore share
every method, argument check, request and result shape, and their signatures
are the plan's own (``ParamSpec`` and an overloaded ``__get__``: mypy checks
every call and knows which flavour returns a coroutine).
Invariants: a backend error is thrown into the plan at its ``yield``, so a plan
may catch it; the class a method is bound to holds its backend in ``_backend``
(a ``Backend`` on a ``Blocking`` class, an ``AsyncBackend`` on an ``Awaiting`` one).
Concurrency: a plan runs on the caller's thread (or coroutine), start to end.
Hot path: every client call runs one plan; a plan with one call costs one
generator and one ``send`` over the backend call itself (bench/bench_engine.py).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine, Generator
from dataclasses import dataclass
from types import MethodType
from typing import TYPE_CHECKING, Any, Concatenate, Generic, ParamSpec, TypeVar, overload

from hedgerow._internal.sansio import drive, drive_async
from hedgerow.rpc.operations import Operations

if TYPE_CHECKING:
    from hedgerow.client.backend import AsyncBackend, Backend

__all__ = ["Awaiting", "Blocking", "Flavoured", "Plan", "Step", "call", "making", "method"]

P = ParamSpec("P")
R = TypeVar("R")
A = TypeVar("A")
B = TypeVar("B")
S = TypeVar("S")


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


class Blocking:
    """Base of the blocking client classes: their plans run on ``self._backend``."""

    _backend: Backend


class Awaiting:
    """Base of the asyncio client classes: their plans are awaited on ``self._backend``."""

    _backend: AsyncBackend


class Flavoured(Generic[P, B, A]):
    """A method of both flavours: ``run`` on a ``Blocking`` instance, ``run_async`` on an
    ``Awaiting`` one, both with the parameters ``P`` of the plan they were made from.
    Declared once, in a class both flavours inherit, so they cannot drift."""

    __wrapped__: Callable[..., Any]

    def __init__(
        self,
        plan: Callable[..., Any],
        run: Callable[Concatenate[Blocking, P], B],
        run_async: Callable[Concatenate[Awaiting, P], A],
    ) -> None:
        self.__doc__ = plan.__doc__
        self.__wrapped__ = plan  # inspect.signature shows the plan's parameters
        self._run = functools.wraps(plan)(run)
        self._run_async = functools.wraps(plan)(run_async)

    @overload
    def __get__(self, obj: None, owner: type) -> Flavoured[P, B, A]: ...
    @overload
    def __get__(self, obj: Awaiting, owner: type | None = None) -> Callable[P, A]: ...
    @overload
    def __get__(self, obj: Blocking, owner: type | None = None) -> Callable[P, B]: ...
    def __get__(self, obj: object, owner: type | None = None) -> Any:
        if obj is None:
            return self
        return MethodType(self._run_async if isinstance(obj, Awaiting) else self._run, obj)


def method(
    plan: Callable[Concatenate[Any, P], Plan[R]],
) -> Flavoured[P, R, Coroutine[Any, Any, R]]:
    """A plan as a method: it runs to its result on a ``Blocking`` instance and is a
    coroutine on an ``Awaiting`` one (``x = method(x)`` in a class both inherit)."""

    def run(obj: Blocking, /, *args: P.args, **kwargs: P.kwargs) -> R:
        return drive(plan(obj, *args, **kwargs), _perform(obj._backend))

    async def run_async(obj: Awaiting, /, *args: P.args, **kwargs: P.kwargs) -> R:
        return await drive_async(plan(obj, *args, **kwargs), _perform(obj._backend))

    return Flavoured(plan, run, run_async)


def making(
    plan: Callable[Concatenate[Any, P], S],
    make: Callable[[Backend, S], B],
    make_async: Callable[[AsyncBackend, S], A],
) -> Flavoured[P, B, A]:
    """A method that checks its arguments (``plan`` returns a spec, doing no I/O) and
    builds an object on the backend: ``make`` for a blocking instance, ``make_async``
    for an asyncio one (a scan's iterator, a batch)."""

    def run(obj: Blocking, /, *args: P.args, **kwargs: P.kwargs) -> B:
        return make(obj._backend, plan(obj, *args, **kwargs))

    def run_async(obj: Awaiting, /, *args: P.args, **kwargs: P.kwargs) -> A:
        return make_async(obj._backend, plan(obj, *args, **kwargs))

    return Flavoured(plan, run, run_async)
