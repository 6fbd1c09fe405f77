"""Decision analysis: `sweep`, `sensitivity`, `breakeven` and `uncertainty`.

All four run on the vectorized pipeline of `compare` (many scenarios at once,
never a Python loop per scenario), write JSON with `schema_version`, send data
to stdout (or --output, atomically), and show a progress bar on stderr when a
run takes longer than a second on a terminal."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from inferchip.cli import app
from inferchip.cli.common import (
    AllocationOpt,
    AssumptionsOpt,
    BasisOpt,
    CalibrationOpt,
    CatalogOpt,
    ChipFilterOpt,
    CloudProviderOpt,
    ExcludeEstimatedOpt,
    ExtendOpt,
    Format,
    FormatOpt,
    GridFormatOpt,
    KindOpt,
    OutputOpt,
    SetOpt,
    VendorOpt,
    WorkloadArg,
    emit_text,
    err,
    handles_errors,
    resolve_format,
    row_filter,
    stdout_console,
    table_target,
    with_allocation,
)


def _inputs(workload, catalog, extend_catalog, assumptions, set_, calibration, rf, cloud_provider="default"):
    """load_inputs, then the row filters: catalog filters on the catalog, result filters
    by each accelerator's base-case compare rows (inferchip.filters)."""
    from dataclasses import replace

    from inferchip.filters import chips_passing, filter_catalog
    from inferchip.inputs import load_inputs

    inputs = load_inputs(workload, catalog, extend_catalog, assumptions, set_, calibration=calibration,
                         cloud_provider=cloud_provider)
    if not (rf.on_catalog or rf.on_results):
        return inputs
    chips = chips_passing(filter_catalog(inputs.chips, rf), inputs.workload, inputs.assumptions, rf)
    return replace(inputs, chips=chips)


TopOpt = Annotated[int, typer.Option("--top", help="Accelerators shown (cheapest at the base case first).", min=1)]


def _console_for_views(fmt: Format, output) -> object:
    """Charts go to stdout with a table or when the data goes to a file; otherwise to
    stderr, so the data on stdout stays machine-readable."""
    from inferchip.report.console import make_console

    if fmt == Format.table or output is not None:
        return stdout_console()
    return make_console(sys.stderr)


