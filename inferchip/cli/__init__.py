"""The command-line interface. The only package importing typer.

Commands are thin: parse options, call the library, render. Heavy imports
(pandas, rich) happen inside commands so `inferchip --help` stays fast."""

from __future__ import annotations

import copy
import os
import sys
from typing import Annotated

import typer

from inferchip.errors import EXIT_CODES

EXIT_CODE_HELP = "Exit codes: " + "; ".join(f"{code} {meaning}" for code, meaning in EXIT_CODES.items()) + "."

app = typer.Typer(
    name="inferchip",
    help="TCO calculator for AI inference hardware: cost per query, power and rack density "
         "for GPUs, ASICs and specialised silicon under a latency SLO.\n\n" + EXIT_CODE_HELP,
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _print_version(value: bool) -> None:
    if value:
        from inferchip import __version__

        typer.echo(f"inferchip {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, typer.Option(
        "--version", help="Print the version and exit.", is_eager=True, callback=_print_version)] = False,
) -> None:
    """TCO calculator for AI inference hardware: cost per query, power and rack density
    for GPUs, ASICs and specialised silicon under a latency SLO."""


# Register commands (each module adds itself to `app`); --help lists them in
# this order: the main job first, then browsing, analysis, procurement, fidelity.
from inferchip.cli import compare_cmd  # noqa: E402,F401,I001  # isort: skip
from inferchip.cli import catalog_cmd, workloads_cmd  # noqa: E402,F401  # isort: skip
from inferchip.cli import analysis_cmd  # noqa: E402,F401  # isort: skip
from inferchip.cli import plan_cmd  # noqa: E402,F401  # isort: skip
from inferchip.cli import report_cmd  # noqa: E402,F401  # isort: skip
from inferchip.cli import procure_cmd  # noqa: E402,F401  # isort: skip
from inferchip.cli import validate_cmd  # noqa: E402,F401  # isort: skip


def main() -> None:
    """The `inferchip` program: one command, then the process ends."""
    try:
        _for_argv(sys.argv)()
    finally:
        # The interpreter's last act is a full garbage collection over every object left
        # (pandas, numpy and their modules: some 60 ms of CPU on `compare`). The command is
        # done and its files are closed, so the survivors are moved out of the collector's
        # reach; the exit code and every exit handler stay as they were.
        import gc

        gc.freeze()


def _for_argv(argv: list[str]) -> typer.Typer:
    """`app`, or a copy holding only the command that argv[1] names. Typer turns every
    registered command's signature into click options before it runs any one (about
    60 ms for this CLI); a run of one command needs only that one. Help, completion and
    unknown names get the whole app, so they read exactly as before."""
    if len(argv) < 2 or any(k.startswith("_") and k.endswith("_COMPLETE") for k in os.environ):
        return app
    name = argv[1]
    from typer.main import get_command_name

    commands = [c for c in app.registered_commands
                if (c.name or get_command_name(c.callback.__name__)) == name]
    groups = [g for g in app.registered_groups if g.name == name]
    if not commands and not groups:
        return app
    one = copy.copy(app)
    one.registered_commands, one.registered_groups = commands, groups
    return one
