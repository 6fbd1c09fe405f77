"""Views of the `plan` document: a terminal table and a Markdown memo."""

from __future__ import annotations

from inferchip.report.analysis_view import markdown_rows, markdown_text_cell
from inferchip.report.fmt import fmt_number

SUMMARY_COLUMNS = (("accelerator", "Accelerator", ""), ("price_basis", "Basis", ""),
                   ("net_present_cost_usd", "Net present\ncost USD", "USD"),
                   ("year1_cost_per_query_usd", "Year 1\nUSD/q", "USD"),
                   ("final_year_cost_per_query_usd", "Last yr\nUSD/q", "USD"),
                   ("facility_capacity_queries_per_day", "Hall holds\nq/day", ""),
                   ("first_burst_year", "Burst\nfrom year", ""),
                   ("queries_per_s_per_mw", "q/s per\nMW", ""),
                   ("refresh_payback_year", "Refresh\npays back", ""),
                   ("refresh_savings_usd", "Refresh\nsaves USD", "USD"))
REFRESH_ONLY = ("refresh_payback_year", "refresh_savings_usd")
CROWDED = ("queries_per_s_per_mw", "final_year_cost_per_query_usd")  # left to the JSON with a facility and a refresh
YEAR_COLUMNS = (("year", "Year"), ("demand_queries_per_day", "Demand\nq/day"),
                ("burst_queries_per_day", "Burst\nq/day"), ("units_bought", "Units\nbought"), ("racks", "Racks"),
                ("it_kw", "IT\nkW"), ("purchase_usd", "Purchases\nUSD"), ("cash_usd", "All cash\nUSD"),
                ("cost_per_query_usd", "USD/\nquery"))  # running and burst cash apart: --format csv / json
BURST_ONLY = ("burst_queries_per_day",)  # owned = demand - burst (in the data formats)
FACILITY_ONLY = ("facility_capacity_queries_per_day", "first_burst_year")


def _refresh_shown(doc: dict) -> bool:
    return bool(doc["horizon"]["refresh_to"])


def _summary_columns(doc: dict) -> list[tuple[str, str, str]]:
    """Refresh payback and savings only with --refresh-to; facility capacity and first burst only with
    facility limits (then, with a refresh too, no density and last-year columns: the JSON and the
    year-by-year table have them); the weighted
    score after the basis with --weights."""
    limited = any(doc["facility"][k] is not None for k in ("it_kw", "racks")) or doc["facility"]["cooling"] == "air"
    columns = [c for c in SUMMARY_COLUMNS if (c[0] not in REFRESH_ONLY or _refresh_shown(doc))
               and (c[0] not in CROWDED or not (_refresh_shown(doc) and limited))  # fits 100 columns
               and (c[0] not in FACILITY_ONLY or limited)
               and (c[0] != "final_year_cost_per_query_usd" or doc["horizon"]["years"] > 1)]
    if doc.get("weights"):
        columns[2:2] = [WEIGHT_COLUMN]
    return columns


WEIGHT_COLUMN = ("weighted_score", "Weighted\nscore", "")


def weight_line(doc: dict) -> str:
    """The weights echoed under the ranking (plan --weights); '' without them."""
    if not doc.get("weights"):
        return ""
    given = ", ".join(f"{k}={fmt_number(v)}" for k, v in doc["weights"]["given"].items())
    return (f"Ranked by weighted score: {given} (normalised to sum 1); scores are 1 for the best plan: cost = lowest "
            "net present cost per query / the plan's, energy = least year-1 energy per query / the plan's, "
            "software = confirmed frameworks / the most any plan has.")


def refresh_line(doc: dict) -> str:
    """The refresh and its resale assumption (plan --refresh-to); '' without one."""
    h = doc["horizon"]
    if not h["refresh_to"]:
        return ""
    fraction = h.get("resale_value_fraction") or 0.0
    credit = (f"the retired fleet sells for {fraction * 100:g} % of what it cost" if fraction
              else "no resale credit for the retired fleet (--resale-value-fraction 0)")
    return f"Refresh to {h['refresh_to']} in year 1; {credit}."


