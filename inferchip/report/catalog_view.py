"""Generic row views (catalog list, workloads list) and the one-chip card."""

from __future__ import annotations

from inferchip.report.fmt import fmt_number
from inferchip.report.safetext import markdown_cell

# Units of catalog columns, for `catalog show`.
CATALOG_UNITS = {
    "memory_gb": "GB", "memory_bw_tbps": "TB/s", "sram_mb": "MB", "fp16_tflops": "TFLOPS dense",
    "bf16_tflops": "TFLOPS dense", "fp8_tflops": "TFLOPS dense", "fp4_tflops": "TFLOPS dense", "sparse_fp8_tflops": "TFLOPS with 2:4 sparsity (check only)",
    "int8_tops": "TOPS dense", "int4_tops": "TOPS dense", "tdp_w": "W", "devices_per_server": "count",
    "server_power_kw": "kW", "server_rack_units": "U", "accelerator_price_usd": "USD",
    "server_price_usd": "USD", "cloud_usd_per_hour": "USD per accelerator-hour",
    "compute_efficiency": "fraction of peak", "memory_efficiency": "fraction of peak",
    "step_overhead_ms": "ms", "comm_overhead_ms_per_layer": "ms",
    "scaleup_domain_accelerators": "count", "scaleout_gbit_per_s_per_accelerator": "Gb/s per accelerator",
}


def _print_fitted_table(rows: list[dict], title: str, console) -> None:
    """A rich table of the rows; text cells wrap at spaces, and trailing columns are
    left out (and said so) only while the table cannot fit the terminal even wrapped."""
    from rich.table import Table
    from rich.text import Text

    fields = list(rows[0]) if rows else []
    cells = {f: [fmt_number(r[f]) for r in rows] for f in fields}
    numeric = {f: all(isinstance(r[f], (int, float)) and not isinstance(r[f], bool) for r in rows if r[f] is not None)
               for f in fields}

    def narrowest(index: int, field: str) -> int:
        """The least width the column needs: whole cells for the name and numbers, the
        longest word of wrapped text; never less than its header."""
        whole = index == 0 or numeric[field]
        parts = [len(c) for c in cells[field]] if whole else [len(w) for c in cells[field] for w in c.split()]
        return max([len(field), *parts])

    shown = fields
    # each column: its width + 2 padding + 1 rule; plus the closing rule
    while len(shown) > 2 and sum(narrowest(i, f) + 3 for i, f in enumerate(shown)) + 1 > console.width:
        shown = shown[:-1]
    table = Table(title=title or None, title_justify="left", header_style="bold")
    for index, field in enumerate(shown):
        table.add_column(field, no_wrap=index == 0, justify="right" if numeric[field] else "left",
                         min_width=narrowest(index, field))
    for index in range(len(rows)):
        table.add_row(*[cells[f][index] for f in shown])
    console.print(table)
    if len(shown) < len(fields):
        hidden = ", ".join(fields[len(shown):])
        console.print(Text(f"{len(fields) - len(shown)} column(s) not shown at this width: {hidden};"
                           " use --format csv or json for every column", style="dim"))


def render_rows(rows: list[dict], fmt: str, output, emit, title: str = "") -> None:
    """Rows in any format: a rich table on a terminal, else JSON/CSV/TSV/Markdown text."""
    from inferchip.report import to_delimited, to_json

    if fmt == "table":
        from inferchip.report.console import table_output

        with table_output(output, emit) as console:
            _print_fitted_table(rows, title, console)
        return
    if fmt == "json":
        text = to_json({"schema_version": 1, "rows": rows})
    elif fmt == "markdown":
        fields = list(rows[0]) if rows else []
        lines = ["| " + " | ".join(fields) + " |", "|" + "---|" * len(fields)]
        lines += ["| " + " | ".join(markdown_cell(fmt_number(r[f])) for f in fields) + " |" for r in rows]
        text = "\n".join(lines) + "\n"
    else:
        text = to_delimited(rows, "," if fmt == "csv" else "\t")
    emit(text, output)


def render_catalog(rows: list[dict], fmt: str, output, emit, console_factory) -> None:
    render_rows(rows, fmt, output, emit, "Hardware catalog (dense peak compute)")


def _year(value: object) -> object:
    """A year as text, so no view prints it with a thousands separator (2022, not 2,022)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and float(value).is_integer():
        return str(int(value))
    return value


def render_chip(data: dict, fmt: str, output, emit, console_factory) -> None:
    """Every field of one catalog row with its unit."""
    rows = [{"field": k, "value": _year(v) if k.endswith("_year") else v, "unit": CATALOG_UNITS.get(k, "")}
            for k, v in data.items()]
    if fmt == "json":
        from inferchip.report import to_json

        emit(to_json({"schema_version": 1, "accelerator": data}), output)
        return
    render_rows(rows, fmt, output, emit, str(data.get("name", "")))
