"""Views of a `compare` document: rich table, Markdown memo, flat rows."""

from __future__ import annotations

from inferchip.report.fmt import fmt_number
from inferchip.units import RESULT_FIELDS

# (field, header) shown in the terminal table and the Markdown memo.
TABLE_COLUMNS = (
    ("accelerator", "Accelerator"),
    ("precision_used", "Prec"),
    ("chips_per_replica", "Chips/\nreplica"),
    ("batch_size", "Batch"),
    ("accelerators", "Accel-\nerators"),
    ("servers", "Servers"),
    ("racks", "Racks"),
    ("tokens_per_s_per_accelerator", "Tokens/s\n/accel"),
    ("tpot_ms", "TPOT\nms"),
    ("latency_ms", "Latency\nms"),
    ("cost_per_query_usd", "Cost/query\nUSD"),
    ("cost_per_million_tokens_blended_usd", "Cost/M tok\nin+out USD"),
    ("cloud_cost_per_query_usd", "Rent/query\nUSD"),
    ("annual_tco_usd", "TCO/year\nUSD"),
    ("avg_power_kw", "Avg power\nkW"),
    ("energy_per_query_j", "Energy/query\nJ"),
    ("kw_per_rack", "kW/\nrack"),
)
# Terminal columns dropped first when the table would not fit the console width.
DROP_ORDER = ("kw_per_rack", "batch_size", "annual_tco_usd", "latency_ms", "tpot_ms", "precision_used",
              "chips_per_replica", "energy_per_query_j", "racks", "cloud_cost_per_query_usd", "servers",
              "avg_power_kw", "cost_per_million_tokens_blended_usd")
SUMMARY_ASSUMPTIONS = ("electricity_usd_per_kwh", "pue", "server_life_years", "cost_of_capital",
                       "utilisation_target", "facility_model", "colocation_usd_per_kw_month")


# Shown after the cost columns with `compare --baseline NAME`.
BASELINE_COLUMNS = (
    ("savings_per_query_usd", "Saves/query\nUSD"),
    ("savings_per_year_usd", "Saves/year\nUSD"),
    ("savings_percent", "Saves\n%"),
)
BASELINE_UNITS = {"savings_per_query_usd": "USD", "savings_per_year_usd": "USD/year", "savings_percent": "%",
                  "savings_per_day_usd": "USD/day"}


# Shown after the accelerator with `compare --weights` (inferchip.software).
WEIGHT_COLUMNS = (
    ("weighted_score", "Weighted\nscore"),
    ("cost_score", "Cost\nscore"),
    ("energy_score", "Energy\nscore"),
    ("software_score", "Software\nscore"),
)


def _columns(doc: dict, fields: list[str] | None = None) -> list[tuple[str, str]]:
    """(field, header) of the table: `fields` (compare --columns) in that order after the
    accelerator, else the default set for the workload kind."""
    if fields:
        headers = dict(TABLE_COLUMNS) | dict(BASELINE_COLUMNS) | dict(WEIGHT_COLUMNS)
        return [("accelerator", "Accelerator")] + [(f, headers.get(f, f)) for f in fields if f != "accelerator"]
    kind = doc["workload"]["kind"]
    skip = ({"tokens_per_s_per_accelerator", "tpot_ms", "cost_per_million_tokens_blended_usd"} if kind == "fixed"
            else {"latency_ms"})
    columns = [(f, h) for f, h in TABLE_COLUMNS if f not in skip]
    if doc.get("baseline"):
        at = next(i for i, (f, _) in enumerate(columns) if f == "annual_tco_usd") + 1
        columns[at:at] = list(BASELINE_COLUMNS)
    if doc.get("weights"):
        columns[1:1] = list(WEIGHT_COLUMNS)
    return columns


def _cell(row: dict, field: str) -> str:
    if field == "accelerator" and row.get("price_basis") == "api":  # 'Groq API'; the model is named under the table
        return str(row["accelerator"])
    if field == "accelerator" and row.get("option"):  # the row key: 'NVIDIA H100 SXM', 'NVIDIA H100 SXM (rented)'
        return str(row["option"])
    unit = RESULT_FIELDS[field].unit if field in RESULT_FIELDS else BASELINE_UNITS.get(field, "")
    return fmt_number(row.get(field), unit)


