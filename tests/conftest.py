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
