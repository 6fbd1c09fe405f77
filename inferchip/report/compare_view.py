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
    ("racks", "Racks"),
    ("tokens_per_s_per_accelerator", "Tokens/s\n/accel"),
    ("tpot_ms", "TPOT\nms"),
    ("latency_ms", "Latency\nms"),
    ("cost_per_query_usd", "Cost/query\nUSD"),
    ("cost_per_million_tokens_usd", "Cost/M tok\nUSD"),
    ("cloud_cost_per_query_usd", "Rent/query\nUSD"),
    ("annual_tco_usd", "TCO/year\nUSD"),
    ("avg_power_kw", "Avg power\nkW"),
    ("energy_per_query_j", "Energy/query\nJ"),
    ("kw_per_rack", "kW/\nrack"),
)
SUMMARY_ASSUMPTIONS = ("electricity_usd_per_kwh", "pue", "server_life_years", "cost_of_capital",
                       "utilisation_target", "facility_model", "colocation_usd_per_kw_month")


def _columns(doc: dict) -> list[tuple[str, str]]:
    kind = doc["workload"]["kind"]
    skip = {"tokens_per_s_per_accelerator", "tpot_ms", "cost_per_million_tokens_usd"} if kind == "fixed" else {"latency_ms"}
    return [(f, h) for f, h in TABLE_COLUMNS if f not in skip]


def _cell(row: dict, field: str) -> str:
    return fmt_number(row.get(field), RESULT_FIELDS[field].unit)


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


def render_table(doc: dict, console) -> None:
    """Print the feasible accelerators as a rich table, the infeasible ones dimmed
    below it with their reason, then the workload and assumptions used."""
    from rich.table import Table

    table = Table(title=_workload_line(doc), title_justify="left", header_style="bold", pad_edge=False)
    columns = _columns(doc)
    table.add_column("Accelerator", no_wrap=True)
    table.add_column("Basis")
    for field, header in columns[1:]:
        table.add_column(header, justify="left" if field == "precision_used" else "right")
    for row in doc["results"]:
        if row["feasible"]:
            cells = [_cell(row, f) for f, _ in columns]
            cells.insert(1, row.get("price_basis", ""))
            table.add_row(*cells)
    console.print(table)
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
    notes = [f"{r['accelerator']}: {r['precision_note']}" for r in doc["results"] if r.get("precision_note") and r["feasible"]]
    for note in notes:
        console.print(f"[dim]note: {note}[/dim]")
    console.print("[dim]Assumptions: " + "; ".join(_assumption_lines(doc)) + "[/dim]")
    console.print("[dim]owned = capital + energy + facility + opex of servers you buy; rented = on-demand cloud price "
                  "per accelerator-hour. Fleets are sized for peak load. `inferchip explain WORKLOAD --chip NAME` "
                  "shows every step for one chip.[/dim]")


def _md_escape(text: str) -> str:
    from inferchip.report import safe_cell

    return safe_cell(text).replace("|", "\\|").replace("\n", " ")


def render_markdown(doc: dict) -> str:
    """A self-contained memo: workload, results table, infeasible chips, assumptions with sources."""
    columns = _columns(doc)
    out = [f"# Inference hardware comparison: {doc['workload']['name']}", "",
           f"Workload: {_md_escape(_workload_line(doc))}", "",
           f"Catalog: {_md_escape(doc.get('catalog', ''))}. Generated by inferchip {doc['inferchip_version']}.", "",
           "## Results (cheapest feasible first)", "",
           "| " + " | ".join(h.replace("\n", " ") for _, h in columns) + " |",
           "|" + "|".join("---" if i == 0 else "---:" for i in range(len(columns))) + "|"]
    feasible = [r for r in doc["results"] if r["feasible"]]
    for row in feasible:
        out.append("| " + " | ".join(_md_escape(_cell(row, f)) for f, _ in columns) + " |")
    blocked = [r for r in doc["results"] if not r["feasible"]]
    if blocked:
        out += ["", "## Not feasible", ""]
        out += [f"- **{_md_escape(r['accelerator'])}**: {_md_escape(r['infeasible_reason'])}" for r in blocked]
    notes = [r for r in feasible if r.get("precision_note")]
    if notes:
        out += ["", "## Caveats", ""]
        out += [f"- {_md_escape(r['accelerator'])}: {_md_escape(r['precision_note'])}" for r in notes]
    out += ["", "## Assumptions", "", "| key | value | unit | origin | source |", "|---|---:|---|---|---|"]
    for key, entry in doc["assumptions"].items():
        out.append(f"| {key} | {_md_escape(fmt_number(entry['value']))} | {_md_escape(entry['unit'])} | "
                   f"{_md_escape(entry['origin'])} | {_md_escape(entry['source'])} |")
    return "\n".join(out) + "\n"
