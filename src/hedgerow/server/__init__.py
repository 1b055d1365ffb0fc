"""Servers: ``hedgerow standalone`` (engine + RPC + gateways in one process)."""

from hedgerow.server.standalone import StandaloneServer

__all__ = ["StandaloneServer"]
