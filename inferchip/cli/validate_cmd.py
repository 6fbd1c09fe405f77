"""`inferchip validate` (predicted vs measured) and `inferchip calibrate` (fit the factors)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from inferchip.cli import app
from inferchip.cli.common import (
    AssumptionsOpt,
    CatalogOpt,
    ExtendOpt,
    Format,
    FormatOpt,
    OutputOpt,
    SetOpt,
    emit_document,
    emit_text,
    err,
    handles_errors,
    resolve_format,
)

BenchmarksOpt = Annotated[Path | None, typer.Option(
    "--benchmarks", help="Measured results CSV (schema in data/README.md). Default: the bundled data/benchmarks.csv.",
    metavar="FILE")]
SPLIT_NAMES = ("none", "loo", "time", "family", "benchmark")
SplitOpt = Annotated[str | None, typer.Option(
    "--split", help="Held-out validation: none (in-sample), loo (leave-one-out), time (fit on rows dated before "
    "2025 = MLPerf v4.x, predict v5.1), family (leave one chip family out), benchmark (leave one model out). "
    "Refits the factors per fold: loo, family and benchmark take minutes.", metavar="SPLIT")]
CalibrationOpt = Annotated[Path | None, typer.Option(
    "--calibration", help="Efficiency factors CSV. Default: the bundled data/calibration.csv.", metavar="FILE")]


def _assumption_values(assumptions: Path | None, sets: list[str] | None) -> dict[str, object]:
    from inferchip import assumptions as assumptions_mod
    from inferchip.errors import UsageError

    specs = assumptions_mod.load_specs()
    parsed = assumptions_mod.parse_set_options(sets or [])
    unknown = [k for k in parsed if k not in specs]
    if unknown:
        raise UsageError(f"--set {unknown[0]}: not an assumption key; validate takes its workloads from the "
                         "benchmarks, so only assumptions (e.g. memory_usable_fraction) can be set")
    layers = []
    if assumptions is not None:
        layers.append((str(assumptions), assumptions_mod.read_assumptions_file(assumptions)))
    layers.append(("--set", parsed))
    return dict(assumptions_mod.resolve(layers, specs).values)


def _read_calibration(path: Path | None):
    from inferchip.calibration import read_calibration
    from inferchip.errors import InputError, NotFoundError

    try:
        table = read_calibration(path)
    except FileNotFoundError:
        raise NotFoundError(f"{path}: calibration file not found; check the path") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not a calibration CSV ({exc}); see data/README.md for the columns") from None
    missing = [c for c in ("scope", "key", "compute_efficiency", "memory_efficiency") if c not in table]
    if missing:
        raise InputError(f"{path or 'data/calibration.csv'}: line 1: missing column(s) {', '.join(missing)};"
                         " see data/README.md")
    return table


@app.command()
@handles_errors
def validate(
    catalog: CatalogOpt = None,
    extend_catalog: ExtendOpt = None,
    benchmarks: BenchmarksOpt = None,
    calibration: CalibrationOpt = None,
    assumptions: AssumptionsOpt = None,
    set_: SetOpt = None,
    split: SplitOpt = None,
    fmt: FormatOpt = Format.auto,
    output: OutputOpt = None,
) -> None:
    """Predicted vs measured throughput for every measured benchmark row (MLPerf), with
    the error statistics: median |error|, geometric-mean ratio, worst case, rows within
    +-25 % (per LLM and fixed-work class), leave-one-out error of the calibration, and
    predicted vs measured system power where MLPerf Power measured it.

    Each row's workload is the benchmark's (dataset token means, latency bounds), run
    through the same model `compare` uses on the measured chip and system size.

    Examples:

      inferchip validate

      inferchip validate --format json | jq .summary

      inferchip validate --format markdown -o accuracy.md

      inferchip validate --split time --format json | jq '.summary[] | select(.group_by == "scenario")'
    """
    from inferchip import validate as validate_mod
    from inferchip.catalog import load_catalog
    from inferchip.measured import read_benchmarks

    values = _assumption_values(assumptions, set_)
    table_cal = _read_calibration(calibration)
    chips = load_catalog(catalog, extend_catalog)
    bench = read_benchmarks(benchmarks)
    sources = {"benchmarks": str(benchmarks or "data/benchmarks.csv"),
               "calibration": str(calibration or "data/calibration.csv"),
               "catalog": str(catalog or "data/catalog.csv") + "".join(f" + {p}" for p in extend_catalog or [])}
    if split is not None:
        _emit_split(split, bench, chips, table_cal, values, sources, fmt, output)
        return
    table = validate_mod.run(bench, chips, table_cal, values)
    from inferchip.report import validate_view

    _emit(validate_mod.validate_document(table, table_cal, sources), fmt, output,
          validate_view.render_table, validate_view.render_markdown)


def _emit(doc: dict, fmt: Format, output: Path | None, render_table, render_markdown) -> None:
    """One validate document in the chosen format: a terminal table, JSON, Markdown or rows."""
    emit_document(doc, resolve_format(fmt, output), output, render_table, render_markdown, lambda d: d["rows"])


def _emit_split(split: str, bench, chips, table_cal, values, sources, fmt: Format, output: Path | None) -> None:
    """`validate --split`: held-out predictions and statistics per group (validate_split)."""
    from inferchip import validate_split
    from inferchip.errors import UsageError

    if split not in SPLIT_NAMES:
        raise UsageError(f"--split {split}: not a split; use one of {', '.join(SPLIT_NAMES)}")
    table = validate_split.run_split(bench, chips, table_cal, values, split, progress=err)
    from inferchip.report import validate_view

    _emit(validate_split.split_document(table, split, sources), fmt, output,
          validate_view.render_split_table, validate_view.render_split_markdown)


@app.command()
@handles_errors
def calibrate(
    catalog: CatalogOpt = None,
    extend_catalog: ExtendOpt = None,
    benchmarks: BenchmarksOpt = None,
    assumptions: AssumptionsOpt = None,
    set_: SetOpt = None,
    loo: Annotated[bool, typer.Option("--loo/--no-loo", help="Also compute leave-one-out errors (slower).")] = True,
    fmt: FormatOpt = Format.auto,
    output: OutputOpt = None,
) -> None:
    """Fit the model's efficiency factors to the measured rows (per chip family where
    data exists, per kind otherwise, a few factors shared by all) and report in-sample
    and leave-one-out error. `--format csv` (or `-o FILE.csv`) writes the calibration
    file `compare` and `validate` read. Deterministic grid search; takes ~30 s.

    Examples:

      inferchip calibrate --format json

      inferchip calibrate -o data/calibration.csv && make validate-table
    """
    from inferchip import calibrate as calibrate_mod
    from inferchip import validate as validate_mod
    from inferchip.catalog import load_catalog
    from inferchip.measured import read_benchmarks

    values = _assumption_values(assumptions, set_)
    chips = load_catalog(catalog, extend_catalog)
    frame = validate_mod.validation_frame(read_benchmarks(benchmarks), chips)
    err("fitting efficiency factors to the measured rows" + (" (with leave-one-out)..." if loo else "..."))
    result = calibrate_mod.run(frame, values, leave_one_out=loo)
    fmt = resolve_format(fmt, output)
    if fmt == Format.csv:
        emit_text(calibrate_mod.to_csv_text(result.factors), output)
        return
    from inferchip.document import records
    from inferchip.report import to_delimited, to_json

    doc = {"schema_version": 1, "command": "calibrate", "server_factor": result.server_factor,
           "factors": records(result.factors), "rows": records(result.rows)}
    if fmt == Format.json:
        emit_text(to_json(doc), output)
        return
    from inferchip.report import validate_view
    from inferchip.report.catalog_view import render_rows

    if fmt == Format.tsv:
        emit_text(to_delimited(doc["factors"], "\t"), output)
        return
    render_rows(validate_view.calibration_rows(doc), fmt.value, output, emit_text, "Fitted efficiency factors")
