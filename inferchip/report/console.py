"""Rich consoles: colour only on a terminal, NO_COLOR respected (rich does both)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager


def make_console(file, width: int | None = None, plain: bool = False):
    """Markup is off, so text with brackets ("[bytes]", "[economics]") prints as it
    is; styled notes go through `say`. `plain`: never any escape codes (a file)."""
    import os

    from rich.console import Console

    # NO_COLOR (https://no-color.org): no escape codes at all, not only no colour
    from inferchip.report.safetext import safe_text

    class SafeConsole(Console):
        """Every string rendered (table cells, printed lines) goes through safe_text."""

        def render_str(self, text: str, **kwargs):
            return super().render_str(safe_text(text, line_breaks=True), **kwargs)

    plain = plain or "NO_COLOR" in os.environ
    return SafeConsole(file=file, width=width, highlight=False, soft_wrap=False, markup=False,
                       color_system=None if plain else "auto", force_terminal=False if plain else None)


@contextmanager
def table_output(output, emit: Callable[[str, object], None]) -> Iterator:
    """The console a table view draws on: the terminal (stdout) without --output; with
    --output (an explicit --format table), a plain-text console whose text goes to
    `emit(text, output)` (atomic) once the view is drawn. Width: $COLUMNS, the
    terminal's, else 120."""
    import io
    import shutil
    import sys

    if output is None:
        yield make_console(sys.stdout)
        return
    buffer = io.StringIO()
    yield make_console(buffer, width=shutil.get_terminal_size((120, 24)).columns, plain=True)
    emit(buffer.getvalue(), output)


def say(console, markup: str) -> None:
    """Print one styled line written in rich markup, e.g. "[dim]note[/dim]"."""
    from rich.text import Text

    console.print(Text.from_markup(markup))
