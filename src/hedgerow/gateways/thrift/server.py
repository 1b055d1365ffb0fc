"""The Thrift1 gateway's network server: sockets, transports, protocols and threads.

Role: ``ThriftServer(connection, ...)`` listens on a TCP port and serves
HBase's ``Hbase`` service (``hbase.thrift``) through ``HbaseHandler``, one thread
per client connection (HBase's default ``-threadpool`` server is also one
thread per connection). Buffered or framed transport, binary or compact
protocol, chosen at start like HBase's ``-f``/``-c`` flags.
Invariants:
- idle connections are kept until the client closes them (``idle_timeout_s``
  None, the default) or for ``idle_timeout_s``; never thriftpy2's 3 s default
  (see ../shared/reference/hbase-happybase.md 1.7);
- a request that fails never ends the server: a Hedgerow or handler error
  becomes an exception the method declares (``SafeProcessor``), a malformed
  message closes only that connection;
- scanners idle longer than ``scanner_lease_s`` are reclaimed by a reaper thread.
Concurrency: the accept loop, the reaper and each connection run in their own
daemon threads; shared state is the handler (thread-safe) and
``_clients`` (guarded by ``_lock``).
Hot path: ``SafeProcessor.process`` (every call); see bench/bench_thrift.py.
"""

from __future__ import annotations

import logging
import socket
import threading
from typing import Any

from hedgerow import Connection
from hedgerow.errors import HedgerowError, InvalidArgument
from hedgerow.gateways.thrift.convert import map_error
from hedgerow.gateways.thrift.handler import HbaseHandler
from hedgerow.gateways.thrift.idl import load_idl

__all__ = ["DEFAULTS", "SafeProcessor", "ThriftServer"]

log = logging.getLogger("hedgerow.gateways.thrift")

#: Server settings and their defaults.
DEFAULTS: dict[str, Any] = {
    # HBase Thrift's default port (hbase.regionserver.thrift.port)
    "port": 9090,
    # loopback unless told otherwise
    "host": "127.0.0.1",
    # seconds an open scanner survives without a call (HBase: 60 s scanner lease)
    "scanner_lease_s": 60.0,
    # seconds an idle connection is kept; None = until the client closes it
    "idle_timeout_s": None,
    # listen backlog
    "backlog": 128,
}


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


