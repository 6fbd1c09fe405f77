"""Options shared by every command, and the one place errors become exit codes."""

from __future__ import annotations

import functools
import os
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from inferchip.errors import EXIT_CODES, EXIT_INTERRUPTED, EXIT_TERMINATED, InferchipError


class Format(str, Enum):
    auto = "auto"
    table = "table"
    json = "json"
    csv = "csv"
    tsv = "tsv"
    markdown = "markdown"
    xlsx = "xlsx"  # compare only, with --output FILE.xlsx (needs the optional openpyxl)
    parquet = "parquet"  # sweep and uncertainty only, with --output FILE (needs the optional pyarrow)


class DataFormat(str, Enum):
    """The choices offered by commands that do not write workbooks."""

    auto = "auto"
    table = "table"
    json = "json"
    csv = "csv"
    tsv = "tsv"
    markdown = "markdown"


class GridFormat(str, Enum):
    """The choices of commands that can also write Parquet (sweep, uncertainty)."""

    auto = "auto"
    table = "table"
    json = "json"
    csv = "csv"
    tsv = "tsv"
    markdown = "markdown"
    parquet = "parquet"


WorkloadArg = Annotated[str | None, typer.Argument(
    help="Workload profile (TOML path or bundled name). Default: the bundled support-chatbot-70b.",
    metavar="[WORKLOAD]")]
CatalogOpt = Annotated[Path | None, typer.Option(
    "--catalog", help="Use this catalog CSV instead of the bundled one.", metavar="FILE")]
ExtendOpt = Annotated[list[Path] | None, typer.Option(
    "--extend-catalog", help="Add (or override by name) rows from this catalog CSV; repeatable.", metavar="FILE")]
CloudProviderOpt = Annotated[str, typer.Option(
    "--cloud-provider", help="Cloud price of rented rows: default (lowest hyperscaler on-demand list price, else the "
                             "lowest of any provider), lowest (any provider) or a provider name from "
                             "data/cloud_prices.csv, e.g. AWS.", metavar="NAME")]
AssumptionsOpt = Annotated[Path | None, typer.Option(
    "--assumptions", help="TOML file of assumption overrides (key = value).", metavar="FILE")]
SetOpt = Annotated[list[str] | None, typer.Option(
    "--set", help="Override one assumption or workload key, e.g. --set pue=1.4 --set queries_per_day=2e6; repeatable.",
    metavar="KEY=VALUE")]
class Allocation(str, Enum):
    dedicated = "dedicated"
    shared = "shared"


AllocationOpt = Annotated[Allocation | None, typer.Option(
    "--allocation", help="dedicated (default): the workload pays for every accelerator it buys or rents; "
                         "shared: it pays for the accelerators it uses, the rest of each unit serving other work. "
                         "Same as --set allocation=...")]


def with_allocation(set_: list[str] | None, allocation: Allocation | None) -> list[str] | None:
    """--allocation as the --set override it stands for (a later --set still wins)."""
    if allocation is None:
        return set_
    return [f"allocation={allocation.value}", *(set_ or [])]


FormatOpt = Annotated[DataFormat, typer.Option(
    "--format", "-f", help="Output format. auto = table on a terminal, tsv when piped, by suffix with --output.")]
GridFormatOpt = Annotated[GridFormat, typer.Option(
    "--format", "-f", help="Output format. auto = table on a terminal, tsv when piped, by suffix with --output; "
                           "parquet needs --output FILE and `pip install 'inferchip[parquet]'`.")]
ReportFormatOpt = Annotated[Format, typer.Option(
    "--format", "-f", help="Output format. auto = table on a terminal, tsv when piped, by suffix with --output; "
                           "xlsx needs --output FILE.xlsx.")]
OutputOpt = Annotated[Path | None, typer.Option(
    "--output", "-o", help="Write the output to FILE (atomically) instead of stdout.", metavar="FILE")]


# Facility and horizon of a plan: `plan` and `report` take the same options
FACILITY_HELP = "Facility (overrides the profile's [facility] table): "
HORIZON_HELP = "Horizon (overrides the profile's [horizon] table): "
ItKwOpt = Annotated[float | None, typer.Option(
    "--it-kw", help=FACILITY_HELP + "IT power available to servers [kW].", metavar="KW")]
RacksOpt = Annotated[float | None, typer.Option("--racks", help=FACILITY_HELP + "racks available.", metavar="N")]
KwPerRackOpt = Annotated[float | None, typer.Option(
    "--kw-per-rack", help=FACILITY_HELP + "power per rack [kW]; replaces rack_power_budget_air_kw and _liquid_kw.",
    metavar="KW")]
YearsOpt = Annotated[int | None, typer.Option("--years", help=HORIZON_HELP + "years planned (default 5).", metavar="N")]
GrowthOpt = Annotated[float | None, typer.Option(
    "--traffic-growth-per-year", help=HORIZON_HELP + "traffic growth per year as a fraction, e.g. 0.6 (default 0).",
    metavar="FRACTION")]


CalibrationOpt = Annotated[Path | None, typer.Option(
    "--calibration", help="Efficiency factors from this CSV (what `inferchip calibrate -o FILE` writes) "
                          "instead of the bundled data/calibration.csv.", metavar="FILE")]
VendorOpt = Annotated[list[str] | None, typer.Option(
    "--vendor", help="Only accelerators of this vendor (case-insensitive part of the name); repeatable.",
    metavar="VENDOR")]
KindOpt = Annotated[list[str] | None, typer.Option(
    "--kind", help="Only accelerators of this kind (gpu, asic, lpu, wafer, npu); repeatable.", metavar="KIND")]
