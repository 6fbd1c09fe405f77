"""`inferchip workloads list / show / init`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from inferchip.cli import app
from inferchip.cli.common import (
    Format,
    FormatOpt,
    OutputOpt,
    emit_text,
    err,
    handles_errors,
    resolve_format,
)

workloads_app = typer.Typer(help="Bundled workload profiles, and a template for your own.", no_args_is_help=True)
app.add_typer(workloads_app, name="workloads")


@workloads_app.command("list")
@handles_errors
def list_(fmt: FormatOpt = Format.auto, output: OutputOpt = None) -> None:
    """List the bundled workload profiles.

    Example: inferchip workloads list
    """
    from inferchip import workload as workload_mod
    from inferchip.data_files import DEFAULT_WORKLOAD, bundled_workloads

    rows = []
    for name, path in bundled_workloads().items():
        w = workload_mod.load(str(path))
        rows.append({"name": name, "kind": w.kind, "model": w.preset or "custom",
                     "queries_per_day": w.queries_per_day, "default": name == DEFAULT_WORKLOAD,
                     "description": w.description})
    from inferchip.report.catalog_view import render_rows

    render_rows(rows, resolve_format(fmt, output).value, output, emit_text, "Bundled workloads")


@workloads_app.command("show")
@handles_errors
def show(name: Annotated[str, typer.Argument(help="Bundled workload name or TOML path.")]) -> None:
    """Print a workload profile's TOML.

    Example: inferchip workloads show fraud-scoring-bert
    """
    from inferchip import workload as workload_mod
    from inferchip.safeio import read_input

    path = workload_mod.resolve_path(name)
    workload_mod.load(str(path))
    # the bytes the check above read: a second read of a one-shot stream would hang
    emit_text(read_input(path, "TOML", "give the path of a TOML file").decode("utf-8"), None)


@workloads_app.command("init")
@handles_errors
def init(
    path: Annotated[Path, typer.Argument(help="Where to write the template.", metavar="FILE")] = Path("workload.toml"),
    kind: Annotated[str, typer.Option(help="llm or fixed.")] = "llm",
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write a commented workload template to FILE.

    Example: inferchip workloads init my-service.toml && inferchip compare my-service.toml
    """
    from inferchip.errors import OutputError, UsageError
    from inferchip.report import write_output
    from inferchip.templates import template

    if kind not in ("llm", "fixed"):
        raise UsageError(f"--kind {kind}: must be llm or fixed")
    if path.exists() and not force:
        raise OutputError(f"{path}: already exists; use --force to overwrite")
    write_output(template(kind), path)
    err(f"wrote {path}; edit it, then: inferchip compare {path}")