@app.command()
@handles_errors
def sweep(
    workload: WorkloadArg = None,
    vary: Annotated[list[str] | None, typer.Option(
        "--vary", help="A varied key: KEY=START:STOP:N (evenly spaced, ends included), KEY=START:STOP:N:log "
                       "(geometric) or KEY=V1,V2,... ; repeatable, the grid is their cross product.",
        metavar="KEY=SPEC")] = None,
    winners: Annotated[bool, typer.Option(
        "--winners", help="One row per grid point: the cheapest feasible accelerator and the runner-up.")] = False,
    fields: Annotated[str | None, typer.Option(
        "--fields", help="Comma-separated result fields per row, or 'all' (default: feasible, chips_per_replica, "
                         "accelerators, racks, cost_per_query_usd, cost_per_million_tokens_usd, annual_tco_usd, "
                         "avg_power_kw, energy_per_query_j, infeasible_reason).", metavar="F1,F2")] = None,
    chart: Annotated[bool, typer.Option(
        "--chart", help="Draw cost per query against one varied key for the top accelerators "
                        "(other varied keys held at their middle value).")] = False,
    chart_key: Annotated[str | None, typer.Option(
        "--chart-key", help="The varied key on the chart's x axis (default: the first numeric one).",
        metavar="KEY")] = None,
    top: TopOpt = 5,
    catalog: CatalogOpt = None,
    extend_catalog: ExtendOpt = None,
    cloud_provider: CloudProviderOpt = "default",
    assumptions: AssumptionsOpt = None,
    set_: SetOpt = None,
    allocation: AllocationOpt = None,
    fmt: GridFormatOpt = Format.auto,
    output: OutputOpt = None,
    calibration: CalibrationOpt = None,
    vendor: VendorOpt = None,
    kind: KindOpt = None,
    chip: ChipFilterOpt = None,
    basis: BasisOpt = None,
    exclude_estimated: ExcludeEstimatedOpt = False,
) -> None:
    """Evaluate a grid of assumption and workload values x every accelerator.

    Long format: one row per (grid point, accelerator) with the varied keys and the
    result fields; --winners keeps the cheapest feasible accelerator per grid point.
    Any assumption (electricity_usd_per_kwh, pue, utilisation_target, server_life_years,
    cost_of_capital, ...) or workload quantity (queries_per_day, input_tokens,
    output_tokens, tpot_ms, ttft_ms, peak_to_average, ...) can vary; precision cannot
    (run one sweep per --set precision=...). A million rows over money keys (electricity,
    PUE, server life, cost of capital, facility) take about 2.5 seconds to a CSV file on 2
    cores (with --output, large files are formatted in worker processes on the other cores).

    Examples:

      inferchip sweep --vary electricity_usd_per_kwh=0.05:0.20:4 --vary pue=1.1,1.3,1.5 --winners

      inferchip sweep support-chatbot-70b --vary queries_per_day=1e4:1e8:9:log --chart --format csv -o grid.csv

      inferchip sweep --vary tpot_ms=20:200:10 --vary facility_model=colocation,owned --format json
    """
    import itertools

    from inferchip import sweep as sweep_mod
    from inferchip.errors import UsageError
    from inferchip.report import analysis_view as view

    inputs = _inputs(workload, catalog, extend_catalog, assumptions, with_allocation(set_, allocation), calibration,
                     row_filter(vendor, kind, chip, basis, exclude_estimated), cloud_provider)
    varies = [sweep_mod.parse_vary(text) for text in vary or []]
    chosen = [f.strip() for f in fields.split(",") if f.strip()] if fields else None
    plan = sweep_mod.plan(inputs.workload, inputs.assumptions, inputs.chips, varies, chosen)
    if chart:
        numeric = [v.key for v in plan.varies if v.numeric]
        if chart_key is None and not numeric:
            raise UsageError("--chart: no numeric varied key to draw cost against; vary a number "
                             "(e.g. --vary pue=1.1:1.6:6) or drop --chart")
        chart_key = chart_key or numeric[0]
        sweep_mod.chart_held_values(plan, chart_key)  # validate before any work
        if "cost_per_query_usd" not in plan.fields:
            plan.fields.append("cost_per_query_usd")
    from inferchip.limits import check_sweep

    chart_points = len(next(v.values for v in plan.varies if v.key == chart_key)) if chart else 0
    check_sweep(len(plan.chips), chart_key if chart else None, chart_points)  # before any work
    if winners and "cost_per_query_usd" not in plan.fields:
        plan.fields.append("cost_per_query_usd")
    fmt = resolve_format(fmt, output, allow_parquet=True)
    slices = []

    columns = sweep_mod.winner_columns(plan) if winners else plan.columns
    with _row_workers(fmt, output, plan.grid_points if winners else plan.rows, len(columns)) as workers, \
            view.LazyProgress(f"sweep: {plan.rows:,} rows") as progress:
        def chunks():
            for chunk in sweep_mod.iter_chunks(plan, progress=progress):
                if chart:
                    slices.append(sweep_mod.chart_slice(plan, chunk, chart_key))
                yield sweep_mod.winners(chunk, plan) if winners else chunk

        stream = chunks()
        first = next(stream)
        kinds = view.column_kinds(first[columns], int_columns=("grid_point", "feasible_accelerators"))
        rows_all = itertools.chain([first], stream)
        if fmt == Format.table:
            with table_target(output) as console:
                _table_from_chunks(rows_all, columns, plan, winners, view, console)
        elif fmt == Format.parquet:
            from inferchip.report.parquet_out import write_frames

            head = sweep_mod.document_head(plan, inputs.catalog_source, winners)
            written = write_frames(output, head, columns, rows_all)
            err(f"wrote {written:,} rows to {output}")
        else:
            style = fmt.value
            head = sweep_mod.document_head(plan, inputs.catalog_source, winners)
            with view.atomic_stream(output) as handle:
                written = view.stream_document(handle, style, head, columns, kinds, rows_all, workers)
            if output is not None:
                err(f"wrote {written:,} rows to {output}")
    if chart:
        import pandas as pd

        series = sweep_mod.chart_series(plan, pd.concat(slices, ignore_index=True), chart_key, top)
        held = ", ".join(f"{k} = {v}" for k, v in series["held"].items())
        title = f"Cost per query vs {chart_key} ({plan.workload.name})" + (f"; held: {held}" if held else "")
        view.line_chart(_console_for_views(fmt, output), title, series["x"], series["series"], chart_key,
                        "cost per query, USD")


