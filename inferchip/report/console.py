"""Rich consoles: colour only on a terminal, NO_COLOR respected (rich does both)."""

from __future__ import annotations


def make_console(file, width: int | None = None):
    """Markup is off, so text with brackets ("[bytes]", "[economics]") prints as it
    is; styled notes go through `say`."""
    import os

    from rich.console import Console

    # NO_COLOR (https://no-color.org): no escape codes at all, not only no colour
    from inferchip.report.safetext import safe_text

    class SafeConsole(Console):
        """Every string rendered (table cells, printed lines) goes through safe_text."""

        def render_str(self, text: str, **kwargs):
            return super().render_str(safe_text(text, line_breaks=True), **kwargs)

    plain = "NO_COLOR" in os.environ
    return SafeConsole(file=file, width=width, highlight=False, soft_wrap=False, markup=False,
                       color_system=None if plain else "auto")


def say(console, markup: str) -> None:
    """Print one styled line written in rich markup, e.g. "[dim]note[/dim]"."""
    from rich.text import Text

    console.print(Text.from_markup(markup))