ChipFilterOpt = Annotated[list[str] | None, typer.Option(
    "--chip", help="Only this accelerator (a unique part of its name is enough); repeatable.", metavar="NAME")]
BasisOpt = Annotated[list[str] | None, typer.Option(
    "--basis", help="Only rows paid for this way: a value of the results' basis column (price_basis: owned, "
                    "rented); repeatable.", metavar="BASIS")]
ExcludeEstimatedOpt = Annotated[bool, typer.Option(
    "--exclude-estimated", help="Leave out rows whose price is a secondary estimate (price_is_estimate).")]


def row_filter(vendor: list[str] | None, kind: list[str] | None, chip: list[str] | None,
               basis: list[str] | None, exclude_estimated: bool):
    from inferchip.filters import RowFilter

    return RowFilter(tuple(vendor or ()), tuple(kind or ()), tuple(chip or ()), tuple(basis or ()),
                     exclude_estimated)


def err(message: str) -> None:
    """A message for the user on stderr (never on stdout, which carries data)."""
    typer.echo(message, err=True)


def handles_errors(fn):
    """Turn InferchipError into a one-line-per-problem message and its exit code.
    Anything else is a bug and keeps its traceback."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        from inferchip.safeio import (
            StdoutClosed,
            StdoutError,
            Terminated,
            discard_stdout,
            guarded_command,
        )

        try:
            with guarded_command():
                return fn(*args, **kwargs)
        except InferchipError as exc:
            if isinstance(exc, StdoutError):
                discard_stdout()
            for line in exc.message.splitlines():
                err(f"error: {line}")
            raise typer.Exit(exc.exit_code) from None
        except StdoutClosed:  # `inferchip sweep | head -1`: the reader has all it wanted
            discard_stdout()
            raise typer.Exit(0) from None
        except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM (Terminated); --output files are already cleaned up
            signal_exit = EXIT_TERMINATED if isinstance(exc, Terminated) else EXIT_INTERRUPTED
            err(f"error: {EXIT_CODES[signal_exit]}; an --output file is left as it was")
            raise typer.Exit(signal_exit) from None

    return wrapper


SUFFIX_FORMATS = {".json": Format.json, ".csv": Format.csv, ".tsv": Format.tsv, ".md": Format.markdown,
                  ".markdown": Format.markdown, ".xlsx": Format.xlsx, ".parquet": Format.parquet}


def resolve_format(fmt: Format, output: Path | None, allow_xlsx: bool = False, allow_parquet: bool = False) -> Format:
    """An explicit --format always wins; auto -> by the suffix of --output (an unknown
    suffix is an error listing the choices), else a table on a terminal and tsv when
    stdout is piped. xlsx only where the command writes workbooks (compare), parquet
    only where it writes grids (sweep, uncertainty), each with --output FILE."""
    fmt = Format(fmt.value if isinstance(fmt, Enum) else fmt)
    if fmt == Format.auto and output is not None:
        by_suffix = SUFFIX_FORMATS.get(output.suffix.lower())
        if by_suffix is None:
            from inferchip.errors import UsageError

            suffixes = [s for s, f in SUFFIX_FORMATS.items() if f is not None and (allow_xlsx or f != Format.xlsx)
                        and (allow_parquet or f != Format.parquet)]
            choices = Format if allow_xlsx and allow_parquet else (
                GridFormat if allow_parquet else ([f for f in Format if f != Format.parquet] if allow_xlsx
                                                  else DataFormat))
            names = [f.value for f in choices if f.value != "auto"]
            raise UsageError(f"--output {output}: cannot tell the format from the suffix "
                             f"'{output.suffix or '(none)'}'; use one of {', '.join(suffixes)} "
                             f"or give --format ({', '.join(names)})")
        fmt = by_suffix
    elif fmt == Format.auto:
        fmt = Format.table if sys.stdout.isatty() else Format.tsv
    if fmt == Format.xlsx and not allow_xlsx:
        from inferchip.errors import UsageError

        raise UsageError("--format xlsx: only `inferchip compare` writes Excel workbooks; "
                         "use csv, tsv, json or markdown here")
    if fmt == Format.parquet:
        from inferchip.errors import UsageError

        if not allow_parquet:
            raise UsageError("--format parquet: only `inferchip sweep` and `inferchip uncertainty` write Parquet; "
                             "use csv, tsv, json or markdown here")
        if output is None:
            raise UsageError("--format parquet writes a binary file: add --output FILE.parquet")
        from inferchip.report.parquet_out import require_pyarrow

        require_pyarrow()  # a missing optional dependency fails before any work
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


def emit_document(doc: dict, fmt: Format, output: Path | None, render_table, render_markdown, rows_of) -> None:
    """One document in a resolved format: a terminal table drawn by `render_table(doc, console)`,
    JSON, Markdown from `render_markdown(doc)`, or CSV/TSV of the rows `rows_of(doc)`."""
    from inferchip.report import to_delimited, to_json

    if fmt == Format.table:
        with table_target(output) as console:
            render_table(doc, console)
        return
    if fmt == Format.json:
        text = to_json(doc)
    elif fmt == Format.markdown:
        text = render_markdown(doc)
    else:
        text = to_delimited(rows_of(doc), "," if fmt == Format.csv else "\t")
    emit_text(text, output)


def stdout_console():
    from inferchip.report.console import make_console

    return make_console(sys.stdout)


def table_target(output: Path | None):
    """Context manager: the console a table view draws on; with --output the drawn
    table is written to the file as plain text (explicit --format table wins over the
    suffix)."""
    from inferchip.report.console import table_output

    return table_output(output, emit_text)


def color_allowed() -> bool:
    return "NO_COLOR" not in os.environ