def _workload_line(doc: dict) -> str:
    w = doc["workload"]
    if w["kind"] == "llm":
        slo = f"TTFT <= {fmt_number(w['ttft_ms'])} ms, TPOT <= {fmt_number(w['tpot_ms'])} ms"
        shape = f"{fmt_number(w['input_tokens'])} in / {fmt_number(w['output_tokens'])} out tokens"
        model = f"{w['preset'] or 'custom'} ({fmt_number(w['params_b'])}B params, {w['precision']})"
    else:
        slo = f"latency <= {fmt_number(w['latency_ms'])} ms"
        shape = f"{fmt_number(w['gflops_per_query'])} GFLOP/query"
        model = f"{w['preset'] or 'custom'} ({w['precision']})"
    return (f"{w['name']}: {model}, {fmt_number(w['queries_per_day'])} queries/day "
            f"(peak x{fmt_number(w['peak_to_average'])}), {shape}, {slo}")


def _assumption_lines(doc: dict) -> list[str]:
    items = doc["assumptions"]
    keys = list(SUMMARY_ASSUMPTIONS) + [k for k, v in items.items()
                                        if v["origin"] != "default" and k not in SUMMARY_ASSUMPTIONS]
    lines = []
    for key in keys:
        entry = items[key]
        origin = "" if entry["origin"] == "default" else f" [{entry['origin']}]"
        unit = "" if isinstance(entry["value"], str) else f" {entry['unit']}"
        lines.append(f"{key} = {fmt_number(entry['value'])}{unit}{origin}")
    return lines


def _results_table(doc: dict, columns: list[tuple[str, str]], rows: list[dict]):
    from rich.table import Table

    table = Table(title=_workload_line(doc), title_justify="left", header_style="bold", pad_edge=False)
    table.add_column("Accelerator", no_wrap=True)
    table.add_column("Basis")
    for field, header in columns[1:]:
        table.add_column(header, justify="left" if field == "precision_used" else "right")
    for row in rows:
        cells = [_cell(row, f) for f, _ in columns]
        cells.insert(1, row.get("price_basis", ""))
        if row.get("thin_data"):  # italic, named in the footnote: a marker character would widen the table
            from rich.text import Text

            cells[0] = Text(cells[0], style="italic")
        table.add_row(*cells)
    return table




def _thin_note(rows: list[dict]) -> str:
    """The footnote for rows whose modeled throughput rests on thin calibration data ('' if none)."""
    thin = [r for r in rows if r.get("thin_data")]
    if not thin:
        return ""
    return ("† Thin data (names in italics): modeled from < 4 fitted benchmark rows of the chip's family/kind or "
            "a held-out error above 25 % (" + "; ".join(
                f"{r['accelerator']}: {r.get('calibration_rows', 0)} rows, held-out error "
                f"{_held_out_text(r)}" for r in thin) + "); treat its figures with care.")


def _held_out_text(row: dict) -> str:
    error = row.get("heldout_median_abs_error")
    return "unknown" if error is None else f"{float(error) * 100:.0f} % ({row.get('heldout_split') or '-'})"


