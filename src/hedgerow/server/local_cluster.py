"""A local cluster on loopback: ZooKeeper, masters and region servers as processes.

Role: what ``hedgerow cluster up``/``down`` and tests/cluster/test_processes.py run.
``LocalCluster.up`` starts a ``LocalZooKeeper`` (unless given a quorum), M ``hedgerow
master`` and N ``hedgerow regionserver`` processes on free loopback ports, each logging
to ``<dir>/logs/<name>.log``, and writes ``<dir>/cluster.json`` (the state file: the
quorum, the root, each process's name, pid, role and address); ``down`` stops them all
(SIGTERM, then SIGKILL after a timeout) from the state file, so another process can.
Format of cluster.json (version 1): ``{"version": 1, "zk": str, "root": str,
"zk_pid": int|null, "zk_dir": str|null, "processes": [{"name", "role", "pid",
"address", "log"}]}``; a reader refuses another version.
Concurrency: one caller at a time per directory.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from hedgerow._internal.clock import Clock, SystemClock
from hedgerow.errors import InvalidArgument

__all__ = ["STATE_FILE", "LocalCluster", "Proc", "stop_pids"]

STATE_FILE = "cluster.json"
STATE_VERSION = 1


@dataclass
class Proc:
    name: str
    role: str
    popen: subprocess.Popen[bytes] | None
    pid: int
    log: str
    address: str = ""

    def alive(self) -> bool:
        if self.popen is not None:
            return self.popen.poll() is None
        try:
            os.kill(self.pid, 0)
        except OSError:
            return False
        return True


@dataclass
class LocalCluster:
    dir: str
    zk: str = ""
    session_timeout_s: float = 4.0
    clock: Clock = field(default_factory=SystemClock)
    procs: list[Proc] = field(default_factory=list)
    zk_pid: int | None = None
    zk_dir: str | None = None
    _counter: dict[str, int] = field(default_factory=dict)

    @property
    def root(self) -> str:
        return os.path.join(os.path.abspath(self.dir), "root")

    @property
    def url(self) -> str:
        return f"hedgerow+zk://{self.zk}"

    def _cmd(self, role: str, port: int = 0, extra: Sequence[str] = ()) -> list[str]:
        return [
            sys.executable,
            "-m",
            "hedgerow.cli.main",
            role,
            "--zk",
            self.zk,
            "--root",
            self.root,
            "--session-timeout",
            str(self.session_timeout_s),
            "--port",
            str(port),
            *extra,
        ]

    def spawn(
        self,
        role: str,
        timeout_s: float = 30.0,
        env: dict[str, str] | None = None,
        port: int = 0,
        args: Sequence[str] = (),
    ) -> Proc:
        """Start one ``master`` or ``regionserver`` and wait until it prints "ready"
        (``env``: extra environment, e.g. ``HEDGEROW_FAILPOINTS`` for crash tests;
        ``port``: its RPC port, 0 for any free one, an old server's to restart it;
        ``args``: more command-line arguments, e.g. ``["--set", "region_split_bytes=..."]``)."""
        n = self._counter.get(role, 0)
        self._counter[role] = n + 1
        name = f"{role}{n}"
        logs = os.path.join(self.dir, "logs")
        os.makedirs(logs, exist_ok=True)
        path = os.path.join(logs, f"{name}.log")
        full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
        with open(path, "ab") as out:
            popen = subprocess.Popen(
                self._cmd(role, port, args),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=full_env,
                start_new_session=True,  # a Ctrl-C in the caller's terminal is not theirs
            )
        proc = Proc(name, role, popen, popen.pid, path)
        self.procs.append(proc)
        deadline = self.clock.monotonic_s() + timeout_s
        while True:
            text = _read(path)
            if "\nready\n" in text or text.startswith("ready\n"):
                for line in text.splitlines():
                    if line.startswith(("master ", "region server ")):
                        proc.address = line.split()[2 if role == "regionserver" else 1]
                        break
                return proc
            if popen.poll() is not None or self.clock.monotonic_s() > deadline:
                raise InvalidArgument(
                    f"{name} did not start (exit {popen.poll()}); its log {path}:\n{text[-2000:]}"
                )
            time.sleep(0.05)

    def up(self, servers: int, masters: int = 1) -> None:
        if servers < 1 or masters < 1:
            raise InvalidArgument("a cluster needs at least one master and one region server")
        os.makedirs(self.dir, exist_ok=True)
        if os.path.exists(os.path.join(self.dir, STATE_FILE)):
            raise InvalidArgument(
                f"{self.dir} already has a cluster ({STATE_FILE}); run `hedgerow cluster down "
                f"--dir {self.dir}` first"
            )
        if not self.zk:
            from hedgerow.cluster.zkserver import LocalZooKeeper

            zk = LocalZooKeeper().start()
            assert zk._proc is not None and zk._dir is not None
            self.zk = f"{zk.hosts}/hedgerow"
            self.zk_pid = zk._proc.pid
            self.zk_dir = str(zk._dir)
        try:
            for _ in range(masters):
                self.spawn("master")
            for _ in range(servers):
                self.spawn("regionserver")
        finally:
            self.write_state()

    def write_state(self) -> None:
        state = {
            "version": STATE_VERSION,
            "zk": self.zk,
            "root": self.root,
            "zk_pid": self.zk_pid,
            "zk_dir": self.zk_dir,
            "processes": [
                {"name": p.name, "role": p.role, "pid": p.pid, "address": p.address, "log": p.log}
                for p in self.procs
            ],
        }
        tmp = os.path.join(self.dir, STATE_FILE + ".tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(state, f, indent=1)
        os.replace(tmp, os.path.join(self.dir, STATE_FILE))

    def describe(self) -> list[str]:
        lines = [f"ZooKeeper {self.zk}", f"connect: hedgerow.connect({self.url!r})"]
        lines += [f"{p.name} pid {p.pid} {p.address} log {p.log}" for p in self.procs]
        return lines

    def down(self, timeout_s: float = 15.0) -> list[str]:
        """Stop every process (region servers, then masters, then ZooKeeper)."""
        order = [p for p in self.procs if p.role == "regionserver"]
        order += [p for p in self.procs if p.role != "regionserver"]
        out = stop_pids([p.pid for p in order], timeout_s, self.clock)
        for p in self.procs:
            if p.popen is not None:
                p.popen.wait(timeout=5)
        if self.zk_pid is not None:
            out += stop_pids([self.zk_pid], timeout_s, self.clock)
            self.zk_pid = None
        if self.zk_dir is not None:
            import shutil

            shutil.rmtree(self.zk_dir, ignore_errors=True)
        state = os.path.join(self.dir, STATE_FILE)
        if os.path.exists(state):
            os.remove(state)
        return out

    @classmethod
    def load(cls, directory: str) -> LocalCluster:
        path = os.path.join(directory, STATE_FILE)
        try:
            with open(path, encoding="utf-8") as f:
                state: dict[str, Any] = json.load(f)
        except FileNotFoundError:
            raise InvalidArgument(f"no cluster in {directory} (no {STATE_FILE})") from None
        except ValueError as e:
            raise InvalidArgument(f"{path} is not valid JSON: {e}") from None
        if not isinstance(state, dict) or state.get("version") != STATE_VERSION:
            raise InvalidArgument(f"{path}: unsupported state file version")
        c = cls(directory, zk=str(state["zk"]))
        c.zk_pid = state.get("zk_pid")
        c.zk_dir = state.get("zk_dir")
        for p in state.get("processes", []):
            c.procs.append(Proc(p["name"], p["role"], None, int(p["pid"]), p["log"], p["address"]))
        return c


def stop_pids(pids: list[int], timeout_s: float, clock: Clock | None = None) -> list[str]:
    """SIGTERM each pid, wait up to ``timeout_s`` for all, SIGKILL what is left."""
    clock = clock or SystemClock()
    out: list[str] = []
    live = []
    for pid in pids:
        try:
            os.kill(pid, signal.SIGTERM)
            live.append(pid)
        except ProcessLookupError:
            continue
    deadline = clock.monotonic_s() + timeout_s
    while live and clock.monotonic_s() < deadline:
        live = [pid for pid in live if _running(pid)]
        time.sleep(0.05)
    for pid in live:
        try:
            os.kill(pid, signal.SIGKILL)
            out.append(f"pid {pid} killed (did not stop within {timeout_s:g} s)")
        except ProcessLookupError:
            pass
    return out


def _running(pid: int) -> bool:
    try:
        done, _status = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except FileNotFoundError:
        return ""
