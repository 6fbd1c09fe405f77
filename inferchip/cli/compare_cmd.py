"""`inferchip compare`: the main job."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

import typer

from inferchip.cli import EXIT_CODE_HELP, app
from inferchip.cli.common import (
    AllocationOpt,
    AssumptionsOpt,
    CalibrationOpt,
    CatalogOpt,
    ChipFilterOpt,
    CloudProviderOpt,
    ExcludeEstimatedOpt,
    ExtendOpt,
    Format,
    KindOpt,
    OutputOpt,
    ReportFormatOpt,
    SetOpt,
    VendorOpt,
    emit_text,
    handles_errors,
    resolve_format,
    row_filter,
    table_target,
    with_allocation,
)


class GateOn(str, Enum):
    best = "best"
    all = "all"


FailIfOpt = Annotated[list[str] | None, typer.Option(
    "--fail-if", metavar="'FIELD OP VALUE'",
    help="Policy gate: exit 6 when the condition holds for the --gate-on rows (output is still written). "
         "OP is one of == != < <= > >=; VALUE a number, true, false or quoted text, e.g. "
         "'cost_per_query_usd > 0.002', 'meets_slo == false', 'price_is_estimate == true'. "
         "Repeatable: any condition that holds fails. A null value never matches.")]
GateOnOpt = Annotated[GateOn, typer.Option(
    "--gate-on", help="Rows the --fail-if gates look at: best = the first row of the ranking, all = every reported row.")]
BaselineOpt = Annotated[str | None, typer.Option(
    "--baseline", metavar="NAME",
    help="What you run today: an accelerator, a row's option label (e.g. 'NVIDIA H100 SXM (rented)', "
         "'Groq API (llama-3.3-70b-versatile)') or an API provider ('Groq API'). Adds savings_per_query_usd, "
         "savings_per_day_usd, savings_per_year_usd and savings_percent (positive = cheaper than the baseline) "
         "to every row.")]
CompareBasisOpt = Annotated[list[str] | None, typer.Option(
    "--basis", metavar="BASIS",
    help="Ways of serving the workload to compare (repeatable or comma-separated): own|owned (buy), "
         "rent|rented (on demand), commit|committed (committed-use cloud price), api (per-token APIs for the "
         "workload's preset), all (= own,rent,commit,api), best (per chip the cheaper of own and rent: one row "
         "per chip) or auto (own, else rent: one row per chip). Default: best,api. Only rows paid one of these "
         "ways are shown.")]

RequireFrameworkOpt = Annotated[list[str] | None, typer.Option(
    "--require-framework", metavar="NAME",
    help="Only accelerators on which the serving framework NAME is confirmed in data/software_support.csv "
         "(vllm, tensorrt-llm, sglang, jax, neuron); repeatable: all must hold. Adds serving_frameworks.")]
WeightsOpt = Annotated[str | None, typer.Option(
    "--weights", metavar="cost=W,energy=W,software=W",
    help="Rank by a weighted score instead of cost alone, e.g. cost=0.6,energy=0.2,software=0.2: each score is "
         "0..1 (1 = best of the rows; docs/catalog.md#software-support); the weights are echoed in the output. "
         "API rows have no energy or software score, so with either weight above 0 they rank after every chip.")]

WorkloadsArg = Annotated[list[str] | None, typer.Argument(
    help="Workload profile(s): TOML paths, bundled names or folders of profiles. Several give one document with "
         "a workload column. Default: the bundled support-chatbot-70b.",
    metavar="[WORKLOAD]...")]

ColumnsOpt = Annotated[str | None, typer.Option(
    "--columns", metavar="F1,F2",
    help="Result fields to show, comma-separated, after the accelerator name: the table (no column is then "
         "dropped to fit the terminal), the Markdown memo's results and CSV/TSV (which also keep option, the row key). JSON always has every field.")]


def parse_columns(text: str | None, glossary: dict) -> list[str] | None:
    """--columns F1,F2 as a list of known result fields (an unknown one is an error)."""
    from inferchip.errors import UsageError, did_you_mean

    if text is None:
        return None
    fields = [f.strip() for f in text.split(",") if f.strip()]
    if not fields:
        raise UsageError("--columns: give at least one result field, e.g. --columns cost_per_query_usd,racks")
    for field in fields:
        if field not in glossary:
            raise UsageError(f"--columns {field}: unknown field.{did_you_mean(field, list(glossary))}"
                             " Fields: `inferchip schema compare` or docs/method.md#result-fields.")
    return list(dict.fromkeys(fields))


@app.command(epilog=EXIT_CODE_HELP)
@handles_errors
def compare(
    workload: WorkloadsArg = None,
    catalog: CatalogOpt = None,
    extend_catalog: ExtendOpt = None,
    cloud_provider: CloudProviderOpt = "default",
    assumptions: AssumptionsOpt = None,
    set_: SetOpt = None,
    allocation: AllocationOpt = None,
    fmt: ReportFormatOpt = Format.auto,
    output: OutputOpt = None,
    sort: Annotated[str, typer.Option("--sort", help="Result field to rank by (best first).", metavar="METRIC")] = "cost_per_query_usd",
    top: Annotated[int | None, typer.Option("--top", help="Show only the first N rows.", min=1)] = None,
    baseline: BaselineOpt = None,
    fail_if: FailIfOpt = None,
    gate_on: GateOnOpt = GateOn.best,
    columns: ColumnsOpt = None,
    calibration: CalibrationOpt = None,
    vendor: VendorOpt = None,
    kind: KindOpt = None,
    chip: ChipFilterOpt = None,
    basis: CompareBasisOpt = None,
    exclude_estimated: ExcludeEstimatedOpt = False,
    require_framework: RequireFrameworkOpt = None,
    weights: WeightsOpt = None,
) -> None:
    """Rank every accelerator for a workload: fleet size, SLO, cost per query and per
    million tokens, power, energy per query and rack density; cheapest feasible first.
    By default each chip appears on its cheaper of owning and renting, with a row for
    every per-token API serving the workload's model (--basis); `option` is the row key.

    Formats: auto (a table on a terminal, TSV when stdout is piped, by suffix with
    --output), table, json (the contract for scripts), csv, tsv, markdown (a memo
    with assumptions, sources and caveats), xlsx (a workbook; needs --output and
    `pip install 'inferchip[xlsx]'`).

    Examples:

      inferchip compare

      inferchip compare rag-long-context-70b --format json

      inferchip compare my.toml --set electricity_usd_per_kwh=0.12 --set pue=1.4 --sort energy_per_query_j --top 5

      inferchip compare --baseline "NVIDIA H100 SXM" --set queries_per_day=100000

      inferchip compare chatbot-70b-100k --baseline "Groq API"

      inferchip compare my.toml --fail-if 'cost_per_query_usd > 0.002' --fail-if 'meets_slo == false'

      inferchip compare my.toml --format markdown --output memo.md

      inferchip compare --vendor amd --vendor intel --exclude-estimated --baseline "NVIDIA H100 SXM"

      inferchip compare --require-framework vllm --weights cost=0.6,energy=0.2,software=0.2

      inferchip compare support-chatbot-70b chatbot-70b-100k rag-long-context-70b --top 3 --format csv
    """
    from inferchip import gates
    from inferchip.compare import run_compare
    from inferchip.diff import BASELINE_FIELDS, add_baseline
    from inferchip.document import compare_document, records
    from inferchip.errors import (
        GateError,
        NoFeasibleError,
        NotFoundError,
        UsageError,
        did_you_mean,
        shown,
    )
    from inferchip.inputs import load_inputs
    from inferchip.schema import field_types
    from inferchip.units import RESULT_FIELDS

    if sort not in RESULT_FIELDS:
        hint = did_you_mean(sort, list(RESULT_FIELDS)) or (
            " Fields: `inferchip schema compare` lists them (e.g. cost_per_query_usd, energy_per_query_j,"
            " tokens_per_s_per_accelerator).")
        raise UsageError(f"--sort {shown(sort)}: unknown field.{hint}")
    fmt = resolve_format(fmt, output, allow_xlsx=True)
    from inferchip import many

    profiles = many.expand(workload)
    if len(profiles) > 1:
        single = [name for name, given in (("--baseline", baseline), ("--fail-if", fail_if),
                                           ("--format xlsx", fmt == Format.xlsx),
                                           ("--require-framework", require_framework), ("--weights", weights))
                  if given]
        if single:
            raise UsageError(f"{single[0]} takes one workload ({len(profiles)} given); run one compare per workload")
        _compare_many(profiles, sort, top, parse_columns(columns, RESULT_FIELDS), fmt, output,
                      dict(catalog=catalog, extend=extend_catalog, assumptions_file=assumptions,
                           sets=with_allocation(set_, allocation), calibration=calibration,
                           cloud_provider=cloud_provider),
                      basis, (vendor, kind, chip, exclude_estimated))
        return
    workload = profiles[0]
    if fmt == Format.xlsx:
        if output is None:
            raise UsageError("--format xlsx writes a binary workbook: add --output FILE.xlsx")
        from inferchip.report.procure_view import _openpyxl

        _openpyxl()  # a missing optional dependency fails before any work
    from inferchip import software

    frameworks = software.parse_frameworks(require_framework)
    weight_map = software.parse_weights(weights) if weights is not None else None
    added = software.extra_fields(bool(frameworks), weight_map is not None)
    glossary = {**RESULT_FIELDS, **(BASELINE_FIELDS if baseline else {}),
                **{k: f for k, f in {**software.SOFTWARE_FIELDS, **software.WEIGHT_FIELDS}.items() if k in added}}
    fields = parse_columns(columns, glossary)
    conditions = [gates.parse(text, field_types(glossary)) for text in fail_if or []]
    inputs = load_inputs(workload, catalog, extend_catalog, assumptions, with_allocation(set_, allocation),
                         calibration=calibration, cloud_provider=cloud_provider)
    from inferchip import basis as basis_mod

    bases, shown_bases = basis_mod.from_option(basis)
    results = run_compare(inputs.workload, inputs.assumptions, inputs.chips, sort, bases=bases)
    if baseline:
        from inferchip.catalog import find_chip

        known = set(results["option"].str.lower()) | set(results["accelerator"].str.lower())
        if baseline.lower() not in known:
            baseline = str(find_chip(inputs.chips, baseline)["name"])
        results = add_baseline(results, baseline, inputs.workload.queries_per_day)
        picked = results["option"].str.lower() == baseline.lower()
        if not picked.any():
            picked = results["accelerator"].str.lower() == baseline.lower()
        baseline = str(results[picked]["option"].iloc[0])
        base = records(results[picked].head(1), ["cost_per_query_usd"])[0]
    rf = row_filter(vendor, kind, chip, shown_bases, exclude_estimated)
    if rf.on_catalog or rf.on_results:  # after the baseline: it may be a chip the filters leave out
        from inferchip.filters import filter_catalog, filter_results

        # chip filters keep the API rows only when --basis asked for them by name (api, all)
        keep_api = bool(basis) and "api" in bases
        results = results[results["accelerator"].isin(set(filter_catalog(inputs.chips, rf)["name"]))
                          | ((results["price_basis"] == "api") & keep_api)]
        results = filter_results(results, rf)
        if results.empty:
            raise NotFoundError(f"no result row matches {rf.describe()}")
    extra = software.extra_fields(bool(frameworks), weight_map is not None)
    if extra:
        results = software.apply(results, frameworks, weight_map)
        if results.empty:
            raise NotFoundError(f"no result row has {', '.join(frameworks)} confirmed in data/software_support.csv; "
                                "drop a --require-framework or see `inferchip catalog show NAME`")
    results_all = results
    results = results.head(top) if top else results
    doc = compare_document(inputs.workload, inputs.assumptions, results, inputs.catalog_source, results_all)
    if baseline:
        for row, savings in zip(doc["results"], records(results, list(BASELINE_FIELDS)), strict=True):
            row.update(savings)
        doc["baseline"] = {"accelerator": baseline, "cost_per_query_usd": base["cost_per_query_usd"],
                           "queries_per_day": inputs.workload.queries_per_day}
    if extra:
        for row, values in zip(doc["results"], records(results, extra), strict=True):
            row.update(values)
        if frameworks:
            doc["required_frameworks"] = frameworks
        if weight_map is not None:
            doc["weights"] = software.weights_block(weight_map)
    outcomes = gates.evaluate_gates(conditions, results, gate_on.value) if conditions else []  # rows by option
    if conditions:
        doc["gates"] = outcomes
    render_compare(doc, fmt, output, inputs.chips, fields)
    # API rows price tokens without modelling latency: only hardware rows decide servability
    hardware = results_all[results_all["price_basis"] != "api"]
    if not (hardware if len(hardware) else results_all)["feasible"].any():
        raise NoFeasibleError(no_feasible_message(inputs.workload.name, hardware if len(hardware) else results_all))
    failed = gates.failure_message(outcomes)
    if failed:
        raise GateError(failed)


def _compare_many(profiles: list[str], sort: str, top: int | None, fields: list[str] | None, fmt: Format, output,
                  load: dict, basis: list[str] | None, filters: tuple) -> None:
    """`compare A B ...`: each workload ranked as `compare` ranks one, one document with a
    workload column (inferchip.many); the catalog and bundled data are read once."""
    from inferchip import basis as basis_mod
    from inferchip import many
    from inferchip.compare import run_compare_many
    from inferchip.document import compare_document
    from inferchip.errors import NoFeasibleError, NotFoundError
    from inferchip.inputs import load_inputs

    bases, shown_bases = basis_mod.from_option(basis)
    vendor, kind, chip, exclude_estimated = filters
    rf = row_filter(vendor, kind, chip, shown_bases, exclude_estimated)
    first = load_inputs(profiles[0], **load)
    loaded = [first, *(load_inputs(p, **{**load, "catalog": None, "extend": None}, need_catalog=False)
                       for p in profiles[1:])]
    many.check_names([i.workload.name for i in loaded], [i.workload.origin for i in loaded])  # before any work
    docs, blocked = [], []
    # workloads the pipeline can take in one pass are evaluated together (compare.run_compare_many)
    ranked = run_compare_many([(i.workload, i.assumptions) for i in loaded], first.chips, sort, bases=bases)
    for inputs, results in zip(loaded, ranked, strict=True):
        if rf.on_catalog or rf.on_results:
            from inferchip.filters import filter_catalog, filter_results

            # as in compare: chip filters keep the API rows only when --basis asked for them by name
            keep_api = bool(basis) and "api" in bases
            results = results[results["accelerator"].isin(set(filter_catalog(first.chips, rf)["name"]))
                              | ((results["price_basis"] == "api") & keep_api)]
            results = filter_results(results, rf)
            if results.empty:
                raise NotFoundError(f"{inputs.workload.name}: no result row matches {rf.describe()}")
        hardware = results[results["price_basis"] != "api"]  # API rows do not model latency
        if not (hardware if len(hardware) else results)["feasible"].any():
            blocked.append(no_feasible_message(inputs.workload.name, hardware if len(hardware) else results))
        docs.append(compare_document(inputs.workload, inputs.assumptions, results.head(top) if top else results,
                                     first.catalog_source, results))
    doc = many.document(docs)
    from inferchip.report import many_view

    if fmt == Format.table:
        with table_target(output) as console:
            many_view.render_tables(docs, console, fields)
    elif fmt == Format.json:
        from inferchip.report import to_json

        emit_text(to_json(doc), output)
    elif fmt == Format.markdown:
        emit_text(many_view.render_markdown(doc, fields), output)
    else:
        from inferchip.report import to_delimited

        emit_text(to_delimited(many.delimited_rows(doc, fields), "," if fmt == Format.csv else "\t"), output)
    if blocked:
        raise NoFeasibleError("\n".join(blocked))


def no_feasible_message(workload_name: str, results) -> str:
    """One line: no chip can serve the workload, with the commonest reasons."""
    reasons = results["infeasible_reason"].str.split(":").str[0].value_counts()
    top = "; ".join(f"{reason} ({count})" for reason, count in reasons.head(3).items())
    return (f"no accelerator can serve workload '{workload_name}' ({top}); relax the SLO, use a smaller "
            "precision or model, or add chips/prices with --extend-catalog")


def render_compare(doc: dict, fmt: Format, output, chips=None, fields: list[str] | None = None) -> None:
    """Render a compare document; `chips` (the catalog frame) adds the spec and price
    sources to the Markdown memo and the workbook; `fields` (--columns) picks the
    columns of the table, the memo's results and CSV/TSV."""
    from inferchip.report import to_delimited, to_json

    sources = None
    if chips is not None and fmt in (Format.markdown, Format.xlsx, Format.table):
        from inferchip.explain import catalog_sources

        # catalog rows behind the result rows (an API row has none; a chip on several bases one)
        sources = catalog_sources(chips, list(dict.fromkeys(row["accelerator"] for row in doc["results"]
                                                            if row.get("price_basis") != "api")))
    if fmt == Format.table:
        from inferchip.report.compare_view import render_table

        with table_target(output) as console:
            render_table(doc, console, fields)
        return
    if fmt == Format.xlsx:
        from inferchip.cli.common import err
        from inferchip.diff import BASELINE_FIELDS
        from inferchip.report.procure_view import write_xlsx
        from inferchip.units import RESULT_FIELDS

        write_xlsx(doc, output, sources or [], {**RESULT_FIELDS, **BASELINE_FIELDS})
        err(f"wrote {output}")
        return
    if fmt == Format.json:
        text = to_json(doc)
    elif fmt == Format.markdown:
        from inferchip.report.compare_view import render_markdown

        text = render_markdown(doc, sources, fields)
    else:
        rows = doc["results"]
        if fields:
            keep = ["accelerator", "option", *[f for f in fields if f not in ("accelerator", "option")]]  # + row key
            rows = [{k: row.get(k) for k in keep} for row in rows]
        text = to_delimited(rows, "," if fmt == Format.csv else "\t")
    emit_text(text, output)
