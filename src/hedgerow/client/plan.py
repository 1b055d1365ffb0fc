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
generator and one ``send`` over the backend call itself, about 0.8 us
(bench/client_overhead.py, docs/benchmarks.md).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine, Generator
from types import MethodType
from typing import TYPE_CHECKING, Any, Concatenate, Generic, ParamSpec, TypeVar, overload

from hedgerow._internal.sansio import drive_async
from hedgerow.rpc.operations import Operations

if TYPE_CHECKING:
    from hedgerow.client.backend import AsyncBackend, Backend

__all__ = ["Awaiting", "Blocking", "Flavoured", "Plan", "Step", "call", "making", "method"]

P = ParamSpec("P")
R = TypeVar("R")
A = TypeVar("A")
B = TypeVar("B")
S = TypeVar("S")


#: one backend call a plan asks for: ``(op, args, kwargs)`` for ``backend.call(op, *args,
#: **kwargs)`` (a plain tuple: built on every call, so as cheap as it gets)
Step = tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]


#: a plan: yields ``Step``s, is sent each step's result, returns the method's result
Plan = Generator[Step, Any, R]


def call(
    op: Callable[Concatenate[Operations, P], R], *args: P.args, **kwargs: P.kwargs
) -> Generator[Step, Any, R]:
    """The plan of one backend call (``yield from call(Operations.get, t, row, spec)``)."""
    result: R = yield (op, args, kwargs)
    return result


async def _run_async(backend: AsyncBackend, steps: Plan[R]) -> R:
    """Run a plan on an asyncio backend, awaiting each call."""

    async def perform(step: Step) -> Any:
        op, args, kwargs = step
        return await backend.call(op, *args, **kwargs)

    return await drive_async(steps, perform)


class Blocking:
    """Base of the blocking client classes: their plans run on ``self._backend``."""

    _backend: Backend

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _install(cls, "_run")


class Awaiting:
    """Base of the asyncio client classes: their plans are awaited on ``self._backend``."""

    _backend: AsyncBackend

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _install(cls, "_run_async")


def _install(cls: type, flavour: str) -> None:
    """Give a concrete class each inherited ``Flavoured`` method as the plain function of
    its flavour, so that a call binds like any method (no descriptor call per access).
    What it binds is what ``Flavoured.__get__`` would return: the types mypy checked."""
    for name in dir(cls):
        attr = getattr(cls, name, None)
        if isinstance(attr, Flavoured):
            setattr(cls, name, getattr(attr, flavour))


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
        # _internal.sansio.drive, inlined: this is every blocking client call's path
        steps, backend = plan(obj, *args, **kwargs), obj._backend
        try:
            op, a, k = steps.send(None)
            while True:
                try:
                    answer = backend.call(op, *a, **k)
                except Exception as e:
                    op, a, k = steps.throw(e)
                else:
                    op, a, k = steps.send(answer)
        except StopIteration as done:
            result: R = done.value
            return result

    async def run_async(obj: Awaiting, /, *args: P.args, **kwargs: P.kwargs) -> R:
        return await _run_async(obj._backend, plan(obj, *args, **kwargs))

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
