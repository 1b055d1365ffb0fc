"""SafeProcessor: the Thrift processor that never lets a request end the gateway.

Role: ``ThriftServer`` decodes each request with it and calls ``HbaseHandler``;
a handler error becomes an exception the method's IDL ``throws`` clause
declares (through ``convert.map_error``), anything else an application
exception for that one call.
Invariants: every answer is a well-formed reply or exception message for the
request's method and seqid; an error is logged (WARNING) and never escapes the
processor.
Concurrency: the processor class is built once per call of ``SafeProcessor``;
an instance holds no per-request state and is shared by the worker threads.
"""

from __future__ import annotations

import logging
from typing import Any

from hedgerow.errors import HedgerowError
from hedgerow.gateways.thrift.convert import map_error

__all__ = ["SafeProcessor"]

log = logging.getLogger("hedgerow.gateways.thrift")


def _declared(service: Any) -> dict[str, frozenset[str]]:
    """Method name -> names of the exceptions its IDL ``throws`` clause declares."""
    out = {}
    for api in service.thrift_services:
        spec = getattr(service, api + "_result").thrift_spec
        out[api] = frozenset(v[2].__name__ for k, v in spec.items() if v[1] != "success")
    return out


def _make_processor_class() -> Any:
    from thriftpy2.thrift import TApplicationException, TMessageType, TProcessor

    class _SafeProcessor(TProcessor):
        """thriftpy2's processor, but every handler error becomes a declared exception.

        thriftpy2 re-raises an undeclared error, which drops the connection;
        here a Hedgerow error maps per ``convert.map_error`` and anything a
        method cannot declare becomes ``TApplicationException(INTERNAL_ERROR)``.
        """

        def __init__(self, service: Any, handler: Any, ttypes: Any) -> None:
            super().__init__(service, handler)
            self._ttypes = ttypes
            self._declared = _declared(service)
            self._idl_exc = (ttypes.IOError, ttypes.IllegalArgument, ttypes.AlreadyExists)

        def process(self, iprot: Any, oprot: Any) -> None:
            api, seqid, result, call = self.process_in(iprot)
            if isinstance(result, TApplicationException):
                self.send_exception(oprot, api, result, seqid)
                return
            assert call is not None
            try:
                result.success = call()
            except TApplicationException as e:
                self.send_exception(oprot, api, e, seqid)
                return
            except Exception as e:
                declared = self._declared.get(api, frozenset())
                if isinstance(e, self._idl_exc):
                    err = e
                    if type(e).__name__ not in declared:  # e.g. IllegalArgument -> IOError
                        err = self._ttypes.IOError(message=str(e.message), canRetry=False)
                else:
                    err = map_error(self._ttypes, e, declared)
                    if not isinstance(e, HedgerowError):
                        log.warning("%s failed: %r", api, e, exc_info=e)
                if not self.handle_exception(err, result):
                    self.send_exception(
                        oprot,
                        api,
                        TApplicationException(TApplicationException.INTERNAL_ERROR, f"{api}: {e}"),
                        seqid,
                    )
                    return
            if not result.oneway:
                oprot.write_message_begin(api, TMessageType.REPLY, seqid)
                result.write(oprot)
                oprot.write_message_end()
                oprot.trans.flush()

    return _SafeProcessor


_processor_cls: Any = None


def SafeProcessor(service: Any, handler: Any, ttypes: Any) -> Any:  # noqa: N802 - a factory
    """A thriftpy2 processor that never lets a handler error drop the connection."""
    global _processor_cls
    if _processor_cls is None:
        _processor_cls = _make_processor_class()
    return _processor_cls(service, handler, ttypes)
