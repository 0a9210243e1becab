"""Progress for long CLI work: a one-line counter on a terminal, nothing in CI or in a pipe.

A person at a terminal wants to see that `makemigrations --all` or `routes check` over a big folder
is moving; a CI log or a file wants only the results. The counter is redrawn in place on standard
error (`\\r` + clear line) and erased when the work ends, so the lines the command prints stay as
they would be without it. `CI` set (as CI services do) or `PLUGHOST_PROGRESS=0` turns it off,
`PLUGHOST_PROGRESS=1` forces it on. tqdm is not used: it draws nothing when the terminal reports
no width, as a fresh pseudo-terminal does.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Generic, TextIO, TypeVar

__all__ = ("Progress", "progress_enabled")

T = TypeVar("T")
_CLEAR = "\r\x1b[K"


def progress_enabled(stream: TextIO) -> bool:
    forced = os.environ.get("PLUGHOST_PROGRESS", "").strip().lower()
    if forced in {"0", "false", "no", "off"}:
        return False
    if forced in {"1", "true", "yes", "on"}:
        return True
    if os.environ.get("CI"):
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class Progress(Generic[T]):
    """`for item in Progress(items, "checking", str): ...`; print through `write` meanwhile."""

    def __init__(
        self,
        items: Sequence[T],
        what: str,
        label: Callable[[T], str] = str,
        *,
        stream: TextIO | None = None,
        minimum: int = 2,
    ) -> None:
        self.items, self.what, self.label = items, what, label
        self.stream = stream or sys.stderr
        self.enabled = len(items) >= minimum and progress_enabled(self.stream)
        self._shown = ""

    def __iter__(self) -> Iterator[T]:
        total = len(self.items)
        try:
            for index, item in enumerate(self.items, 1):
                self._draw(f"{self.what} [{index}/{total}] {self.label(item)}")
                yield item
        finally:
            self._draw("")

    def write(self, line: str, stream: TextIO | None = None) -> None:
        """Print a result line without tearing the counter (it is redrawn below the line)."""
        shown = self._shown
        self._draw("")
        print(line, file=stream or sys.stdout, flush=True)
        self._draw(shown)

    def _draw(self, text: str) -> None:
        if not self.enabled or (not text and not self._shown):
            return
        self.stream.write(_CLEAR + text)
        self.stream.flush()
        self._shown = text