def _row_workers(fmt: Format, output, rows: int, columns: int):
    """Processes that format a large text document's rows on the other cores
    (report.row_workers), forked now, before the sweep starts its prefetch thread;
    none (a null context) for stdout, tables, Parquet, small or wide documents."""
    from contextlib import nullcontext

    if output is None or fmt not in (Format.csv, Format.tsv, Format.markdown, Format.json):
        return nullcontext()
    from inferchip.report.row_workers import RowWorkers, worker_count

    count = worker_count(rows, columns)
    return RowWorkers(count) if count else nullcontext()


def _table_from_chunks(chunks, columns, plan, winners: bool, view, console) -> None:
    from inferchip.document import records
    from inferchip.units import RESULT_FIELDS

    keys = [v.column for v in plan.varies]
    if winners:
        extra = ["winner", "cost_per_query_usd", "runner_up", "runner_up_premium_fraction"]
    else:
        extra = ["accelerator", "feasible", "accelerators", "cost_per_query_usd"]
    columns = [c for c in keys + extra if c in columns]  # the terminal view is narrow; files get all
    shown, total = [], 0
    for chunk in chunks:
        total += len(chunk)
        if len(shown) < view.TABLE_ROW_LIMIT:
            shown += records(chunk[columns].head(view.TABLE_ROW_LIMIT - len(shown)))
    title = (f"Sweep of {plan.workload.name}: {plan.grid_points:,} grid points x {len(plan.chips)} accelerators"
             + (" (cheapest feasible per grid point)" if winners else ""))
    units = {k: f.unit for k, f in RESULT_FIELDS.items()}
    units["runner_up_cost_per_query_usd"] = "USD"
    view.render_rows_table(shown, columns, console, title, units, total)


def _render_document(doc: dict, fmt: Format, output, rows_key: str = "results") -> None:
    """JSON / CSV / TSV / Markdown of a document's rows (tables are drawn by each command)."""
    from inferchip.report import to_delimited, to_json
    from inferchip.report.analysis_view import markdown_rows

    if fmt == Format.json:
        text = to_json(doc)
    elif fmt == Format.markdown:
        text = markdown_rows(doc[rows_key])
    else:
        text = to_delimited(doc[rows_key], "," if fmt == Format.csv else "\t")
    emit_text(text, output)


def _show(doc: dict, fmt: Format, output, table_view: str) -> None:
    """A table on the terminal (drawn by `report.analysis_view.<table_view>`), else the document's rows."""
    if fmt == Format.table:
        from inferchip.report import analysis_view

        with table_target(output) as console:
            getattr(analysis_view, table_view)(doc, console)
        return
    _render_document(doc, fmt, output)


@app.command()
@handles_errors
def sensitivity(
    workload: WorkloadArg = None,
    top: TopOpt = 5,
    catalog: CatalogOpt = None,
    extend_catalog: ExtendOpt = None,
    cloud_provider: CloudProviderOpt = "default",
    assumptions: AssumptionsOpt = None,
    set_: SetOpt = None,
    allocation: AllocationOpt = None,
    fmt: FormatOpt = Format.auto,
    output: OutputOpt = None,
    calibration: CalibrationOpt = None,
    vendor: VendorOpt = None,
    kind: KindOpt = None,
    chip: ChipFilterOpt = None,
    basis: BasisOpt = None,
    exclude_estimated: ExcludeEstimatedOpt = False,
) -> None:
    """Swing each assumption across its documented range, one at a time.

    Every numeric assumption with a low/high in data/assumptions.toml is set to its
    low and then its high end, all others at their base value. Reports the cost per
    query of the top N accelerators at each end, ranks the assumptions by how much
    they move the cheapest accelerator's cost (a tornado), and says where the
    cheapest accelerator changes.

    Examples:

      inferchip sensitivity

      inferchip sensitivity rag-long-context-70b --top 3 --format json

      inferchip sensitivity --set facility_model=owned --format csv -o swings.csv
    """
    from inferchip import sensitivity as sens

    inputs = _inputs(workload, catalog, extend_catalog, assumptions, with_allocation(set_, allocation), calibration,
                     row_filter(vendor, kind, chip, basis, exclude_estimated), cloud_provider)
    result = sens.run(inputs.workload, inputs.assumptions, inputs.chips, top)
    doc = sens.document(result, inputs.workload, inputs.assumptions, inputs.catalog_source)
    _show(doc, resolve_format(fmt, output), output, "render_sensitivity")