class ThriftServer:
    """Serve HBase's Thrift1 ``Hbase`` service for one ``hedgerow.Connection``.

    >>> import hedgerow, tempfile
    >>> conn = hedgerow.connect(tempfile.mkdtemp())
    >>> srv = ThriftServer(conn, port=0, framed=True).start()
    >>> srv.describe().startswith("HBase Thrift1 gateway on 127.0.0.1:")
    True
    >>> srv.stop(); conn.close()
    """

    def __init__(
        self,
        connection: Connection,
        *,
        host: str = DEFAULTS["host"],
        port: int = DEFAULTS["port"],
        framed: bool = False,
        compact: bool = False,
        scanner_lease_s: float = DEFAULTS["scanner_lease_s"],
        idle_timeout_s: float | None = DEFAULTS["idle_timeout_s"],
        backlog: int = DEFAULTS["backlog"],
    ) -> None:
        if idle_timeout_s is not None and idle_timeout_s <= 0:
            raise InvalidArgument(f"idle_timeout_s must be positive or None, got {idle_timeout_s}")
        import importlib

        proto: Any = importlib.import_module("thriftpy2.protocol")
        trans: Any = importlib.import_module("thriftpy2.transport")

        # constant after __init__
        self.ttypes = load_idl()
        self.handler = HbaseHandler(connection, self.ttypes, scanner_lease_s=scanner_lease_s)
        self.host, self.port = host, port
        self.framed, self.compact = framed, compact
        self.idle_timeout_s = idle_timeout_s
        self._backlog = backlog
        self._trans_factory = (
            trans.TFramedTransportFactory() if framed else trans.TBufferedTransportFactory()
        )
        self._proto_factory = (
            proto.TCompactProtocolFactory(decode_response=True)
            if compact
            else proto.TBinaryProtocolFactory(decode_response=True)
        )
        self._processor = SafeProcessor(self.ttypes.Hbase, self.handler, self.ttypes)
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        # guarded by self._lock
        self._listener: socket.socket | None = None
        self._clients: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []

    @property
    def address(self) -> tuple[str, int]:
        """(host, port) actually bound (port 0 asks the OS for a free one)."""
        s = self._listener
        if s is None:
            return self.host, self.port
        h, p = s.getsockname()[:2]
        return str(h), int(p)

    def describe(self) -> str:
        h, p = self.address
        return (
            f"HBase Thrift1 gateway on {h}:{p} "
            f"({'framed' if self.framed else 'buffered'} transport, "
            f"{'compact' if self.compact else 'binary'} protocol, "
            f"scanner lease {self.handler.scanners.lease_s:g} s)"
        )

    # ---- lifecycle -------------------------------------------------------------------
    def start(self) -> ThriftServer:
        """Bind, listen and start serving in background threads; returns self."""
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        s = socket.socket(family, socket.SOCK_STREAM)
        try:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((self.host, self.port))
            s.listen(self._backlog)
            s.settimeout(0.25)  # the accept loop polls for stop()
        except OSError:
            s.close()
            raise
        with self._lock:
            self._listener = s
        self._spawn(self._accept_loop, "thrift-accept")
        self._spawn(self._reap_loop, "thrift-scanner-reaper")
        return self

    def serve_forever(self) -> None:
        """Block until ``stop()`` is called (from a signal handler or another thread)."""
        if self._listener is None:
            self.start()
        self._stopped.wait()

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop accepting, close every client connection and scanner; idempotent."""
        self._stopped.set()
        with self._lock:
            listener, self._listener = self._listener, None
            clients = list(self._clients)
            threads = list(self._threads)
        if listener is not None:
            listener.close()
        for c in clients:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for t in threads:
            if t is not threading.current_thread():
                t.join(timeout_s)
        self.handler.scanners.close_all()

    def __enter__(self) -> ThriftServer:
        return self if self._listener is not None else self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- threads ---------------------------------------------------------------------
    def _spawn(self, target: Any, name: str, *args: Any) -> None:
        t = threading.Thread(target=target, args=args, name=name, daemon=True)
        with self._lock:
            self._threads = [x for x in self._threads if x.is_alive()]
            self._threads.append(t)
        t.start()

    def _accept_loop(self) -> None:
        while not self._stopped.is_set():
            listener = self._listener
            if listener is None:
                return
            try:
                client, peer = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                if self._stopped.is_set():
                    return
                log.exception("accept failed")
                continue
            with self._lock:
                self._clients.add(client)
            self._spawn(self._serve_client, f"thrift-conn-{peer[0]}:{peer[1]}", client, peer)

    def _reap_loop(self) -> None:
        reg = self.handler.scanners
        interval = min(max(reg.lease_s / 4, 0.05), 5.0)
        while not self._stopped.wait(interval):
            n = reg.reap()
            if n:
                log.info("reclaimed %d scanner(s) idle for over %g s", n, reg.lease_s)

    def _serve_client(self, client: socket.socket, peer: Any) -> None:
        import importlib

        tmod: Any = importlib.import_module("thriftpy2.transport")
        TTransportException = tmod.TTransportException

        client.settimeout(self.idle_timeout_s)
        client.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        if client.family in (socket.AF_INET, socket.AF_INET6):
            client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        trans: Any = self._trans_factory.get_transport(tmod.TSocket(sock=client))
        proto = self._proto_factory.get_protocol(trans)
        process = self._processor.process
        try:
            while not self._stopped.is_set():
                process(proto, proto)
        except TTransportException:
            pass  # the client closed the connection
        except TimeoutError:
            log.info("closing connection from %s idle for %s s", peer, self.idle_timeout_s)
        except OSError:
            pass  # reset by the peer, or stop() shut the socket
        except Exception as e:  # malformed message: drop this connection only
            log.warning("closing connection from %s after a malformed request: %r", peer, e)
        finally:
            with self._lock:
                self._clients.discard(client)
            try:
                trans.close()
            except Exception:
                client.close()
