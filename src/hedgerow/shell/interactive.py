"""The interactive front end of ``hedgerow shell``: prompt, history, completion, multi-line.

Role: ``run_interactive(shell)`` reads commands with prompt_toolkit and hands
each complete one to ``Shell.execute``. Enter runs the command when it is
complete (``parser.is_complete``) and starts a new line otherwise, so a
multi-line command is one history entry. Tab completes command names at the
start of a line, table names in the first quoted argument, and command names
in ``help '...'``. History lives in ``~/.hedgerow_shell_history`` (or
``$HEDGEROW_SHELL_HISTORY``).
Concurrency: runs on the main thread only.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable

from prompt_toolkit import PromptSession
from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document
from prompt_toolkit.history import FileHistory
from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent

from hedgerow.shell.parser import is_complete
from hedgerow.shell.session import Shell, ShellExit, command_names

__all__ = ["ShellCompleter", "history_path", "run_interactive"]

_FIRST_WORD = re.compile(r"^\s*([A-Za-z_]*)$")
_FIRST_ARG = re.compile(r"""^\s*([A-Za-z_]+)(?:\s+|\s*\(\s*)(['"])([^'"]*)$""")


def history_path() -> str:
    return os.environ.get("HEDGEROW_SHELL_HISTORY") or os.path.expanduser(
        "~/.hedgerow_shell_history"
    )


class ShellCompleter(Completer):
    """Command names first; then table names (or command names after ``help``)."""

    def __init__(self, shell: Shell) -> None:
        self.shell = shell

    def get_completions(
        self, document: Document, complete_event: CompleteEvent
    ) -> Iterable[Completion]:
        text = document.text_before_cursor
        m = _FIRST_WORD.match(text)
        if m:
            word = m.group(1)
            for name in command_names():
                if name.startswith(word):
                    yield Completion(name, start_position=-len(word))
            return
        m = _FIRST_ARG.match(text)
        if not m:
            return
        cmd, quote, prefix = m.groups()
        try:
            names = command_names() if cmd == "help" else self.shell.table_names()
        except Exception:  # a closed or broken store: no completions, no crash
            return
        for name in names:
            if name.startswith(prefix):
                yield Completion(name + quote, start_position=-len(prefix), display=name)


def _bindings(completer: Completer) -> KeyBindings:
    kb = KeyBindings()

    @kb.add("tab")
    def _tab(event: KeyPressEvent) -> None:
        # one match: insert it at once (the table name and its closing quote);
        # several: insert their common part and show the menu
        buf = event.current_buffer
        if buf.complete_state is not None:
            buf.complete_next()
            return
        found = list(
            completer.get_completions(buf.document, CompleteEvent(completion_requested=True))
        )
        if len(found) == 1:
            buf.apply_completion(found[0])
        elif found:
            buf.start_completion(insert_common_part=True)

    @kb.add("enter")
    def _enter(event: KeyPressEvent) -> None:
        buf = event.current_buffer
        if not buf.text.strip() or is_complete(buf.text):
            buf.validate_and_handle()
        else:
            buf.insert_text("\n")

    return kb


def run_interactive(shell: Shell) -> int:
    """Read and run commands until ``exit`` or end of input (Ctrl-D); returns 0."""
    completer = ShellCompleter(shell)
    session: PromptSession[str] = PromptSession(
        history=FileHistory(history_path()),
        completer=completer,
        multiline=True,
        key_bindings=_bindings(completer),
        prompt_continuation=lambda width, line_no, soft: "*".rjust(width - 1) + " ",
    )
    n = 0
    while True:
        n += 1
        try:
            text = session.prompt(f"hedgerow:{n:03d}:0> ")
        except KeyboardInterrupt:
            continue
        except EOFError:
            return 0
        if not text.strip():
            continue
        try:
            shell.execute(text)
        except ShellExit:
            return 0
