"""LocalZooKeeper: a real Apache ZooKeeper server on a free loopback port, for tests and
``hedgerow cluster up``-style development clusters.

Role: starts ``org.apache.zookeeper.server.ZooKeeperServerMain`` (standalone mode) with Java,
from Debian's ``zookeeper`` package (``/usr/share/java/zookeeper.jar``, whose manifest names
its libraries) or from ``$HEDGEROW_ZOOKEEPER_HOME`` (a directory holding ``zookeeper*.jar``
and/or ``lib/*.jar``), in a temporary directory of its own: ``zoo.cfg``, the data directory
and ``zookeeper.log``. Binds 127.0.0.1 only; the AdminServer (an HTTP port) is disabled.
``scripts/_zookeeper.sh`` installs the package when it is missing.

Session timeouts: the server grants between 2 and 20 ticks (ZooKeeper's
``minSessionTimeout``/``maxSessionTimeout`` defaults,
apache/zookeeper zookeeper-docs/src/main/resources/markdown/zookeeperAdmin.md), so a small
``tick_ms`` lets tests expire sessions in about a second.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
from pathlib import Path
from types import TracebackType

from hedgerow._internal.clock import Clock, SystemClock
from hedgerow.errors import CoordinationError

__all__ = [
    "LocalZooKeeper",
    "ZooKeeperNotInstalled",
    "expire_session",
    "find_zookeeper_classpath",
]

DEBIAN_JAR = Path("/usr/share/java/zookeeper.jar")
MAIN_CLASS = "org.apache.zookeeper.server.ZooKeeperServerMain"


class ZooKeeperNotInstalled(CoordinationError):
    """No ZooKeeper jar or no ``java`` here (run ``scripts/_zookeeper.sh``); a test-setup error,
    not a wire error (it has its parent's code)."""


def find_zookeeper_classpath() -> str:
    """The Java class path that runs a ZooKeeper server, or ZooKeeperNotInstalled."""
    home = os.environ.get("HEDGEROW_ZOOKEEPER_HOME")
    if home:
        jars = sorted(Path(home).glob("zookeeper*.jar")) + sorted(Path(home).glob("lib/*.jar"))
        if not jars:
            raise ZooKeeperNotInstalled(
                f"HEDGEROW_ZOOKEEPER_HOME={home!r} holds no zookeeper*.jar or lib/*.jar"
            )
        return os.pathsep.join(str(j) for j in jars)
    if DEBIAN_JAR.is_file():
        return str(DEBIAN_JAR)  # its manifest's Class-Path names the libraries
    raise ZooKeeperNotInstalled(
        f"ZooKeeper is not installed ({DEBIAN_JAR} missing): "
        "run `. scripts/_zookeeper.sh; ensure_zookeeper` or set HEDGEROW_ZOOKEEPER_HOME"
    )


def _free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def four_letter_word(port: int, word: bytes, timeout_s: float = 1.0) -> bytes:
    """Send one of ZooKeeper's four-letter commands (``srvr``, ``ruok``) and read the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout_s) as s:
        s.sendall(word)
        chunks = []
        while chunk := s.recv(4096):
            chunks.append(chunk)
        return b"".join(chunks)


class LocalZooKeeper:
    """One standalone ZooKeeper server; ``start()``/``stop()`` or use as a context manager.

    ``hosts`` is the connect string (``127.0.0.1:<port>``) once started.
    """

    def __init__(
        self,
        tick_ms: int = 200,
        start_timeout_s: float = 30.0,
        clock: Clock | None = None,
    ) -> None:
        if tick_ms < 10:
            raise ValueError(f"tick_ms must be at least 10, got {tick_ms}")
        self.tick_ms = tick_ms
        self.start_timeout_s = start_timeout_s
        self._clock = clock or SystemClock()
        self._dir: Path | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self.port = 0

    @property
    def hosts(self) -> str:
        if self._proc is None:
            raise CoordinationError("LocalZooKeeper is not running")
        return f"127.0.0.1:{self.port}"

    @property
    def min_session_timeout_s(self) -> float:
        return 2 * self.tick_ms / 1000

    @property
    def max_session_timeout_s(self) -> float:
        return 20 * self.tick_ms / 1000

    @property
    def log_path(self) -> Path | None:
        return None if self._dir is None else self._dir / "zookeeper.log"

    def start(self) -> LocalZooKeeper:
        classpath = find_zookeeper_classpath()
        java = shutil.which("java")
        if java is None:
            raise ZooKeeperNotInstalled("no `java` on PATH (Debian: apt-get install zookeeper)")
        self._dir = Path(tempfile.mkdtemp(prefix="hedgerow-zk-"))
        last_error = ""
        for _attempt in range(3):  # a free port can be taken between the probe and the bind
            self.port = _free_loopback_port()
            cfg = self._dir / "zoo.cfg"
            data = self._dir / "data"
            data.mkdir(exist_ok=True)
            cfg.write_text(
                f"tickTime={self.tick_ms}\n"
                f"dataDir={data}\n"
                f"clientPort={self.port}\n"
                "clientPortAddress=127.0.0.1\n"
                "admin.enableServer=false\n"
                "4lw.commands.whitelist=srvr,ruok,stat\n"
                "maxClientCnxns=200\n"
            )
            log = (self._dir / "zookeeper.log").open("ab")
            try:
                self._proc = subprocess.Popen(
                    [
                        java,
                        "-Xmx256m",
                        "-Dzookeeper.admin.enableServer=false",
                        "-cp",
                        classpath,
                        MAIN_CLASS,
                        str(cfg),
                    ],
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    cwd=self._dir,
                )
            finally:
                log.close()
            if self._wait_ready():
                return self
            last_error = self._log_tail()
            self._kill()
        self._cleanup_dir()
        raise CoordinationError(f"ZooKeeper did not start on 127.0.0.1: {last_error}")

    def _wait_ready(self) -> bool:
        assert self._proc is not None
        give_up = self._clock.monotonic_s() + self.start_timeout_s
        while self._clock.monotonic_s() < give_up:
            if self._proc.poll() is not None:
                return False
            try:
                if b"Mode:" in four_letter_word(self.port, b"srvr"):
                    return True
            except OSError:
                pass
            threading.Event().wait(0.05)
        return False

    def _log_tail(self) -> str:
        path = self.log_path
        if path is None or not path.exists():
            return "(no log)"
        return path.read_text(errors="replace")[-2000:]

    def _kill(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(signal.SIGCONT)  # in case it was paused
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)

    def _cleanup_dir(self) -> None:
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def pause(self) -> None:
        """Freeze the server (SIGSTOP): clients see their connection go quiet, as in a
        partition, while their sessions stay alive on it. ``resume()`` undoes it."""
        self._signal(signal.SIGSTOP)

    def resume(self) -> None:
        self._signal(signal.SIGCONT)

    def _signal(self, sig: signal.Signals) -> None:
        if self._proc is None or self._proc.poll() is not None:
            raise CoordinationError("LocalZooKeeper is not running")
        self._proc.send_signal(sig)

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after 10 s) and delete its directory."""
        self._kill()
        self._cleanup_dir()

    def __enter__(self) -> LocalZooKeeper:
        return self.start() if self._proc is None else self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def expire_session(hosts: str, client_id: tuple[int, bytes], timeout_s: float = 10.0) -> None:
    """End a ZooKeeper session from outside, as the server does on a timeout: attach a
    second client to the same session id and password, then close it (what HBase's
    ``HBaseTestingUtility.expireSession`` does). The victim's ephemeral znodes go at once and
    its client is told the session expired when it next talks to the server."""
    from kazoo.client import KazooClient

    intruder = KazooClient(hosts=hosts, client_id=client_id, timeout=timeout_s)
    intruder.start(timeout=timeout_s)
    try:
        intruder.stop()
    finally:
        intruder.close()
