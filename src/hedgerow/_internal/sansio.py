"""Drivers of sans-I/O plans: generators that yield what to do and are sent the outcome.

Role: the client's plans (client/plan.py) and the RPC routing plans
(rpc/routing.py) do no I/O; ``drive`` runs one by performing each yielded action
with a blocking function, ``drive_async`` with a coroutine function.  An action's
exception (``Exception`` only: cancellation and interrupts are not sent in) is
thrown into the plan at its ``yield``, so a plan may catch it.
Concurrency: a plan is driven by one thread or coroutine, start to end.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Generator
from typing import Any, TypeVar

__all__ = ["drive", "drive_async"]

A = TypeVar("A")
R = TypeVar("R")


def drive(plan: Generator[A, Any, R], perform: Callable[[A], Any]) -> R:
    """Run ``plan`` to its end, blocking on ``perform`` for each action."""
    outcome: Any = None
    failed = False
    while True:
        try:
            action = plan.throw(outcome) if failed else plan.send(outcome)
        except StopIteration as done:
            result: R = done.value
            return result
        try:
            outcome, failed = perform(action), False
        except Exception as e:
            outcome, failed = e, True


async def drive_async(plan: Generator[A, Any, R], perform: Callable[[A], Awaitable[Any]]) -> R:
    """``drive``, awaiting ``perform`` for each action."""
    outcome: Any = None
    failed = False
    while True:
        try:
            action = plan.throw(outcome) if failed else plan.send(outcome)
        except StopIteration as done:
            result: R = done.value
            return result
        try:
            outcome, failed = await perform(action), False
        except Exception as e:
            outcome, failed = e, True
