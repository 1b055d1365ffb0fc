"""Shared test configuration: invariant checks on, failpoints disarmed after each test."""

from __future__ import annotations

import os

os.environ.setdefault("HEDGEROW_INVARIANTS", "1")

import pytest  # noqa: E402

from hedgerow._internal import failpoints  # noqa: E402


@pytest.fixture(autouse=True)
def _disarm_failpoints() -> object:
    yield
    failpoints.disarm_all()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked ``slow`` are not in the default run (pyproject's marker says so):
    they are skipped unless a ``-m`` expression is given (e.g. ``-m slow``)."""
    if config.getoption("markexpr", ""):
        return
    skip = pytest.mark.skip(reason="slow: run with -m slow")
    for item in items:
        if item.get_closest_marker("slow") is not None:
            item.add_marker(skip)