def render_table(doc: dict, console, fields: list[str] | None = None) -> None:
    """Print the feasible accelerators as a rich table, the infeasible ones dimmed below
    it with their reason, then the workload and assumptions used. Without `fields`
    (compare --columns) the least important columns are dropped until the table fits
    the terminal, and a note under it names them and how to get them."""
    from rich.table import Table
    from rich.text import Text

    feasible = [row for row in doc["results"] if row["feasible"]]
    shown = _columns(doc, fields)
    drops = _fewest_drops(console, lambda k: _results_table(doc, _without(shown, k), feasible),
                          0 if fields else len(DROP_ORDER))
    console.print(_results_table(doc, _without(shown, drops), feasible))
    hidden = [f for f in DROP_ORDER[:drops] if any(f == c for c, _ in shown)]
    if hidden:
        order = [f for f, _ in _columns(doc)]
        hidden.sort(key=order.index)
        console.print(Text(hidden_columns_note(hidden), style="dim"))
    blocked = [r for r in doc["results"] if not r["feasible"]]
    if blocked:
        rest = Table(title=f"Not feasible ({len(blocked)})", title_justify="left", style="dim",
                     header_style="dim bold", pad_edge=False)
        rest.add_column("Accelerator", no_wrap=True, style="dim")
        rest.add_column("Chips/\nreplica", justify="right", style="dim")
        rest.add_column("Tokens/s\n/accel" if doc["workload"]["kind"] == "llm" else "Queries/s\n/accel",
                        justify="right", style="dim")
        rest.add_column("Reason", style="dim")
        speed = "tokens_per_s_per_accelerator" if doc["workload"]["kind"] == "llm" else "queries_per_s_per_accelerator"
        for row in blocked:
            rest.add_row(row["accelerator"], _cell(row, "chips_per_replica"), _cell(row, speed), row["infeasible_reason"])
        console.print(rest)
    thin = _thin_note(feasible)
    if thin:
        console.print(Text(thin, style="dim"))
    notes = [f"{r['accelerator']}: {r['precision_note']}" for r in doc["results"] if r.get("precision_note") and r["feasible"]]
    for note in notes:
        console.print(Text(f"note: {note}", style="dim"))
    for line in _baseline_lines(doc) + _weight_lines(doc) + _gate_lines(doc):
        console.print(line, markup=False)
    console.print(Text("Assumptions: " + "; ".join(_assumption_lines(doc)), style="dim"))
    providers = [f"{r['accelerator']} ({r['cloud_provider']})" for r in doc["results"]
                 if r.get("price_basis") in ("rented", "committed") and r.get("cloud_provider")]
    if providers:
        console.print(Text("Rented at: " + "; ".join(providers) + " (--cloud-provider picks the price).", style="dim"))
    apis = [f"{r['accelerator']} = {r.get('throughput_reference') or '-'} "
            f"({fmt_number(r.get('cost_per_million_input_tokens_usd'), 'USD')} in / "
            f"{fmt_number(r.get('cost_per_million_output_tokens_usd'), 'USD')} out USD per M tokens, "
            f"as of {r.get('price_as_of') or '-'})" for r in feasible if r.get("price_basis") == "api"]
    if apis:
        console.print(Text("APIs: " + "; ".join(apis) + ".", style="dim"))
    for line in cheapest_lines(doc):
        console.print(line, markup=False)
    console.print(Text("owned = capital + energy + facility + opex of the cheapest mix of purchase units that serves "
                       "the peak; rented = the provider's on-demand price per accelerator-hour for the instances it "
                       "sells; api = a provider's per-token list price (input and output priced apart) for a "
                       "comparable model, latency not modelled. Each chip shows its cheaper of owned and rented "
                       "(--basis all shows every way). `inferchip explain WORKLOAD --chip NAME` shows every step "
                       "for one chip.", style="dim"))


def _without(columns: list[tuple[str, str]], drops: int) -> list[tuple[str, str]]:
    """`columns` less the first `drops` fields of DROP_ORDER."""
    return [(f, h) for f, h in columns if f not in DROP_ORDER[:drops]]


def _fewest_drops(console, table_after, most: int) -> int:
    """How many fields of DROP_ORDER to drop, first first, for the table to fit the console
    width: the fewest that fit, else `most` (all of them, fitting or not). The whole table
    is tried first (a wide terminal); then, as each drop narrows the table (a column,
    its padding and a rule go), the fit is found by bisection: about 5 measurements of
    the table instead of one per drop."""
    def fits(drops: int) -> bool:
        return console.measure(table_after(drops), options=console.options.update(width=100_000)).maximum \
            <= console.width

    if most == 0 or fits(0):
        return 0
    low, high = 1, most
    while low < high:
        middle = (low + high) // 2
        if fits(middle):
            high = middle
        else:
            low = middle + 1
    return low


