"""General shell commands: status, version, whoami, help.

Role: registered in the command table at import; called by ``Shell``.
Output shapes follow hbase-shell shell/commands/{status,version,whoami}.rb
(``status`` summary: "N active master, N backup masters, N servers, N dead,
N.NNNN average load"; ``whoami``: "user (auth:...)" then "    groups: ...").
Concurrency: as ``Shell``.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from hedgerow.shell.registry import COMMANDS, GROUPS, ShellArgumentError, as_name, command

if TYPE_CHECKING:
    from hedgerow.shell.session import Shell

__all__: list[str] = []


def _mb(n: int) -> int:
    return n // (1024 * 1024)


@command(
    "status",
    "general",
    """Show the cluster's status: 'summary' (default), 'simple' or 'detailed'.
  hbase> status
  hbase> status 'simple'
  hbase> status 'detailed'
'simple' lists each region server with its start code, online regions and request
counts; 'detailed' adds the names of its regions.""",
    0,
    1,
)
def _status(sh: Shell, args: list[Any]) -> None:
    kind = as_name(args[0], "status format") if args else "summary"
    if kind not in ("summary", "simple", "detailed"):
        raise ShellArgumentError(f"status format must be 'summary', 'simple' or 'detailed': {kind}")
    st = sh.connection.admin().status()
    servers = st["servers"]
    regions = st["regions"]
    load = len(regions) / max(len(servers), 1)
    f = sh.fmt
    f.line(
        f"1 active master, 0 backup masters, {len(servers)} servers, 0 dead, "
        f"{load:.4f} average load"
    )
    if kind == "summary":
        return
    # the master runs in the first server's process (hedgerow standalone)
    f.line(f"active master:  {servers[0]['name'] if servers else 'none'}")
    f.line(f"{len(servers)} live servers")
    for srv in servers:
        mine = [r for r in regions if r["server"] == srv["name"]]
        f.line(f"    {srv['name']} {srv['start_code']}")
        f.line(
            f"        numberOfTables={len({r['table'] for r in mine})}, "
            f"numberOfOnlineRegions={srv['regions']}, "
            f"storefileSizeMB={_mb(srv['store_file_bytes'])}, "
            f"memstoreSizeMB={_mb(srv['memstore_bytes'])}, "
            f"readRequestsCount={srv['read_requests']}, "
            f"writeRequestsCount={srv['write_requests']}"
        )
        if kind == "detailed":
            for r in mine:
                row = f"{r['table']},{r['start_key'].decode('latin-1')},{r['name']}"
                f.line(f'        "{row}"')
    f.line("0 dead servers")
    total = sum(s["read_requests"] + s["write_requests"] for s in servers)
    f.line(f"Aggregate load: {total}, regions: {len(regions)}")


@command(
    "version",
    "general",
    """Show Hedgerow's version and what the shell is connected to: a server's
address, or the data directory of the embedded store.
  hbase> version""",
    0,
    0,
)
def _version(sh: Shell, args: list[Any]) -> None:
    from hedgerow import __version__
    from hedgerow.client.url import is_server_url

    # HBase prints "VERSION, rREVISION, DATE"; we print the version and the store
    where = ""
    if sh.target and is_server_url(sh.target):
        where = f", server {sh.target}"
    elif sh.target:
        where = f", embedded, data directory {os.path.abspath(sh.target)}"
    sh.fmt.line(f"{__version__}, hedgerow{where}")


@command(
    "whoami",
    "general",
    """Show the current user and groups (the operating-system user; no authentication yet).
  hbase> whoami""",
    0,
    0,
)
def _whoami(sh: Shell, args: list[Any]) -> None:
    user, groups = sh.identity if sh.identity is not None else _os_identity()
    sh.fmt.line(f"{user} (auth:SIMPLE)")
    sh.fmt.line(f"    groups: {', '.join(groups)}")


def _os_identity() -> tuple[str, list[str]]:
    import getpass
    import os

    user = getpass.getuser()
    try:
        import grp

        groups = [grp.getgrgid(g).gr_name for g in os.getgroups()]
    except (ImportError, KeyError, OSError):
        groups = []
    return user, groups or [user]


@command(
    "help",
    "general",
    """Show the commands, or one command's help.
  hbase> help
  hbase> help 'scan'
  hbase> help 'dml'""",
    0,
    1,
)
def _help(sh: Shell, args: list[Any]) -> None:
    f = sh.fmt
    if args:
        name = as_name(args[0], "command name")
        if name in GROUPS:
            f.line(f"Command: {name}")
            for c in sorted(COMMANDS.values(), key=lambda c: c.name):
                if c.group == name:
                    f.line(f"  {c.name}: {c.summary}")
            return
        cmd = COMMANDS.get(name)
        if cmd is None:
            raise ShellArgumentError(f"no command named '{name}'; try 'help'")
        f.line(cmd.usage.rstrip())
        return
    f.line("Hedgerow shell: HBase shell syntax over a Hedgerow store.")
    f.line("Type 'help \"COMMAND\"' (e.g. help 'get') for one command's help,")
    f.line("or 'help \"GROUP\"' for a group's commands. 'exit' leaves the shell.")
    f.line("")
    for g in GROUPS:
        names = sorted(c.name for c in COMMANDS.values() if c.group == g)
        f.line(f"  Group name: {g}")
        f.line(f"  Commands: {', '.join(names)}")
        f.line("")
    f.line("SHELL USAGE:")
    f.line("Quote all names: tables, rows, columns ('cf:q'), values. Give options as a hash:")
    f.line("  hbase> get 't1', 'r1', {COLUMN => 'cf:a', VERSIONS => 3}")
    f.line('Double-quoted strings take escapes for binary data: "\\x00\\x01".')
    f.line("A command continues on the next line while a quote or bracket is open.")