@app.command()
@handles_errors
def breakeven(
    workload: WorkloadArg = None,
    top: Annotated[int | None, typer.Option("--top", help="Show only the first N accelerators.", min=1)] = None,
    catalog: CatalogOpt = None,
    extend_catalog: ExtendOpt = None,
    cloud_provider: CloudProviderOpt = "default",
    assumptions: AssumptionsOpt = None,
    set_: SetOpt = None,
    allocation: AllocationOpt = None,
    fmt: FormatOpt = Format.auto,
    output: OutputOpt = None,
    calibration: CalibrationOpt = None,
    vendor: VendorOpt = None,
    kind: KindOpt = None,
    chip: ChipFilterOpt = None,
    basis: BasisOpt = None,
    exclude_estimated: ExcludeEstimatedOpt = False,
) -> None:
    """Own vs rent (on demand, committed) vs a per-token API.

    Per accelerator: cost per query of each option at the workload's volume, the
    daily volume from which owning beats each alternative, and the months until
    owning's capital is paid back by what it saves. API prices come from
    data/api_prices.csv (models comparable to the workload's preset); the committed
    price is on demand x (1 - committed_use_discount).

    Examples:

      inferchip breakeven

      inferchip breakeven assistant-8b-high-volume --top 5

      inferchip breakeven --set committed_use_discount=0.55 --format json
    """
    from inferchip import breakeven as be
    from inferchip.report.analysis_view import LazyProgress

    inputs = _inputs(workload, catalog, extend_catalog, assumptions, with_allocation(set_, allocation), calibration,
                     row_filter(vendor, kind, chip, basis, exclude_estimated), cloud_provider)
    with LazyProgress("breakeven: searching volumes") as progress:
        result = be.run(inputs.workload, inputs.assumptions, inputs.chips, progress=progress)
    doc = be.document(result, inputs.workload, inputs.assumptions, inputs.catalog_source, top)
    _show(doc, resolve_format(fmt, output), output, "render_breakeven")


@app.command()
@handles_errors
def uncertainty(
    workload: WorkloadArg = None,
    samples: Annotated[int, typer.Option("--samples", help="Monte Carlo draws.", min=1)] = 10_000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (0 or more): the same seed gives the same result.", min=0)] = 0,
    top: Annotated[int | None, typer.Option("--top", help="Show only the first N accelerators.", min=1)] = None,
    catalog: CatalogOpt = None,
    extend_catalog: ExtendOpt = None,
    cloud_provider: CloudProviderOpt = "default",
    assumptions: AssumptionsOpt = None,
    set_: SetOpt = None,
    allocation: AllocationOpt = None,
    fmt: GridFormatOpt = Format.auto,
    output: OutputOpt = None,
    calibration: CalibrationOpt = None,
    vendor: VendorOpt = None,
    kind: KindOpt = None,
    chip: ChipFilterOpt = None,
    basis: BasisOpt = None,
    exclude_estimated: ExcludeEstimatedOpt = False,
) -> None:
    """p10 / p50 / p90 cost per query and the probability each accelerator is cheapest.

    Each draw samples every assumption you did not set from its documented
    distribution (triangular(low, value, high) unless data/assumptions.toml says
    otherwise) and one efficiency multiplier per chip family from the model's
    calibration error, then sizes and prices every fleet. Deterministic for a seed.

    Examples:

      inferchip uncertainty --samples 100000 --seed 1

      inferchip uncertainty rag-long-context-70b --top 5 --format json

      inferchip uncertainty --set electricity_usd_per_kwh=0.12 --samples 20000 -o bands.csv
    """
    from inferchip import uncertainty as unc
    from inferchip.report.analysis_view import LazyProgress

    inputs = _inputs(workload, catalog, extend_catalog, assumptions, with_allocation(set_, allocation), calibration,
                     row_filter(vendor, kind, chip, basis, exclude_estimated), cloud_provider)
    with LazyProgress(f"uncertainty: {samples:,} samples") as progress:
        result = unc.run(inputs.workload, inputs.assumptions, inputs.chips, samples, seed, progress,
                         calibration=inputs.calibration)
    doc = unc.document(result, inputs.workload, inputs.assumptions, inputs.catalog_source, top)
    fmt = resolve_format(fmt, output, allow_parquet=True)
    if fmt == Format.parquet:
        import pandas as pd

        from inferchip.report.parquet_out import write_frames

        rows = pd.DataFrame.from_records(doc["results"])
        written = write_frames(output, {k: v for k, v in doc.items() if k != "results"}, list(rows.columns), [rows])
        err(f"wrote {written:,} rows to {output}")
        return
    _show(doc, fmt, output, "render_uncertainty")
