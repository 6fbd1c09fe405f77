"""Regenerate the catalog coverage table in docs/catalog.md from data/catalog.csv.

Usage: make catalog-table   (rewrites docs/catalog.md in place, between the catalog-table markers)
"""

from __future__ import annotations

import math
from pathlib import Path

from inferchip.catalog import load_catalog

ROOT = Path(__file__).resolve().parent.parent
PAGE = "docs/catalog.md"
START, END = "<!-- catalog-table -->", "<!-- /catalog-table -->"


def _num(value: float, digits: int = 0) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:,.{digits}f}"


def table() -> str:
    df = load_catalog().sort_values(["vendor", "name"], key=lambda s: s.str.lower())
    lines = ["| accelerator | kind | memory GB | TB/s | dense bf16/fp16 TFLOPS | dense fp8 TFLOPS | TDP W | "
             "system | price | cloud USD/h (provider) | layout | estimates | specs as of |",
             "|---|---|---:|---:|---:|---:|---:|---|---|---|---|---|---|"]
    for row in df.itertuples(index=False):  # doc generation script, not library code
        peak16 = row.bf16_tflops if not math.isnan(row.bf16_tflops) else row.fp16_tflops
        system = f"{_num(row.devices_per_server)} per server" if not math.isnan(row.devices_per_server) else "-"
        if row.rent_only:
            price = "rent only"
        elif not math.isnan(row.server_price_usd):
            price = f"server {_num(row.server_price_usd)}" + (" (est.)" if row.price_is_estimate else "")
        elif not math.isnan(row.accelerator_price_usd):
            price = f"unit {_num(row.accelerator_price_usd)}" + (" (est.)" if row.price_is_estimate else "")
        else:
            price = "unknown"
        cloud = f"{_num(row.cloud_usd_per_hour, 2)} ({row.cloud_provider})" if row.cloud_provider else "-"
        estimated = ", ".join(item.split(" ")[0] for item in row.estimated_columns.split("; ")) if row.estimated_columns else "-"
        memory = _num(row.memory_gb) if row.memory_gb > 0 else f"SRAM {_num(row.sram_mb)} MB"
        lines.append(f"| {row.name} | {row.kind} | {memory} | {_num(row.memory_bw_tbps, 2)} | {_num(peak16)} | "
                     f"{_num(row.fp8_tflops)} | {_num(row.tdp_w)} | {system} | {price} | "
                     f"{cloud} | {row.layout or 'tensor'} | {estimated} | {row.as_of} |")
    return "\n".join(lines)


def main() -> None:
    readme = ROOT / PAGE
    text = readme.read_text(encoding="utf-8")
    i, j = text.index(START) + len(START), text.index(END)
    readme.write_text(text[:i] + "\n" + table() + "\n" + text[j:], encoding="utf-8")


if __name__ == "__main__":
    main()