def cheapest_lines(doc: dict) -> list[str]:
    """'Cheapest way to serve: ...' from the document's per-basis cheapest rows ([] if none)."""
    best = doc.get("cheapest") or []
    if not best:
        return []
    parts = [f"{b['price_basis']} {b['option']} {fmt_number(b['cost_per_query_usd'], 'USD')}"
             + ("" if i == 0 else f" (x{b['times_cheapest']:.2f})") for i, b in enumerate(best)]
    return ["Cheapest way to serve, per basis (USD per query): " + "; ".join(parts) + "."]


def hidden_columns_note(hidden: list[str]) -> str:
    """The line under a table that dropped columns to fit the terminal."""
    return (f"{len(hidden)} column(s) hidden at this width: {', '.join(hidden)}; use --columns, "
            "a wider terminal or a data format (--format csv, json)")


def _md_escape(text: str) -> str:
    """A Markdown table cell: pipes escaped; text (not formatted numbers or '-') that a
    spreadsheet would read as a formula gets the same guard as CSV."""
    from inferchip.report.safetext import markdown_cell

    return markdown_cell(text)


def _baseline_lines(doc: dict) -> list[str]:
    base = doc.get("baseline")
    if not base:
        return []
    return [f"Baseline: {base['accelerator']} at {fmt_number(base['cost_per_query_usd'], 'USD')} USD per query; "
            f"savings at {fmt_number(base['queries_per_day'])} queries/day (positive = cheaper than the baseline)."]


def _weight_lines(doc: dict) -> list[str]:
    """The weights echoed under the table (compare --weights), and any --require-framework."""
    lines = []
    if doc.get("required_frameworks"):
        lines.append("Only accelerators with " + ", ".join(doc["required_frameworks"]) + " confirmed "
                     "(data/software_support.csv).")
    if doc.get("weights"):
        given = ", ".join(f"{k}={fmt_number(v)}" for k, v in doc["weights"]["given"].items())
        lines.append(f"Ranked by weighted score: {given} (normalised to sum 1); scores are 1 for the best row: "
                     "cost = cheapest cost/query / cost/query, energy = least energy/query / energy/query, "
                     "software = confirmed frameworks / the most any row has.")
    return lines


def _gate_lines(doc: dict) -> list[str]:
    lines = []
    for gate in doc.get("gates", []):
        names = ", ".join(e.get("option") or e["accelerator"] for e in gate["examples"])
        verdict = f"HELD for {gate['rows_held']} row(s): {names}" if gate["held"] else "passed"
        lines.append(f"Gate --fail-if '{gate['condition']}' (--gate-on {gate['gate_on']}): {verdict}")
    return lines


def _pct(value: float, reference: float) -> str:
    return f"{(value / reference - 1.0) * 100.0:+.0f}%" if reference else "-"


def _summary(doc: dict, feasible: list[dict]) -> list[str]:
    total = len(doc["results"])
    if not feasible:
        return [f"- None of the {total} accelerators compared can serve this workload; see *Not feasible*."]
    best = feasible[0]
    per_m = best.get("cost_per_million_tokens_usd")
    tokens = f" ({fmt_number(per_m, 'USD')} USD per million generated tokens)" if per_m is not None else ""
    if best.get("price_basis") == "api":  # no fleet: a provider's per-token list prices
        fleet = (f"{fmt_number(best['annual_tco_usd'])} USD a year at the provider's list prices "
                 f"({fmt_number(best.get('cost_per_million_input_tokens_usd'), 'USD')} in / "
                 f"{fmt_number(best.get('cost_per_million_output_tokens_usd'), 'USD')} out USD per million tokens; "
                 "its latency is not modelled).")
    else:
        fleet = (f"{fmt_number(best['annual_tco_usd'])} USD a year for {fmt_number(best['accelerators'])} accelerators "
                 f"in {fmt_number(best['racks'])} rack(s), {fmt_number(best['avg_power_kw'])} kW on average.")
    lines = [f"- **Cheapest feasible option: {_md_escape(_label(best))}** ({best['price_basis']}) at "
             f"{fmt_number(best['cost_per_query_usd'], 'USD')} USD per query{tokens}: {fleet}"]
    if best.get("price_is_estimate"):
        lines.append(f"- Its price is an **estimate**: {_md_escape(best.get('price_source', ''))} "
                     f"(as of {_md_escape(best.get('price_as_of', ''))}). Get a quote before committing.")
    if len(feasible) > 1:
        second = feasible[1]
        lines.append(f"- Runner-up: {_md_escape(_label(second))} ({second['price_basis']}) at "
                     f"{fmt_number(second['cost_per_query_usd'], 'USD')} USD per query "
                     f"({_pct(second['cost_per_query_usd'], best['cost_per_query_usd'])} against the cheapest).")
    base = doc.get("baseline")
    if base:
        lines.append(f"- Against today's **{_md_escape(base['accelerator'])}** "
                     f"({fmt_number(base['cost_per_query_usd'], 'USD')} USD per query), switching to "
                     f"{_md_escape(_label(best))} saves {fmt_number(best.get('savings_per_query_usd'), 'USD')} USD "
                     f"per query, {fmt_number(best.get('savings_per_day_usd'))} USD a day and "
                     f"{fmt_number(best.get('savings_per_year_usd'))} USD a year "
                     f"({fmt_number(best.get('savings_percent'))}%) at {fmt_number(base['queries_per_day'])} queries a day.")
    lines += [f"- {_md_escape(line)}" for line in cheapest_lines(doc)]
    lines.append(f"- {len(feasible)} of the {total} options listed can serve the workload within its SLO "
                 "and have a price (an API's latency is not modelled).")
    lines += [f"- {_md_escape(line)}" for line in _gate_lines(doc)]
    return lines


