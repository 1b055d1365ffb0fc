"""The embedded engine: one data directory's catalog, WAL, regions and background work."""

from hedgerow.engine.config import DEFAULTS, EngineConfig
from hedgerow.engine.engine import Engine

__all__ = ["DEFAULTS", "Engine", "EngineConfig"]
