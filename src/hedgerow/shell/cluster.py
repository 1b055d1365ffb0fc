"""Cluster shell commands: balancer, move, decommission/recommission region servers.

Role: registered in the command table at import; called by ``Shell``. The syntax is
HBase's (hbase-shell shell/commands/{balancer,move,decommission_regionservers,
recommission_regionserver,list_decommissioned_regionservers}.rb): ``move`` takes an
encoded region name (or the full name ``list_regions`` prints) and an optional server
name; ``decommission_regionservers`` a server name or a list of them and an optional
offload flag (true by default). Everything goes through ``Connection.admin()``.
Concurrency: as ``Shell``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hedgerow.shell.registry import ShellArgumentError, as_name, command

if TYPE_CHECKING:
    from hedgerow.shell.session import Shell

__all__: list[str] = []


@command(
    "balancer",
    "tools",
    """Run the balancer now; prints true if it ran (false: regions are in transition).
  hbase> balancer""",
    0,
    1,
)
def _balancer(sh: Shell, args: list[Any]) -> None:
    if args and as_name(args[0], "balancer option") != "force":
        raise ShellArgumentError("the only balancer option is 'force'")
    sh.fmt.line("true" if sh.connection.admin().balance() else "false")


@command(
    "move",
    "tools",
    """Move a region to a server (or, without one, to the least-loaded server).
  hbase> move 'ENCODED_REGIONNAME'
  hbase> move 'ENCODED_REGIONNAME', 'SERVER_NAME'""",
    1,
    2,
)
def _move(sh: Shell, args: list[Any]) -> None:
    region = as_name(args[0], "region name").rsplit(",", 1)[-1].rstrip(".")
    dest = as_name(args[1], "server name") if len(args) > 1 and args[1] is not None else None
    sh.connection.admin().move(region, dest)


def _servers(v: Any) -> list[str]:
    if isinstance(v, list):
        return [as_name(x, "server name") for x in v]
    return [as_name(v, "server name")]


@command(
    "decommission_regionservers",
    "tools",
    """Decommission region servers: no new regions; offload (default true) moves theirs away.
  hbase> decommission_regionservers 'server'
  hbase> decommission_regionservers ['server1', 'server2'], true""",
    1,
    2,
)
def _decommission(sh: Shell, args: list[Any]) -> None:
    offload = True
    if len(args) > 1:
        if not isinstance(args[1], bool):
            raise ShellArgumentError("the offload flag must be true or false")
        offload = args[1]
    sh.connection.admin().decommission_region_servers(_servers(args[0]), offload)


@command(
    "recommission_regionserver",
    "tools",
    """Let a decommissioned region server receive regions again.
  hbase> recommission_regionserver 'server'""",
    1,
    1,
)
def _recommission(sh: Shell, args: list[Any]) -> None:
    sh.connection.admin().recommission_region_server(as_name(args[0], "server name"))
