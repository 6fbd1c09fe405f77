"""Procurement commands: `explain`, `diff`, `schema`, `assumptions`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from inferchip.cli import EXIT_CODE_HELP, app
from inferchip.cli.common import (
    AllocationOpt,
    AssumptionsOpt,
    CalibrationOpt,
    CatalogOpt,
    CloudProviderOpt,
    ExtendOpt,
    Format,
    FormatOpt,
    OutputOpt,
    SetOpt,
    emit_document,
    emit_text,
    handles_errors,
    resolve_format,
    table_target,
    with_allocation,
)

ChipOpt = Annotated[str, typer.Option(
    "--chip", "-c", help="Accelerator name (case-insensitive; a unique part of it is enough, e.g. 'h100 sxm').",
    metavar="NAME")]


@app.command(epilog=EXIT_CODE_HELP)
@handles_errors
def explain(
    workload: Annotated[str | None, typer.Argument(
        help="Workload profile (TOML path or bundled name). Default: the bundled support-chatbot-70b.",
        metavar="[WORKLOAD]")] = None,
    chip: ChipOpt = ...,
    catalog: CatalogOpt = None,
    extend_catalog: ExtendOpt = None,
    cloud_provider: CloudProviderOpt = "default",
    assumptions: AssumptionsOpt = None,
    set_: SetOpt = None,
    allocation: AllocationOpt = None,
    fmt: FormatOpt = Format.auto,
    output: OutputOpt = None,
    calibration: CalibrationOpt = None,
) -> None:
    """The audit trail for one accelerator: every intermediate quantity, in order, with
    its value, unit, formula (in symbols and words) and the inputs it used, each with
    its origin: catalog row (file, line, source, date), workload key, assumption and
    its source, calibration factor, or an earlier step. The final cost per query is
    the one `compare` reports for the chip.

    Examples:

      inferchip explain support-chatbot-70b --chip "NVIDIA H100 SXM"

      inferchip explain my.toml --chip "tpu v6e" --set electricity_usd_per_kwh=0.12 --format json

      inferchip explain fraud-scoring-bert --chip l4 --format markdown --output l4-derivation.md
    """
    from inferchip.assumptions import load_specs
    from inferchip.explain import explain as build
    from inferchip.inputs import load_inputs, split_sets

    fmt = resolve_format(fmt, output)
    inputs = load_inputs(workload, catalog, extend_catalog, assumptions, with_allocation(set_, allocation),
                         calibration=calibration, cloud_provider=cloud_provider)
    workload_sets, _ = split_sets(set_, load_specs())
    doc = build(inputs, chip, set(workload_sets))
    from inferchip.report.procure_view import (
        explain_rows,
        render_explain_markdown,
        render_explain_table,
    )

    emit_document(doc, fmt, output, render_explain_table, render_explain_markdown, explain_rows)


@app.command(epilog=EXIT_CODE_HELP)
@handles_errors
def diff(
    before: Annotated[Path, typer.Argument(help="Earlier `compare --format json` output.", metavar="BEFORE.json")],
    after: Annotated[Path, typer.Argument(help="Later `compare --format json` output.", metavar="AFTER.json")],
    fmt: FormatOpt = Format.auto,
    output: OutputOpt = None,
    fail_on: Annotated[list[str] | None, typer.Option(
        "--fail-on", metavar="CONDITION",
        help="Exit 7 (after writing the output) when the condition holds: winner-change (the cheapest feasible "
             "accelerator changed) or cost-increase=PCT (the cheapest cost per query rose by more than PCT %). "
             "Repeatable.")] = None,
) -> None:
    """What changed between two `compare` runs (a price update, a new catalog, new
    assumptions): per accelerator the old and new cost per query, the delta in USD
    and percent, the rank by cost before and after, the row inputs that changed
    (price, fleet size, precision...), the winners, and the changed workload keys,
    assumptions and catalog.

    Example:

      inferchip compare --format json -o before.json

      inferchip compare --set electricity_usd_per_kwh=0.15 --format json -o after.json

      inferchip diff before.json after.json

      inferchip diff before.json after.json --fail-on winner-change --fail-on cost-increase=5
    """
    from inferchip.diff import diff_runs, evaluate_fail_on, fail_on_message, load_run, parse_fail_on
    from inferchip.errors import ChangeError
    from inferchip.report import to_delimited, to_json
    from inferchip.report.procure_view import render_diff_markdown, render_diff_table

    fmt = resolve_format(fmt, output)
    conditions = [parse_fail_on(text) for text in fail_on or []]
    doc = diff_runs(load_run(before), load_run(after), str(before), str(after))
    outcomes = evaluate_fail_on(conditions, doc)
    if conditions:
        doc["fail_on"] = outcomes
    if fmt == Format.table:
        with table_target(output) as console:
            render_diff_table(doc, console)
    else:
        if fmt == Format.json:
            text = to_json(doc)
        elif fmt == Format.markdown:
            text = render_diff_markdown(doc)
        else:
            text = to_delimited(doc["rows"], "," if fmt == Format.csv else "\t")
        emit_text(text, output)
    failed = fail_on_message(outcomes)
    if failed:
        raise ChangeError(failed)


@app.command(epilog=EXIT_CODE_HELP)
@handles_errors
def schema(
    command: Annotated[list[str] | None, typer.Argument(
        help="compare, explain, diff, assumptions, catalog list, catalog show, workloads list, sweep, "
             "sensitivity, breakeven, uncertainty or validate; omit for all of them.", metavar="[COMMAND]")] = None,
    output: OutputOpt = None,
) -> None:
    """Print the JSON Schema (draft 2020-12) of a command's `--format json` output, so
    scripts can validate what they parse. Without COMMAND: {"schemas": {command: schema}}.

    Examples:

      inferchip schema compare > compare.schema.json

      inferchip schema catalog list

      inferchip schema
    """
    from inferchip.report import to_json
    from inferchip.schema import all_schemas, schema_for

    name = " ".join(command or [])
    emit_text(to_json(schema_for(name) if name else all_schemas()), output)


@app.command(epilog=EXIT_CODE_HELP)
@handles_errors
def assumptions(
    workload: Annotated[str | None, typer.Option(
        "--workload", "-w", help="Include this profile's [economics] overrides (TOML path or bundled name).",
        metavar="WORKLOAD")] = None,
    assumptions_file: AssumptionsOpt = None,
    set_: SetOpt = None,
    fmt: FormatOpt = Format.auto,
    output: OutputOpt = None,
) -> None:
    """Every economic and modelling assumption: value, unit, documented low/high range,
    where the value in force comes from (default, a profile's [economics], an
    --assumptions file or --set) and its source. Override any of them in a profile's
    [economics] table, with --assumptions FILE, or with --set KEY=VALUE.

    Examples:

      inferchip assumptions

      inferchip assumptions --assumptions site.toml --set pue=1.2 --format csv
    """
    from inferchip import assumptions as assumptions_mod
    from inferchip import workload as workload_mod
    from inferchip.config import shared_layers
    from inferchip.inputs import shared_assumption_layers, split_sets
    from inferchip.report import to_json

    fmt = resolve_format(fmt, output)
    specs = assumptions_mod.load_specs()
    _, assume_sets = split_sets(set_, specs)
    layers = shared_assumption_layers(shared_layers(), specs)
    if workload is not None:
        profile = workload_mod.load(workload)
        layers.append((f"{profile.origin} [economics]", profile.economics))
    if assumptions_file is not None:
        layers.append((str(assumptions_file), assumptions_mod.read_assumptions_file(assumptions_file)))
    layers.append(("--set", assume_sets))
    resolved = assumptions_mod.resolve(layers, specs)
    rows = [{"key": key, "value": resolved.values[key], "unit": spec.unit, "low": spec.low, "high": spec.high,
             "origin": resolved.origins[key], "source": spec.source} for key, spec in specs.items()]
    if fmt == Format.json:
        from inferchip import __version__

        emit_text(to_json({"schema_version": 1, "inferchip_version": __version__, "command": "assumptions",
                           "assumptions": rows}), output)
        return
    from inferchip.report.catalog_view import render_rows

    if fmt == Format.table:  # origin beside the value: a narrow table drops trailing columns
        order = ("key", "value", "origin", "unit", "low", "high", "source")
        rows = [{k: row[k] for k in order} for row in rows]
    render_rows(rows, fmt.value, output, emit_text, "Assumptions (override with [economics], --assumptions or --set)")
