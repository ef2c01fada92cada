"""Job logs as the Train page shows them."""

from __future__ import annotations

import re

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def log_tail(text: str, lines: int = 25) -> str:
    """The last lines of a job log as a terminal would show them: progress bars redraw a line with carriage
    returns (only the last drawing stays) and colour codes are dropped."""
    shown = []
    for line in _ANSI.sub("", text).split("\n"):
        drawings = [part for part in line.split("\r") if part.strip()]  # a bar may end with "\r" too
        shown.append(drawings[-1].rstrip() if drawings else "")
    while shown and not shown[-1]:
        shown.pop()
    return "\n".join(shown[-lines:])
