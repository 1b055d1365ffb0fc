"""``hedgerow shell``: the HBase shell's commands and syntax over a Hedgerow store.

Role: ``Shell`` (session.py) runs commands parsed by parser.py through the
public client API and prints them with formatter.py; interactive.py adds
line editing, history and completion. See docs/shell.md.
"""

from __future__ import annotations

from hedgerow.shell.session import Shell, ShellExit

__all__ = ["Shell", "ShellExit"]
