"""Randomized model-based test: random operations against the engine and a reference model.

Every answer must be identical. Tiny flush and compaction thresholds make
flushes and minor compactions happen every few operations; explicit major
compactions, flushes and close/reopen cycles (WAL replay) are mixed in; an
injected clock drives TTL expiry.

A failure prints the seed; replay it with
``HEDGEROW_MODEL_SEED=<seed> pytest tests/engine/test_model_based.py``.
Extra seeds: ``HEDGEROW_MODEL_SEEDS=20 HEDGEROW_MODEL_OPS=5000``.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

from .model_runner import Runner

_seed_env = os.environ.get("HEDGEROW_MODEL_SEED")
SEEDS = (
    [int(_seed_env)]
    if _seed_env
    else list(range(1, 1 + int(os.environ.get("HEDGEROW_MODEL_SEEDS", "8"))))
)
OPS = int(os.environ.get("HEDGEROW_MODEL_OPS", "2600"))


@pytest.mark.parametrize("seed", SEEDS)
def test_engine_matches_model(seed: int, tmp_path: Any) -> None:
    Runner(seed, str(tmp_path / "db")).run(OPS)


def test_engine_matches_model_with_compactions_in_a_worker_process(tmp_path: Any) -> None:
    """The same operations with every compaction run by a worker process
    (``compaction_processes``, as hedgerow standalone runs them)."""
    Runner(SEEDS[0] + 100, str(tmp_path / "db"), compaction_processes=1).run(OPS)