def _headline(doc: dict) -> str:
    f, h = doc["facility"], doc["horizon"]
    limits = ", ".join(f"{k} {fmt_number(v)}" for k, v in f.items() if v is not None) or "no facility limits"
    return (f"{doc['workload']['name']}: {h['years']}-year plan, traffic +{h['traffic_growth_per_year'] * 100:g} %/year, "
            f"hardware -{h['purchase_price_decline_per_year'] * 100:g} %/year, cloud/API "
            f"-{h['cloud_price_decline_per_year'] * 100:g} %/year; {limits}")


def render_plan(doc: dict, console, top_years: int = 1) -> None:
    """The ranked summary, then the year-by-year plan of the best chip."""
    from rich.table import Table

    from inferchip.report.console import say

    columns = _summary_columns(doc)
    table = Table(title=_headline(doc), title_justify="left", header_style="bold", pad_edge=False)
    for i, (_, header, _) in enumerate(columns):
        table.add_column(header, justify="left" if i < 2 else "right", no_wrap=i > 0,
                         min_width=16 if i == 0 else None, max_width=26 if i == 0 else None, overflow="fold")
    for row in doc["results"]:
        if row["net_present_cost_usd"] is None and not row["feasible"]:
            continue
        unlimited = row["price_basis"] == "owned" and row["feasible"]  # null capacity: rented, or no limit
        table.add_row(*[fmt_number(row[k], unit) if row[k] is not None or k != "facility_capacity_queries_per_day"
                        or not unlimited else "unlimited" for k, _, unit in columns])
    console.print(table)
    for line in (weight_line(doc), refresh_line(doc)):
        if line:
            console.print(line, markup=False, highlight=False)
    left_out = sum(1 for r in doc["results"] if r["net_present_cost_usd"] is None and not r["feasible"])
    best = doc["best"]
    if best is not None:
        years = [r for r in doc["years"] if r["accelerator"] == best["accelerator"]]
        from rich import box

        plan = Table(title=f"Year by year: {best['accelerator']} ({best['price_basis']})", title_justify="left",
                     header_style="bold", pad_edge=False, box=box.SIMPLE_HEAD)  # no vertical rules: fits 100 columns
        # no overflow in any year: the owned and burst columns say nothing
        bursting = any(r["burst_queries_per_day"] for r in years)
        shown = [c for c in YEAR_COLUMNS if bursting or c[0] not in BURST_ONLY]
        for _, header in shown:
            plan.add_column(header, justify="right", overflow="fold")
        for r in years:
            plan.add_row(*[fmt_number(r[k], "USD" if k.endswith("_usd") else "") for k, _ in shown])
        console.print(plan)
        bursts = {r["burst_option"] for r in years if r["burst_option"]}
        if bursts:
            console.print("Burst goes to: " + "; ".join(sorted(bursts)))
    dropped = f"{left_out} accelerator(s) that cannot serve the workload are left out (see --format json). " if left_out else ""
    say(console, f"[dim]{dropped}Net present cost: purchases at the start of each year, running and burst costs at its end, "
                  "discounted at cost_of_capital, minus the book value left at the end. Every year of every chip: "
                  "--format csv; formulas: the JSON's provenance, docs/plan.md.[/dim]")


def render_markdown(doc: dict) -> str:
    """A memo: the plan's inputs, the ranking and the best chip's year-by-year plan."""
    lines = [f"# Plan: {markdown_text_cell(_headline(doc))}", ""]
    shown = [r for r in doc["results"] if r["feasible"]]
    keep = [k for k, _, _ in _summary_columns(doc)]
    title = "weighted score" if doc.get("weights") else "net present cost"
    lines += [f"## Ranking by {title}", "", markdown_rows([{k: r[k] for k in keep} for r in shown]).rstrip(), ""]
    lines += [markdown_text_cell(line) + "\n" for line in (weight_line(doc), refresh_line(doc)) if line]
    best = doc["best"]
    if best is not None:
        years = [{k: r[k] for k, _ in YEAR_COLUMNS} for r in doc["years"] if r["accelerator"] == best["accelerator"]]
        lines += [f"## Year by year: {markdown_text_cell(best['accelerator'])}", "", markdown_rows(years).rstrip(), ""]
    lines += ["## How each yearly figure is computed", ""]
    lines += [f"- `{p['field']}`: {markdown_text_cell(p['formula'])}" for p in doc["provenance"]]
    return "\n".join(lines) + "\n"
