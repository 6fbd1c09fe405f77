"""Views of a many-workload `compare` document (inferchip.many): one Markdown table
with a workload column, and the terminal view as one ranked table per workload."""

from __future__ import annotations

from inferchip.report.fmt import fmt_number
from inferchip.report.safetext import markdown_cell
from inferchip.units import RESULT_FIELDS

MARKDOWN_FIELDS = ("price_basis", "feasible", "cost_per_query_usd", "cost_per_million_tokens_usd", "accelerators",
                   "racks", "avg_power_kw")


def _header(field: str) -> str:
    unit = RESULT_FIELDS[field].unit if field in RESULT_FIELDS else ""
    return f"{field} [{unit}]" if unit and unit not in ("count", "flag") else field


def render_markdown(doc: dict, fields: list[str] | None = None) -> str:
    """A memo: which workloads, the catalog, then every result row with its workload
    (`fields` = compare --columns, else a compact default set)."""
    shown = [f for f in (fields or MARKDOWN_FIELDS) if f not in ("workload", "accelerator")]
    names = [w["workload"]["name"] for w in doc["workloads"]]
    lines = [f"# inferchip compare: {len(names)} workloads", "",
             f"Workloads: {', '.join(markdown_cell(n) for n in names)}. Catalog: {markdown_cell(doc['catalog'])}.",
             "Each workload is ranked on its own (feasible first, cheapest first); its assumptions are in the"
             " JSON output (`--format json`, `workloads`).", ""]
    columns = ["workload", "accelerator", *shown]
    lines.append("| " + " | ".join(_header(c) for c in columns) + " |")
    lines.append("|" + "|".join("---" if c in ("workload", "accelerator", "price_basis") else "---:"
                                for c in columns) + "|")
    for row in doc["results"]:
        cells = [markdown_cell(row["workload"]), markdown_cell(row.get("option") or row["accelerator"])]
        for field in shown:
            value = row.get(field)
            unit = RESULT_FIELDS[field].unit if field in RESULT_FIELDS else ""
            cells.append(markdown_cell(value) if isinstance(value, str) else fmt_number(value, unit))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def render_tables(docs: list[dict], console, fields: list[str] | None = None) -> None:
    """The terminal view: each workload's ranked table (its title names the workload)."""
    from inferchip.report.compare_view import render_table

    for i, doc in enumerate(docs):
        if i:
            console.print()
        render_table(doc, console, fields)
