"""`inferchip catalog list / show / validate`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from inferchip.cli import app
from inferchip.cli.common import (
    CatalogOpt,
    CloudProviderOpt,
    ExtendOpt,
    Format,
    FormatOpt,
    OutputOpt,
    emit_text,
    err,
    handles_errors,
    resolve_format,
    stdout_console,
)

catalog_app = typer.Typer(help="Browse and check a hardware catalog.", no_args_is_help=True)
app.add_typer(catalog_app, name="catalog")

LIST_FIELDS = ("name", "kind", "memory_gb", "memory_bw_tbps", "fp8_tflops", "bf16_tflops", "tdp_w",
               "server_price_usd", "accelerator_price_usd", "cloud_usd_per_hour", "cloud_provider", "rent_only", "vendor",
               "devices_per_server", "int8_tops", "as_of")


def _catalog_files(catalog, extend_catalog):
    """--catalog / --extend-catalog with the project config and INFERCHIP_* defaults."""
    from inferchip.config import shared_layers
    from inferchip.inputs import resolve_files

    catalog, extend, _ = resolve_files(catalog, extend_catalog, None, shared_layers())
    return catalog, extend


@catalog_app.command("list")
@handles_errors
def list_(
    catalog: CatalogOpt = None,
    extend_catalog: ExtendOpt = None,
    cloud_provider: CloudProviderOpt = "default",
    vendor: Annotated[str | None, typer.Option(help="Only this vendor (case-insensitive substring).")] = None,
    kind: Annotated[str | None, typer.Option(help="Only this kind: gpu, asic, lpu, wafer, npu.")] = None,
    fmt: FormatOpt = Format.auto,
    output: OutputOpt = None,
) -> None:
    """List accelerators with their headline specs and prices.

    Example: inferchip catalog list --vendor nvidia --format csv
    """
    from inferchip.catalog import load_catalog
    from inferchip.document import records

    df = load_catalog(*_catalog_files(catalog, extend_catalog), cloud_provider)
    if vendor:
        df = df[df["vendor"].str.lower().str.contains(vendor.lower(), regex=False)]
    if kind:
        df = df[df["kind"] == kind.lower()]
    df = df.sort_values("name", key=lambda s: s.str.lower(), kind="mergesort")
    rows = records(df, list(LIST_FIELDS))
    fmt = resolve_format(fmt, output)
    from inferchip.report.catalog_view import render_catalog

    render_catalog(rows, fmt.value, output, emit_text, stdout_console)


@catalog_app.command("show")
@handles_errors
def show(
    name: Annotated[str, typer.Argument(help="Accelerator name (case-insensitive).")],
    catalog: CatalogOpt = None,
    extend_catalog: ExtendOpt = None,
    cloud_provider: CloudProviderOpt = "default",
    fmt: FormatOpt = Format.auto,
    output: OutputOpt = None,
) -> None:
    """Every field of one accelerator, with units and sources, its software support
    (serving frameworks confirmed by documentation) and scalability (smallest purchase unit,
    scale-up domain).

    Example: inferchip catalog show "nvidia h100 sxm"
    """
    from inferchip.catalog import find_chip, load_catalog
    from inferchip.document import clean_number
    from inferchip.software import chip_facts

    row = find_chip(load_catalog(*_catalog_files(catalog, extend_catalog), cloud_provider), name)
    data = {k: clean_number(v) for k, v in row.items()}
    data.update({k: clean_number(v) for k, v in chip_facts(data).items()})  # software support, scalability
    from inferchip.report.catalog_view import render_chip

    render_chip(data, resolve_format(fmt, output).value, output, emit_text, stdout_console)


@catalog_app.command("validate")
@handles_errors
def validate(
    file: Annotated[Path, typer.Argument(help="Catalog or patch CSV to check.", metavar="FILE")],
    patch: Annotated[bool | None, typer.Option(
        "--patch/--full", help="Check FILE as a patch of existing rows (what --extend-catalog accepts with fewer "
                               "columns) or as a full catalog. Default: a patch when a required column is missing "
                               "and every row names an accelerator of the catalog.")] = None,
    catalog: CatalogOpt = None,
) -> None:
    """Check a catalog file, or a quote/patch file; lists every problem with its line number (exit 2 if any).

    A patch names accelerators of the catalog (the bundled one, or --catalog) and
    replaces their non-empty cells, exactly as `--extend-catalog` applies it.

    Example: inferchip catalog validate my-catalog.csv ; inferchip catalog validate our-quotes.csv
    """
    from inferchip.catalog import REQUIRED_COLUMNS, _read_rows, load_catalog, read_catalog

    if patch is None:  # a patch names rows the catalog has; a file of new rows is checked in full
        header, lines = _read_rows(file)
        patch = "name" in header and not all(column in header for column in REQUIRED_COLUMNS)
        if patch:
            known = set(load_catalog(catalog)["name"].str.lower())
            at = header.index("name")
            patch = all(len(cells) > at and cells[at].strip().lower() in known for _, cells in lines)
    if patch:
        rows = read_catalog(file, patch=True)
        merged = load_catalog(catalog, [file])  # the same checks --extend-catalog makes: names exist
        changed = [h for h in _read_rows(file)[0] if h and h != "name"]
        err(f"{file}: OK, a patch of {len(rows)} accelerator(s) in {catalog or 'the bundled catalog'}"
            f" ({', '.join(changed) or 'no columns'}); {len(merged)} accelerators after it")
        return
    from inferchip.cloud import attach_cloud

    df = attach_cloud(read_catalog(file))
    missing_price = df["server_price_usd"].isna() & df["accelerator_price_usd"].isna() & df["cloud_usd_per_hour"].isna()
    for name in df.loc[missing_price, "name"]:
        err(f"warning: {file}: {name}: no price (server_price_usd, accelerator_price_usd or cloud_usd_per_hour); "
            "and no cloud price in data/cloud_prices.csv; compare will list it as not feasible")
    err(f"{file}: OK, {len(df)} accelerators")
