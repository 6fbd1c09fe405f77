"""`inferchip plan`: a deployment over years inside a facility."""

from __future__ import annotations

from typing import Annotated

import typer

from inferchip.cli import EXIT_CODE_HELP, app
from inferchip.cli.common import (
    FACILITY_HELP,
    HORIZON_HELP,
    AllocationOpt,
    AssumptionsOpt,
    CalibrationOpt,
    CatalogOpt,
    ChipFilterOpt,
    CloudProviderOpt,
    ExcludeEstimatedOpt,
    ExtendOpt,
    Format,
    FormatOpt,
    GrowthOpt,
    ItKwOpt,
    KindOpt,
    KwPerRackOpt,
    OutputOpt,
    RacksOpt,
    SetOpt,
    VendorOpt,
    WorkloadArg,
    YearsOpt,
    emit_document,
    handles_errors,
    resolve_format,
    row_filter,
    with_allocation,
)

_F, _H = FACILITY_HELP, HORIZON_HELP


@app.command(epilog=EXIT_CODE_HELP)
@handles_errors
def plan(
    workload: WorkloadArg = None,
    it_kw: ItKwOpt = None,
    racks: RacksOpt = None,
    kw_per_rack: KwPerRackOpt = None,
    rack_units: Annotated[float | None, typer.Option(
        "--rack-units", help=_F + "usable units per rack; replaces rack_units_usable.", metavar="U")] = None,
    cooling: Annotated[str | None, typer.Option(
        "--cooling", help=_F + "air (liquid-cooled servers do not fit) or liquid (both fit).",
        metavar="air|liquid")] = None,
    years: YearsOpt = None,
    growth: GrowthOpt = None,
    purchase_decline: Annotated[float | None, typer.Option(
        "--purchase-price-decline-per-year", help=_H + "fall of hardware prices per year, e.g. 0.15 (default 0).",
        metavar="FRACTION")] = None,
    cloud_decline: Annotated[float | None, typer.Option(
        "--cloud-price-decline-per-year", help=_H + "fall of rent and API prices per year (default 0).",
        metavar="FRACTION")] = None,
    refresh_to: Annotated[str | None, typer.Option(
        "--refresh-to", help=_H + "accelerator to refresh each owned fleet to: adds the year the refresh pays back.",
        metavar="NAME")] = None,
    resale: Annotated[float | None, typer.Option(
        "--resale-value-fraction", help=_H + "what the fleet a refresh retires sells for, as a fraction of what it "
                                       "cost (default 0: no sourced figure; docs/plan.md gives the published range).",
        metavar="FRACTION")] = None,
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
    exclude_estimated: ExcludeEstimatedOpt = False,
    require_framework: Annotated[list[str] | None, typer.Option(
        "--require-framework", metavar="NAME",
        help="Only accelerators on which the serving framework NAME is confirmed in data/software_support.csv "
             "(vllm, tensorrt-llm, sglang, jax, neuron); repeatable.")] = None,
    weights: Annotated[str | None, typer.Option(
        "--weights", metavar="cost=W,energy=W,software=W",
        help="Rank by a weighted score instead of net present cost alone, e.g. cost=0.6,energy=0.2,software=0.2 "
             "(as compare --weights; cost = net present cost per query, energy = year-1 energy per query); the "
             "weights are echoed in the output.")] = None,
) -> None:
    """Plan a deployment over years inside a facility, per accelerator.

    For each accelerator: what fits in the facility (IT kW, racks, kW per rack, rack
    units, cooling), traffic served per MW and per rack, the purchases year by year as
    traffic grows, the overflow rented or sent to a per-token API, cash flows
    discounted at cost_of_capital, net present cost, cost per query per year (year 1
    equals `compare --basis auto`'s) and, with --refresh-to, the year a refresh pays back. Ranked
    by net present cost. JSON: a summary per chip (results), every year (years) and
    each yearly figure's formula and inputs (provenance); CSV/TSV: the year rows.

    Examples:

      inferchip plan --it-kw 600 --racks 20 --kw-per-rack 40

      inferchip plan --years 3 --traffic-growth-per-year 0.6 --purchase-price-decline-per-year 0.15

      inferchip plan --chip "H100 SXM" --chip B300 --refresh-to "B300 (HGX)" --format json

      inferchip plan chatbot-70b-100k --it-kw 100 --cooling air --format csv --output plan.csv

      inferchip plan --weights cost=0.6,energy=0.2,software=0.2 --top 5
    """
    from inferchip import plan as plan_mod
    from inferchip import software
    from inferchip.cli.analysis_cmd import _inputs
    from inferchip.plan_inputs import resolve

    inputs = _inputs(workload, catalog, extend_catalog, assumptions, with_allocation(set_, allocation), calibration,
                     row_filter(vendor, kind, chip, None, exclude_estimated), cloud_provider)
    facility, horizon = resolve(inputs.workload.facility, inputs.workload.horizon, inputs.workload.origin, {
        "it_kw": it_kw, "racks": racks, "kw_per_rack": kw_per_rack, "rack_units": rack_units, "cooling": cooling,
        "years": years, "traffic_growth_per_year": growth, "purchase_price_decline_per_year": purchase_decline,
        "cloud_price_decline_per_year": cloud_decline, "refresh_to": refresh_to, "resale_value_fraction": resale})
    fmt = resolve_format(fmt, output)
    frameworks = software.parse_frameworks(require_framework)
    weight_map = software.parse_weights(weights) if weights is not None else None
    chips = inputs.chips
    if frameworks:
        listed = chips.assign(serving_frameworks=software.frameworks_for(chips["name"]).to_numpy())
        chips = chips[chips["name"].isin(set(software.require(listed, frameworks)["name"]))]
        if chips.empty:
            from inferchip.errors import NotFoundError

            raise NotFoundError(f"no accelerator has {', '.join(frameworks)} confirmed in data/software_support.csv")
    result = plan_mod.run(inputs.workload, inputs.assumptions, chips, facility, horizon)
    if weight_map is not None:
        result = plan_mod.weigh(result, weight_map)
    doc = plan_mod.document(result, inputs.workload, inputs.catalog_source, top)
    render_plan(doc, fmt, output)
    if not result.summary["feasible"].any():  # as compare: the rows (with reasons) are written, exit 4
        from inferchip.cli.compare_cmd import no_feasible_message
        from inferchip.errors import NoFeasibleError

        raise NoFeasibleError(no_feasible_message(inputs.workload.name, result.summary))


def render_plan(doc: dict, fmt: Format, output) -> None:
    from inferchip.report import plan_view

    emit_document(doc, fmt, output, plan_view.render_plan, plan_view.render_markdown, lambda d: d["years"])
