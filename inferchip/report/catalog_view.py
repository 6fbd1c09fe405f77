"""Generic row views (catalog list, workloads list) and the one-chip card."""

from __future__ import annotations

import sys

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
}


def _table_console():
    from inferchip.report.console import make_console

    return make_console(sys.stdout)


def _print_fitted_table(rows: list[dict], title: str) -> None:
    """A rich table of the rows; trailing columns are left out (and said so) until
    it fits the terminal."""
    from rich.table import Table
    from rich.text import Text

    console = _table_console()
    fields = list(rows[0]) if rows else []

    def build(shown: list[str]):
        table = Table(title=title or None, title_justify="left", header_style="bold")
        for index, field in enumerate(shown):
            numeric = all(isinstance(r[field], (int, float)) and not isinstance(r[field], bool)
                          for r in rows if r[field] is not None)
            table.add_column(field, no_wrap=index == 0, justify="right" if numeric else "left")
        for row in rows:
            table.add_row(*[fmt_number(row[f]) for f in shown])
        return table

    shown = fields
    table = build(shown)
    wide = console.options.update(width=100_000)
    while len(shown) > 2 and console.measure(table, options=wide).maximum > console.width:
        shown = shown[:-1]
        table = build(shown)
    console.print(table)
    if len(shown) < len(fields):
        hidden = ", ".join(fields[len(shown):])
        console.print(Text(f"{len(fields) - len(shown)} column(s) not shown at this width: {hidden};"
                           " use --format csv or json for every column", style="dim"))


def render_rows(rows: list[dict], fmt: str, output, emit, title: str = "") -> None:
    """Rows in any format: a rich table on a terminal, else JSON/CSV/TSV/Markdown text."""
    from inferchip.report import to_delimited, to_json

    if fmt == "table" and output is None:
        _print_fitted_table(rows, title)
        return
    if fmt == "json":
        text = to_json({"schema_version": 1, "rows": rows})
    elif fmt in ("markdown", "table"):
        fields = list(rows[0]) if rows else []
        lines = ["| " + " | ".join(fields) + " |", "|" + "---|" * len(fields)]
        lines += ["| " + " | ".join(markdown_cell(fmt_number(r[f])) for f in fields) + " |" for r in rows]
        text = "\n".join(lines) + "\n"
    else:
        text = to_delimited(rows, "," if fmt == "csv" else "\t")
    emit(text, output)


def render_catalog(rows: list[dict], fmt: str, output, emit, console_factory) -> None:
    render_rows(rows, fmt, output, emit, "Hardware catalog (dense peak compute)")


def render_chip(data: dict, fmt: str, output, emit, console_factory) -> None:
    """Every field of one catalog row with its unit."""
    rows = [{"field": k, "value": v, "unit": CATALOG_UNITS.get(k, "")} for k, v in data.items()]
    if fmt == "json":
        from inferchip.report import to_json

        emit(to_json({"schema_version": 1, "accelerator": data}), output)
        return
    render_rows(rows, fmt, output, emit, str(data.get("name", "")))