def _label(row: dict) -> str:
    """The row key shown in prose: the option ('Groq API (model)'), else the accelerator."""
    return str(row.get("option") or row["accelerator"])


def _workload_table(doc: dict) -> list[str]:
    w = doc["workload"]
    skip = {"name", "origin"}
    out = ["| key | value |", "|---|---|"]
    out += [f"| {key} | {_md_escape(fmt_number(value))} |" for key, value in w.items() if key not in skip and value is not None]
    out.append(f"| profile | {_md_escape(w.get('origin', ''))} |")
    return out


def _caveats(doc: dict, feasible: list[dict]) -> list[str]:
    lines = []
    estimated = [r for r in feasible if r.get("price_is_estimate")]
    if estimated:
        lines.append("- **Estimated prices** (secondary sources, not vendor quotes; get quotes before committing):")
        lines += [f"  - {_md_escape(r['accelerator'])}: {_md_escape(r.get('price_source', ''))} "
                  f"(as of {_md_escape(r.get('price_as_of', ''))})" for r in estimated]
    fallbacks = [r for r in feasible if r.get("precision_note")]
    if fallbacks:
        lines.append("- **Precision fallbacks** (the chip lacks the requested format):")
        lines += [f"  - {_md_escape(r['accelerator'])}: {_md_escape(r['precision_note'])}" for r in fallbacks]
    modeled = [r["accelerator"] for r in feasible if r.get("throughput_source") == "modeled"]
    if modeled:
        hardware = sum(r.get("price_basis") != "api" for r in feasible)
        lines.append(f"- Throughput is **modeled** (roofline with calibrated efficiency factors) for {len(modeled)} of "
                     f"{hardware} feasible hardware rows; `inferchip validate` reports the model's error against MLPerf.")
    thin = [r for r in feasible if r.get("thin_data")]
    if thin:
        lines.append("- **Thin calibration data** (modeled from < 4 fitted benchmark rows of the chip's family or kind, "
                     "or a held-out error above 25 %; `calibration_rows` and `heldout_median_abs_error` in the JSON):")
        lines += [f"  - {_md_escape(r['accelerator'])}: {r.get('calibration_rows', 0)} rows, held-out error "
                  f"{_md_escape(_held_out_text(r))}" for r in thin]
    measured = [r for r in feasible if r.get("throughput_source") == "measured"]
    if measured:
        lines.append("- Throughput is **measured** for " + "; ".join(
            f"{_md_escape(r['accelerator'])} ({_md_escape(r.get('throughput_reference') or 'data/benchmarks.csv')})"
            for r in measured) + ".")
    rented = [f"{r['accelerator']} at {r['cloud_provider']}" if r.get("cloud_provider") else r["accelerator"]
              for r in feasible if r.get("price_basis") == "rented"]
    if rented:
        lines.append(f"- Rented rows ({_md_escape(', '.join(rented))}) use on-demand list prices per "
                     "accelerator-hour; reserved or committed-use discounts are not applied.")
    dates = sorted(str(r.get("price_as_of")) for r in feasible if r.get("price_as_of"))
    if dates:
        lines.append(f"- Price dates range from {_md_escape(dates[0])} to {_md_escape(dates[-1])}; prices move, "
                     "re-run with a current catalog (`--extend-catalog` takes your quotes).")
    lines.append("- Fleets are sized for the peak load at the utilisation target; every figure can be traced with "
                 "`inferchip explain WORKLOAD --chip NAME`.")
    return lines


