"""Load the HBase Thrift1 IDL (``hbase.thrift``, shipped as package data) with thriftpy2.

Role: gives the server and tests the generated-at-runtime module (structs,
exceptions, the ``Hbase`` service); loaded once per process.
Invariants: the module name is ``hedgerow_hbase_thrift`` so it never clashes
with happybase's own ``Hbase_thrift`` in the same process.
Concurrency: guarded by ``_lock``.
"""

from __future__ import annotations

import importlib.resources
import threading
from typing import Any

__all__ = ["IDL_FILE", "load_idl"]

#: the IDL file's name inside this package
IDL_FILE = "hbase.thrift"

_lock = threading.Lock()
_module: Any = None


def load_idl() -> Any:
    """The thriftpy2 module for ``hbase.thrift`` (``.Hbase``, ``.TScan``, ``.IOError`` ...)."""
    global _module
    with _lock:
        if _module is None:
            import thriftpy2

            res = importlib.resources.files("hedgerow.gateways.thrift").joinpath(IDL_FILE)
            with importlib.resources.as_file(res) as path:
                _module = thriftpy2.load(str(path), module_name="hedgerow_hbase_thrift")
        return _module
