"""The client API: Connection, Table, Batch, Admin and their asyncio twins.

Shared by embedded and remote deployments: every method is a plan (client/plan.py)
over a backend (client/backend.py) that runs the operations of
``hedgerow.rpc.operations``.
"""

from hedgerow.client.admin import Admin, AsyncAdmin
from hedgerow.client.batch import AsyncBatch, Batch
from hedgerow.client.connection import AsyncConnection, Connection
from hedgerow.client.table import AsyncScan, AsyncTable, Table

__all__ = [
    "Admin",
    "AsyncAdmin",
    "AsyncBatch",
    "AsyncConnection",
    "AsyncScan",
    "AsyncTable",
    "Batch",
    "Connection",
    "Table",
]