def _sources_table(sources: list[dict], feasible: list[dict], doc: dict) -> list[str]:
    wanted = {r["accelerator"] for r in feasible} | ({doc["baseline"]["accelerator"]} if doc.get("baseline") else set())
    out = ["| accelerator | catalog row | specs: source (as of) | price used: source (as of) |", "|---|---|---|---|"]
    basis = {r["accelerator"]: r for r in doc["results"]}
    for src in sources:
        if src["accelerator"] not in wanted:
            continue
        row = basis.get(src["accelerator"], {})
        price = f"{row.get('price_source', '')} (as of {row.get('price_as_of', '')})"
        if row.get("price_is_estimate"):
            price += " [estimate]"
        out.append(f"| {_md_escape(src['accelerator'])} | {_md_escape(src['catalog_file'])} line {src['catalog_line']} | "
                   f"{_md_escape(src['spec_source'])} ({_md_escape(src['spec_as_of'])}) | {_md_escape(price)} |")
    return out


def render_markdown(doc: dict, sources: list[dict] | None = None, fields: list[str] | None = None) -> str:
    """A self-contained memo for readers who never open a terminal: summary (cheapest
    option, runner-up, savings against the baseline, gates), workload, results,
    infeasible chips, caveats (estimated prices, fallbacks, modeled throughput, rents,
    price dates), assumptions with sources and, given `sources`, the catalog rows used."""
    columns = _columns(doc, fields)
    feasible = [r for r in doc["results"] if r["feasible"]]
    description = doc["workload"].get("description")
    out = [f"# Inference hardware comparison: {doc['workload']['name']}", ""]
    if description:
        out += [_md_escape(description), ""]
    out += [f"Workload: {_md_escape(_workload_line(doc))}", "",
            f"Catalog: {_md_escape(doc.get('catalog', ''))}. Generated by inferchip {doc['inferchip_version']}.", "",
            "## Summary", "", *_summary(doc, feasible), "",
            "## Results (cheapest feasible first)", "",
            "| " + " | ".join(h.replace("\n", " ") for _, h in columns) + " | Basis |",
            "|" + "|".join("---" if i == 0 else "---:" for i in range(len(columns))) + "|---|"]
    for row in feasible:
        out.append("| " + " | ".join(_md_escape(_cell(row, f)) for f, _ in columns) + f" | {row.get('price_basis', '')} |")
    blocked = [r for r in doc["results"] if not r["feasible"]]
    if blocked:
        out += ["", "## Not feasible", ""]
        out += [f"- **{_md_escape(r['accelerator'])}**: {_md_escape(r['infeasible_reason'])}" for r in blocked]
    out += ["", "## Caveats", "", *_caveats(doc, feasible)]
    out += ["", "## Workload", "", *_workload_table(doc)]
    out += ["", "## Assumptions", "", "| key | value | unit | origin | source |", "|---|---:|---|---|---|"]
    for key, entry in doc["assumptions"].items():
        out.append(f"| {key} | {_md_escape(fmt_number(entry['value']))} | {_md_escape(entry['unit'])} | "
                   f"{_md_escape(entry['origin'])} | {_md_escape(entry['source'])} |")
    if sources:
        out += ["", "## Sources", "", *_sources_table(sources, feasible, doc)]
    return "\n".join(out) + "\n"
