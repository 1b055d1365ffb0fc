"""The client API: Connection, Table, Batch (shared by embedded and remote deployments)."""

from hedgerow.client.admin import Admin
from hedgerow.client.connection import Connection
from hedgerow.client.table import Batch, Table

__all__ = ["Admin", "Batch", "Connection", "Table"]
