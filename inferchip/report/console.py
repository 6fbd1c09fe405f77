"""Rich consoles: colour only on a terminal, NO_COLOR respected (rich does both)."""

from __future__ import annotations


def make_console(file, width: int | None = None):
    from rich.console import Console

    return Console(file=file, width=width, highlight=False, soft_wrap=False)
