"""Options shared by every command, and the one place errors become exit codes."""

from __future__ import annotations

import functools
import os
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from inferchip.errors import InferchipError


class Format(str, Enum):
    auto = "auto"
    table = "table"
    json = "json"
    csv = "csv"
    tsv = "tsv"
    markdown = "markdown"
    xlsx = "xlsx"  # compare only, with --output FILE.xlsx (needs the optional openpyxl)


class DataFormat(str, Enum):
    """The choices offered by commands that do not write workbooks."""

    auto = "auto"
    table = "table"
    json = "json"
    csv = "csv"
    tsv = "tsv"
    markdown = "markdown"


WorkloadArg = Annotated[str | None, typer.Argument(
    help="Workload profile (TOML path or bundled name). Default: the bundled support-chatbot-70b.",
    metavar="[WORKLOAD]")]
CatalogOpt = Annotated[Path | None, typer.Option(
    "--catalog", help="Use this catalog CSV instead of the bundled one.", metavar="FILE")]
ExtendOpt = Annotated[list[Path] | None, typer.Option(
    "--extend-catalog", help="Add (or override by name) rows from this catalog CSV; repeatable.", metavar="FILE")]
AssumptionsOpt = Annotated[Path | None, typer.Option(
    "--assumptions", help="TOML file of assumption overrides (key = value).", metavar="FILE")]
SetOpt = Annotated[list[str] | None, typer.Option(
    "--set", help="Override one assumption or workload key, e.g. --set pue=1.4 --set queries_per_day=2e6; repeatable.",
    metavar="KEY=VALUE")]
FormatOpt = Annotated[DataFormat, typer.Option(
    "--format", "-f", help="Output format. auto = table on a terminal, tsv when piped, by suffix with --output.")]
ReportFormatOpt = Annotated[Format, typer.Option(
    "--format", "-f", help="Output format. auto = table on a terminal, tsv when piped, by suffix with --output; "
                           "xlsx needs --output FILE.xlsx.")]
OutputOpt = Annotated[Path | None, typer.Option(
    "--output", "-o", help="Write the output to FILE (atomically) instead of stdout.", metavar="FILE")]


def err(message: str) -> None:
    """A message for the user on stderr (never on stdout, which carries data)."""
    typer.echo(message, err=True)


def handles_errors(fn):
    """Turn InferchipError into a one-line-per-problem message and its exit code.
    Anything else is a bug and keeps its traceback."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        from inferchip.safeio import forget_inputs

        forget_inputs()  # a command refuses to write over the files it read, not another's
        try:
            return fn(*args, **kwargs)
        except InferchipError as exc:
            for line in exc.message.splitlines():
                err(f"error: {line}")
            raise typer.Exit(exc.exit_code) from None

    return wrapper


def resolve_format(fmt: Format, output: Path | None, allow_xlsx: bool = False) -> Format:
    """auto -> table on a terminal; tsv when stdout is piped; by suffix for --output.
    xlsx only where the command writes workbooks (compare)."""
    fmt = Format(fmt.value if isinstance(fmt, Enum) else fmt)
    if fmt == Format.auto and output is not None:
        by_suffix = {".json": Format.json, ".csv": Format.csv, ".tsv": Format.tsv, ".md": Format.markdown,
                     ".markdown": Format.markdown,
                     ".xlsx": Format.xlsx}
        fmt = by_suffix.get(output.suffix.lower(), Format.json)
    elif fmt == Format.auto:
        fmt = Format.table if sys.stdout.isatty() else Format.tsv
    if fmt == Format.xlsx and not allow_xlsx:
        from inferchip.errors import UsageError

        raise UsageError("--format xlsx: only `inferchip compare` writes Excel workbooks; "
                         "use csv, tsv, json or markdown here")
    return fmt


def emit_text(text: str, output: Path | None) -> None:
    """Data to stdout, or atomically to --output."""
    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    from inferchip.report import write_output

    write_output(text, output)
    err(f"wrote {output}")


def stdout_console():
    from inferchip.report.console import make_console

    return make_console(sys.stdout)


def color_allowed() -> bool:
    return "NO_COLOR" not in os.environ
