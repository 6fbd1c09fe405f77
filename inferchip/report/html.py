"""The HTML report: one self-contained file (inline CSS and SVG charts, no script,
nothing fetched) built from `inferchip.report_data.build`. Every text cell is escaped."""

from __future__ import annotations

from html import escape

from inferchip.report import charts
from inferchip.report.fmt import fmt_number

CHARTS = ("cost", "breakeven", "tornado", "uncertainty", "plan")  # data-chart names, in page order
STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:72rem;color:#222;
line-height:1.4;padding:0 1rem}h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:.85rem;margin:.5rem 0}td,th{border:1px solid #ddd;padding:.2rem .45rem;
text-align:left;vertical-align:top}td.n{text-align:right;font-variant-numeric:tabular-nums}th{background:#f4f4f4}
figure.chart{margin:1rem 0}figure.chart svg{max-width:100%;height:auto}figcaption{font-size:.8rem;color:#555}
p.note{font-size:.85rem;color:#555}
"""


def _cell(value: object, field: str = "") -> str:
    unit = "USD" if field.endswith("_usd") else ""
    numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
    return f'<td class="n">{escape(fmt_number(value, unit))}</td>' if numeric else f"<td>{escape(fmt_number(value))}</td>"


def _table(rows: list[dict], fields: list[tuple[str, str]], table_id: str) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for _, h in fields)
    body = "".join("<tr>" + "".join(_cell(r.get(f), f) for f, _ in fields) + "</tr>" for r in rows)
    return f'<table id="{table_id}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _figure(name: str, svg: str, caption: str) -> str:
    return f'<figure class="chart" data-chart="{name}">{svg}<figcaption>{escape(caption)}</figcaption></figure>'


RANK_FIELDS = [("option", "Option"), ("price_basis", "Basis"), ("cost_per_query_usd", "Cost/query USD"),
               ("cost_per_million_tokens_blended_usd", "Cost/M tokens USD"), ("accelerators", "Accelerators"),
               ("racks", "Racks"), ("avg_power_kw", "Avg kW"), ("energy_per_query_j", "J/query"),
               ("throughput_source", "Speed"), ("price_is_estimate", "Estimated price")]
PLAN_FIELDS = [("accelerator", "Accelerator"), ("price_basis", "Basis"), ("net_present_cost_usd", "Net present cost USD"),
               ("year1_cost_per_query_usd", "Year 1 USD/query"), ("final_year_cost_per_query_usd", "Last year USD/query"),
               ("facility_capacity_queries_per_day", "Facility holds q/day"), ("first_burst_year", "First burst year")]
UNC_FIELDS = [("accelerator", "Accelerator"), ("p10_cost_per_query_usd", "p10 USD"), ("p50_cost_per_query_usd", "p50 USD"),
              ("p90_cost_per_query_usd", "p90 USD"), ("probability_cheapest", "P(cheapest)")]
SCALE_FIELDS = [("accelerator", "Accelerator"), ("serving_frameworks", "Serving frameworks confirmed"),
                ("smallest_purchase_unit", "Smallest purchase unit"), ("scaleup_domain_accelerators", "Scale-up domain"),
                ("scaleout_fabric", "Scale-out fabric"), ("scaleout_gbit_per_s_per_accelerator", "Scale-out Gb/s per chip"),
                ("scaleout_source", "Scale-out source"), ("scaleout_as_of", "Read")]
YEAR_FIELDS = [("year", "Year"), ("demand_queries_per_day", "Demand q/day"), ("owned_queries_per_day", "Owned q/day"),
               ("burst_queries_per_day", "Burst q/day"), ("units_bought", "Units bought"), ("racks", "Racks"),
               ("it_kw", "IT kW"), ("purchase_usd", "Purchases USD"), ("running_usd", "Running USD"),
               ("burst_usd", "Burst USD"), ("cost_per_query_usd", "USD/query")]


def chart_svgs(data: dict) -> dict[str, tuple[str, str]]:
    """Every chart of the report: name -> (inline SVG, caption), in page order (a chart
    without data -- no sensitivity base, no plan -- is left out)."""
    be, sens, unc, plan = data["breakeven"], data["sensitivity"], data["uncertainty"], data["plan"]
    api = be["api"]
    out = {"cost": (charts.cost_bars(data["ranked"]), "Cost per query of the cheapest options "
                    "(blue owned, orange rented, green API)."),
           "breakeven": (charts.breakeven_curves(be["volumes_queries_per_day"], be["curves"],
                                                 (api["label"], api["cost_per_query_usd"]) if api else None),
                         "Cost per query against daily traffic for the cheapest owned accelerators, renting them "
                         "(dashed) and the cheapest comparable per-token API (dotted). Where an owned line falls "
                         "below the others, owning wins from that volume.")}
    if sens["base_cost"] is not None:
        out["tornado"] = (charts.tornado(sens["tornado"], sens["base_cost"], sens["base_winner"]),
                          "How the cheapest option's cost per query moves when each assumption goes to the low or "
                          "high end of its documented range, others at their base value.")
    out["uncertainty"] = (charts.bands(unc["results"]),
                          f"p10-p90 cost per query over {unc['samples']:,} draws (seed {unc['seed']}) of every "
                          "assumption and the model's calibration error.")
    if plan["best"] is not None and plan["years"]:
        out["plan"] = (charts.plan_cash(plan["years"], plan["best"]["accelerator"]),
                       f"Cash per year of the plan with the lowest net present cost ({plan['best']['accelerator']}).")
    return out


def _horizon_line(plan: dict) -> str:
    h = plan["horizon"]
    return (f"{h['years']} years, traffic +{h['traffic_growth_per_year'] * 100:g} %/year, hardware "
            f"-{h['purchase_price_decline_per_year'] * 100:g} %/year, cloud/API "
            f"-{h['cloud_price_decline_per_year'] * 100:g} %/year; facility: "
            + (", ".join(f"{k} {fmt_number(v)}" for k, v in plan["facility"].items() if v is not None) or "no limits")
            + ".")


def render(data: dict) -> str:
    """The whole page."""
    w = data["header"]["workload"]
    title = f"inferchip report: {w['name']}"
    parts = [f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{escape(title)}</title>"
             f"<style>{STYLE}</style></head><body>", f"<h1>{escape(title)}</h1>",
             f"<p class=\"note\">inferchip {escape(data['header']['inferchip_version'])}; catalog "
             f"{escape(data['header']['catalog'])}; {escape(fmt_number(w['queries_per_day']))} queries/day "
             f"(peak x{escape(fmt_number(w['peak_to_average']))}), precision {escape(str(w['precision']))}.</p>"]
    ranked = data["ranked"]
    figures = {name: _figure(name, svg, caption) for name, (svg, caption) in chart_svgs(data).items()}
    parts += ['<h2 id="ranking">Ranking: cost per query</h2>',
              _table([{**r, "option": r.get("option") or r["accelerator"]} for r in ranked], RANK_FIELDS, "ranked"),
              figures["cost"], '<h2 id="breakeven">Break-even over volume</h2>', figures["breakeven"]]
    if "tornado" in figures:
        parts += ['<h2 id="sensitivity">Sensitivity</h2>', figures["tornado"]]
    unc = data["uncertainty"]
    parts += ['<h2 id="uncertainty">Uncertainty</h2>', figures["uncertainty"], _table(unc["results"], UNC_FIELDS,
                                                                                     "uncertainty-table")]
    plan = data["plan"]
    parts += ['<h2 id="plan">Plan: year by year</h2>', f"<p class=\"note\">{escape(_horizon_line(plan))}</p>",
              _table(plan["results"], PLAN_FIELDS, "plan-summary")]
    if "plan" in figures:
        parts += [figures["plan"], _table(plan["years"], YEAR_FIELDS, "plan-years")]
    parts += ['<h2 id="scalability">Software and scalability</h2>',
              '<p class="note">What buyers weigh beyond cost, for the ranked accelerators: serving frameworks '
              'confirmed by documentation (data/software_support.csv), the smallest unit sold or rented, the '
              'scale-up domain and the scale-out fabric (data/scaleout.csv); "unknown" = nothing found.</p>',
              _table(data["scalability"], SCALE_FIELDS, "scalability-table")]
    parts += ['<h2 id="flags">Data-quality flags</h2>']
    parts += [_table(data["flags"], [("accelerator", "Option"), ("flag", "Flag"), ("detail", "Detail")], "flags")
              if data["flags"] else "<p>No flags on the ranked rows.</p>"]
    if data["infeasible"]:
        parts += ["<p class=\"note\">Cannot serve this workload:</p>",
                  _table(data["infeasible"], [("accelerator", "Accelerator"), ("reason", "Reason")], "infeasible")]
    assumptions = [{"key": k, **v} for k, v in data["assumptions"].items()]
    parts += ['<h2 id="assumptions">Assumptions and sources</h2>',
              _table(assumptions, [("key", "Assumption"), ("value", "Value"), ("unit", "Unit"), ("origin", "Set by"),
                                   ("source", "Source")], "assumptions"),
              _table(data["sources"], [("name", "Accelerator"), ("source", "Specs source"), ("as_of", "As of"),
                                       ("price_source", "Price source"), ("price_as_of", "Price as of")], "sources"),
              "</body></html>\n"]
    return "".join(parts)


def render_markdown(data: dict, chart_folder: str) -> tuple[str, dict[str, str]]:
    """The memo: the same sections as Markdown tables, each chart linked as
    `chart_folder/NAME.svg`. Returns (memo text, {file name: SVG})."""
    from inferchip.report.analysis_view import markdown_rows, markdown_text_cell

    svgs = chart_svgs(data)
    w = data["header"]["workload"]

    def rows(items: list[dict], fields: list[tuple[str, str]]) -> str:
        return markdown_rows([{h: r.get(f) for f, h in fields} for r in items]).rstrip()

    def chart(name: str) -> list[str]:
        if name not in svgs:
            return []
        return [f"![{markdown_text_cell(svgs[name][1])}]({chart_folder}/{name}.svg)", ""]

    lines = [f"# inferchip report: {markdown_text_cell(w['name'])}", "",
             f"inferchip {data['header']['inferchip_version']}; catalog {markdown_text_cell(data['header']['catalog'])};"
             f" {fmt_number(w['queries_per_day'])} queries/day.", "",
             "## Ranking: cost per query", "",
             rows([{**r, "option": r.get("option") or r["accelerator"]} for r in data["ranked"]], RANK_FIELDS), "",
             *chart("cost"), "## Break-even over volume", "", *chart("breakeven"),
             "## Sensitivity", "", *chart("tornado"),
             "## Uncertainty", "", *chart("uncertainty"), rows(data["uncertainty"]["results"], UNC_FIELDS), "",
             "## Plan: year by year", "", markdown_text_cell(_horizon_line(data["plan"])), "",
             rows(data["plan"]["results"], PLAN_FIELDS), "", *chart("plan"), rows(data["plan"]["years"], YEAR_FIELDS),
             "", "## Software and scalability", "", rows(data["scalability"], SCALE_FIELDS),
             "", "## Data-quality flags", "",
             rows(data["flags"], [("accelerator", "Option"), ("flag", "Flag"), ("detail", "Detail")])
             or "No flags on the ranked rows.", "",
             "## Assumptions and sources", "",
             rows([{"key": k, **v} for k, v in data["assumptions"].items()],
                  [("key", "Assumption"), ("value", "Value"), ("unit", "Unit"), ("origin", "Set by"),
                   ("source", "Source")]), "",
             rows(data["sources"], [("name", "Accelerator"), ("source", "Specs source"), ("as_of", "As of"),
                                    ("price_source", "Price source"), ("price_as_of", "Price as of")])]
    return "\n".join(lines) + "\n", {f"{name}.svg": svg for name, (svg, _) in svgs.items()}
