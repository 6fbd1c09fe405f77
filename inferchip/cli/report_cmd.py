"""`inferchip report`: one self-contained HTML file with the ranking and every chart."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

import typer

from inferchip.cli import EXIT_CODE_HELP, app
from inferchip.cli.common import (
    AssumptionsOpt,
    CalibrationOpt,
    CatalogOpt,
    CloudProviderOpt,
    ExtendOpt,
    GrowthOpt,
    ItKwOpt,
    KwPerRackOpt,
    OutputOpt,
    RacksOpt,
    SetOpt,
    WorkloadArg,
    YearsOpt,
    emit_text,
    handles_errors,
)


class ReportFormat(str, Enum):
    auto = "auto"
    html = "html"
    markdown = "markdown"


@app.command(epilog=EXIT_CODE_HELP)
@handles_errors
def report(
    workload: WorkloadArg = None,
    output: OutputOpt = None,
    fmt: Annotated[ReportFormat, typer.Option(
        "--format", "-f", help="html (one self-contained file), or markdown (a memo linking its charts, written as "
                               "SVG files into FILE-charts/ beside --output FILE.md); auto = by the --output suffix, "
                               "html without one.")] = ReportFormat.auto,
    samples: Annotated[int, typer.Option("--samples", help="Monte Carlo draws of the uncertainty bands.", min=100,
                                         max=100_000)] = 2_000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed of the uncertainty bands.", min=0)] = 0,
    top: Annotated[int, typer.Option("--top", help="Options ranked and charted.", min=1, max=40)] = 12,
    it_kw: ItKwOpt = None,
    racks: RacksOpt = None,
    kw_per_rack: KwPerRackOpt = None,
    years: YearsOpt = None,
    growth: GrowthOpt = None,
    catalog: CatalogOpt = None,
    extend_catalog: ExtendOpt = None,
    cloud_provider: CloudProviderOpt = "default",
    assumptions: AssumptionsOpt = None,
    set_: SetOpt = None,
    calibration: CalibrationOpt = None,
) -> None:
    """Write an HTML report: ranked table, cost-per-query chart, break-even curves over
    volume, sensitivity tornado, uncertainty bands, the year-by-year plan, software
    support and scalability (scale-out fabric) of the ranked chips, assumptions with
    sources and data-quality flags, in one file that opens offline (inline SVG,
    no scripts). Needs the optional matplotlib: pip install 'inferchip[report]'.
    The plan's facility and horizon come from the profile's [facility]/[horizon]
    tables and these options (`inferchip plan` has them all).

    Examples:

      inferchip report --output report.html

      inferchip report rag-long-context-70b --samples 1000 --years 3 --traffic-growth-per-year 0.6 -o rag.html

      inferchip report --samples 500 --output memo.md
    """
    from inferchip.errors import UsageError
    from inferchip.inputs import load_inputs
    from inferchip.plan_inputs import resolve
    from inferchip.report.charts import matplotlib_figure

    suffix = output.suffix.lower() if output is not None else ""
    if fmt == ReportFormat.auto:
        fmt = ReportFormat.markdown if suffix in (".md", ".markdown") else ReportFormat.html
    if fmt == ReportFormat.html and output is not None and suffix not in (".html", ".htm"):
        raise UsageError(f"--output {output}: the report is HTML; name the file *.html (or give --format markdown "
                         "and FILE.md)")
    if fmt == ReportFormat.markdown and (output is None or suffix not in (".md", ".markdown")):
        raise UsageError("--format markdown writes a memo and its charts beside it: add --output FILE.md")
    matplotlib_figure()  # a missing optional dependency fails before any work
    inputs = load_inputs(workload, catalog, extend_catalog, assumptions, set_, calibration=calibration,
                         cloud_provider=cloud_provider)
    facility, horizon = resolve(inputs.workload.facility, inputs.workload.horizon, inputs.workload.origin, {
        "it_kw": it_kw, "racks": racks, "kw_per_rack": kw_per_rack, "years": years,
        "traffic_growth_per_year": growth})
    from inferchip.report.html import render, render_markdown
    from inferchip.report_data import build

    data = build(inputs, facility, horizon, samples, seed, top)
    if fmt == ReportFormat.html:
        emit_text(render(data), output)
        return
    _write_memo(data, output, render_markdown)


def _write_memo(data: dict, output, render_markdown) -> None:
    """The charts first, into FILE-charts/ (each file atomically), then the memo linking them."""
    from inferchip.errors import OutputError
    from inferchip.report import write_output

    folder = output.with_name(output.stem + "-charts")
    text, files = render_markdown(data, folder.name)
    try:
        folder.mkdir(exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{folder}: cannot create the charts folder ({exc.strerror}); choose another --output") \
            from None
    for name, svg in files.items():
        write_output(svg, folder / name)
    emit_text(text, output)
