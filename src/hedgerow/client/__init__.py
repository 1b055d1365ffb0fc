"""The client API: Connection, Table, Batch (shared by embedded and remote deployments)."""

from hedgerow.client.connection import Connection
from hedgerow.client.table import Batch, Table

__all__ = ["Batch", "Connection", "Table"]
