"""Named failpoints at durability boundaries; no-ops unless armed.

Names are ``layer.component.event`` (e.g. ``storage.wal.after_write``).
Tests arm one with an action: raise an exception, or kill the process
(``"exit"`` calls ``os._exit(137)``, simulating a crash at that exact step;
``"sigkill"`` sends the process SIGKILL; ``"sigterm"`` sends it SIGTERM and then holds
the calling thread, so the process stops through its signal handler while the step
never completes: an operator's stop in the middle of a procedure).
Arming from the environment: ``HEDGEROW_FAILPOINTS="name=exit,other=raise"``.

Concurrency: arming is done before the code under test runs; ``hit`` only reads.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable

__all__ = ["FailpointError", "arm", "disarm", "disarm_all", "hit"]


class FailpointError(RuntimeError):
    """Raised by a failpoint armed with ``"raise"``."""


_armed: dict[str, Callable[[], None]] = {}


def _raise(name: str) -> Callable[[], None]:
    def action() -> None:
        raise FailpointError(f"failpoint {name} triggered")

    return action


def _exit() -> None:
    os._exit(137)


def _sigkill() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _sigterm() -> None:
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(3600)  # the procedure never goes on; the process stops meanwhile


def arm(name: str, action: str | Callable[[], None] = "raise") -> None:
    """Arm failpoint ``name`` with ``"raise"``, ``"exit"``, ``"sigkill"``, ``"sigterm"``
    or a callable."""
    if action == "raise":
        _armed[name] = _raise(name)
    elif action == "exit":
        _armed[name] = _exit
    elif action == "sigkill":
        _armed[name] = _sigkill
    elif action == "sigterm":
        _armed[name] = _sigterm
    elif callable(action):
        _armed[name] = action
    else:
        raise ValueError(f"unknown failpoint action {action!r}")


def disarm(name: str) -> None:
    _armed.pop(name, None)


def disarm_all() -> None:
    _armed.clear()


def hit(name: str) -> None:
    """Run the action armed for ``name``, if any (a dict lookup otherwise)."""
    if _armed:
        action = _armed.get(name)
        if action is not None:
            action()


def _arm_from_env() -> None:
    spec = os.environ.get("HEDGEROW_FAILPOINTS", "")
    for item in filter(None, (s.strip() for s in spec.split(","))):
        name, _, action = item.partition("=")
        arm(name, action or "raise")


_arm_from_env()
