"""The master's list of live region servers, their last reports, and dead-server hooks.

Role: HBase's ServerManager (apache/hbase master/ServerManager.java,
DrainingServerTracker.java): which region servers are live (``register``), what each last reported (``refresh``), which are
decommissioned (HBase's draining list: they keep serving what they host but get no new
region, and ``decommission`` moves their regions away), and what happens when one dies
(``expire`` forgets it and calls every hook added with ``on_dead``; the coordination
package will call it when a server's ZooKeeper node goes away).
Invariants: a server name is registered at most once; a decommissioned server is live.
Concurrency: the master calls it under its DDL lock; ``live`` copies.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from hedgerow.engine.rs_client import RegionServerClient, ServerReport
from hedgerow.errors import InvalidArgument

__all__ = ["ServerManager"]

log = logging.getLogger("hedgerow.master")


class ServerManager:
    def __init__(self) -> None:
        self._servers: dict[str, RegionServerClient] = {}
        self._reports: dict[str, ServerReport] = {}
        self._decommissioned: set[str] = set()
        self._dead_hooks: list[Callable[[str], None]] = []
        self._decommission_hooks: list[Callable[[list[str]], None]] = []

    # ---- membership ---------------------------------------------------------------------
    def register(self, client: RegionServerClient) -> None:
        if client.name in self._servers:
            raise InvalidArgument(f"region server {client.name!r} is already registered")
        self._servers[client.name] = client

    def rename(self, old: str, new: str) -> None:
        """A server is now known by another name (it started listening as host:port)."""
        if old == new:
            return
        client = self._servers.pop(old)
        self._servers[new] = client
        if old in self._decommissioned:
            self._decommissioned.discard(old)
            self._decommissioned.add(new)
        self._reports.pop(old, None)

    def on_dead(self, hook: Callable[[str], None]) -> None:
        """Call ``hook(server_name)`` when a server is expired."""
        self._dead_hooks.append(hook)

    def expire(self, name: str) -> None:
        """The server died: forget it and run the dead-server hooks (HBase's expireServer,
        which schedules a ServerCrashProcedure)."""
        if self._servers.pop(name, None) is None:
            return
        self._reports.pop(name, None)
        self._decommissioned.discard(name)
        log.warning("region server %s expired", name)
        for hook in self._dead_hooks:
            hook(name)

    def get(self, name: str) -> RegionServerClient:
        client = self._servers.get(name)
        if client is None:
            known = ", ".join(sorted(self._servers)) or "none"
            raise InvalidArgument(f"unknown region server {name!r}; live servers: {known}")
        return client

    def is_live(self, name: str) -> bool:
        return name in self._servers

    def live(self) -> list[str]:
        return sorted(self._servers)

    def clients(self) -> list[RegionServerClient]:
        return [self._servers[n] for n in sorted(self._servers)]

    # ---- decommission -------------------------------------------------------------------
    def decommission(self, name: str) -> None:
        self.get(name)
        if name not in self._decommissioned:
            self._decommissioned.add(name)
            self._decommission_changed()

    def recommission(self, name: str) -> None:
        self.get(name)
        if name in self._decommissioned:
            self._decommissioned.discard(name)
            self._decommission_changed()

    def on_decommission_change(self, hook: Callable[[list[str]], None]) -> None:
        """Call ``hook(decommissioned)`` after each change of the set (a cluster master
        persists it in ZooKeeper, as HBase keeps its draining servers there)."""
        self._decommission_hooks.append(hook)

    def _decommission_changed(self) -> None:
        now = self.decommissioned()
        for hook in self._decommission_hooks:
            hook(now)

    def decommissioned(self) -> list[str]:
        return sorted(self._decommissioned)

    def candidates(self) -> list[str]:
        """Servers that may receive regions: live and not decommissioned."""
        return [n for n in sorted(self._servers) if n not in self._decommissioned]

    # ---- reports ------------------------------------------------------------------------
    def refresh(self) -> dict[str, ServerReport]:
        """Ask every live server for its report (HBase: the periodic regionServerReport)."""
        self._reports = {name: c.report() for name, c in self._servers.items()}
        return dict(self._reports)

    def hosts_of(self, region_name: str) -> list[str]:
        """The live servers that report ``region_name`` open (from fresh reports)."""
        return [n for n, rep in self.refresh().items() if region_name in rep.regions]
