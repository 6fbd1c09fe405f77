"""The command-line interface. The only package importing typer.

Commands are thin: parse options, call the library, render. Heavy imports
(pandas, rich) happen inside commands so `inferchip --help` stays fast."""

from __future__ import annotations

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
    """The `inferchip` program: one command, then the process ends. The root group builds
    only the command the run names (inferchip.cli.lazy); help, errors and completion read
    exactly as typer's whole build of `app`."""
    import gc

    from inferchip.cli.lazy import root_command

    # Importing pandas and numpy makes some 500,000 objects, and with the default
    # threshold (a young collection every 700 allocations, older ones in turn) the
    # collector runs ~180 times over them (about 50 ms of a 0.6 s `compare`). A command
    # runs once and exits: collect young objects every 50,000 allocations instead.
    gc.set_threshold(50_000, 20, 10)
    try:
        root_command(app)()
    finally:
        # The interpreter's last act is a full garbage collection over every object left
        # (pandas, numpy and their modules: some 60 ms of CPU on `compare`). The command is
        # done and its files are closed, so the survivors are moved out of the collector's
        # reach; the exit code and every exit handler stay as they were.
        gc.freeze()
