"""Generic row views (catalog list, workloads list) and the one-chip card."""

from __future__ import annotations

import sys

from inferchip.report.fmt import fmt_number

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


def render_rows(rows: list[dict], fmt: str, output, emit, title: str = "") -> None:
    """Rows in any format: a rich table on a terminal, else JSON/CSV/TSV/Markdown text."""
    from inferchip.report import safe_cell, to_delimited, to_json

    if fmt == "table" and output is None:
        from rich.table import Table

        table = Table(title=title or None, title_justify="left", header_style="bold")
        fields = list(rows[0]) if rows else []
        for field in fields:
            table.add_column(field)
        for row in rows:
            table.add_row(*[fmt_number(row[f]) for f in fields])
        _table_console().print(table)
        return
    if fmt == "json":
        text = to_json({"schema_version": 1, "rows": rows})
    elif fmt in ("markdown", "table"):
        fields = list(rows[0]) if rows else []
        lines = ["| " + " | ".join(fields) + " |", "|" + "---|" * len(fields)]
        lines += ["| " + " | ".join(safe_cell(fmt_number(r[f])).replace("|", "\\|") for f in fields) + " |" for r in rows]
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
