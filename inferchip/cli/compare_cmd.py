"""`inferchip compare`: the main job."""

from __future__ import annotations

from typing import Annotated

import typer

from inferchip.cli import app
from inferchip.cli.common import (
    AssumptionsOpt, CatalogOpt, ExtendOpt, Format, FormatOpt, OutputOpt, SetOpt,
    emit_text, handles_errors, resolve_format, stdout_console,
)

WorkloadArg = Annotated[str | None, typer.Argument(
    help="Workload profile (TOML path or bundled name). Default: the bundled support-chatbot-70b.",
    metavar="[WORKLOAD]")]


@app.command()
@handles_errors
def compare(
    workload: WorkloadArg = None,
    catalog: CatalogOpt = None,
    extend_catalog: ExtendOpt = None,
    assumptions: AssumptionsOpt = None,
    set_: SetOpt = None,
    fmt: FormatOpt = Format.auto,
    output: OutputOpt = None,
    sort: Annotated[str, typer.Option("--sort", help="Result field to rank by (best first).", metavar="METRIC")] = "cost_per_query_usd",
    top: Annotated[int | None, typer.Option("--top", help="Show only the first N rows.", min=1)] = None,
) -> None:
    """Rank every accelerator for a workload: fleet size, SLO, cost per query and per
    million tokens, power, energy per query and rack density; cheapest feasible first.

    Examples:

      inferchip compare

      inferchip compare data/workloads/support-chatbot-70b.toml --format json

      inferchip compare my.toml --set electricity_usd_per_kwh=0.12 --set pue=1.4 --sort energy_per_query_j --top 5
    """
    from inferchip.compare import run_compare
    from inferchip.document import compare_document
    from inferchip.errors import UsageError, did_you_mean
    from inferchip.inputs import load_inputs
    from inferchip.units import RESULT_FIELDS

    if sort not in RESULT_FIELDS:
        raise UsageError(f"--sort {sort}: unknown field.{did_you_mean(sort, list(RESULT_FIELDS))}")
    inputs = load_inputs(workload, catalog, extend_catalog, assumptions, set_)
    results = run_compare(inputs.workload, inputs.assumptions, inputs.chips, sort, top)
    doc = compare_document(inputs.workload, inputs.assumptions, results, inputs.catalog_source)
    render_compare(doc, resolve_format(fmt, output), output)


def render_compare(doc: dict, fmt: Format, output) -> None:
    from inferchip.report import to_delimited, to_json

    if fmt == Format.table and output is None:
        from inferchip.report.compare_view import render_table

        render_table(doc, stdout_console())
        return
    if fmt == Format.table:
        fmt = Format.markdown
    if fmt == Format.json:
        text = to_json(doc)
    elif fmt == Format.markdown:
        from inferchip.report.compare_view import render_markdown

        text = render_markdown(doc)
    else:
        text = to_delimited(doc["results"], "," if fmt == Format.csv else "\t")
    emit_text(text, output)
