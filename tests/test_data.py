"""Bundled data integrity: it loads, every row is sourced and dated, units are plausible."""

import csv

import pytest

from inferchip.catalog import load_catalog
from inferchip.data_files import data_path
from inferchip.models import load_presets


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


def test_catalog_loads_and_is_large(catalog):
    assert len(catalog) >= 25
    assert set(catalog["kind"]) >= {"gpu", "asic", "lpu"}


def test_every_catalog_row_is_sourced_and_dated(catalog):
    assert (catalog["source"].str.len() > 10).all()
    assert catalog["as_of"].str.match(r"^\d{4}-\d{2}").all()


def test_prices_carry_source_and_date(catalog):
    priced = catalog["server_price_usd"].notna() | catalog["accelerator_price_usd"].notna()
    assert (catalog.loc[priced, "price_source"].str.len() > 5).all()
    assert catalog.loc[priced, "price_as_of"].str.match(r"^\d{4}").all()
    rented = catalog["cloud_usd_per_hour"].notna()
    assert (catalog.loc[rented, "cloud_source"].str.len() > 5).all()
    assert catalog.loc[rented, "cloud_as_of"].str.match(r"^\d{4}").all()


def test_units_plausible(catalog):
    mem = catalog["memory_gb"].dropna()
    assert ((mem >= 0) & (mem <= 400)).all()
    assert (catalog["tdp_w"].dropna().between(5, 2000)).all()
    off_chip = (catalog["memory_gb"] > 0) & ~catalog["kind"].isin(["wafer", "lpu"])
    bw = catalog.loc[off_chip, "memory_bw_tbps"].dropna()
    assert bw.between(0.05, 30).all(), "HBM/GDDR bandwidth should be 0.05-30 TB/s"


def test_dense_compute_ordering(catalog):
    # fp8 dense is at most ~2x bf16 dense (L40S datasheet: 733 vs 362, so allow 2.1x)
    # Trainium3 is the documented exception: AWS quotes 2,517 MXFP8 vs 671 BF16 TFLOPS (Neuron docs).
    both = catalog.loc[catalog["name"] != "AWS Trainium3", ["bf16_tflops", "fp8_tflops"]].dropna()
    assert (both["fp8_tflops"] <= 2.1 * both["bf16_tflops"]).all()


def test_system_power_covers_devices(catalog):
    rows = catalog[["server_power_kw", "devices_per_server", "tdp_w"]].dropna()
    ratio = rows["server_power_kw"] * 1000 / (rows["devices_per_server"] * rows["tdp_w"])
    assert (ratio >= 0.6).all(), "system power should be at least ~60 % of devices x TDP"


def test_rent_only_rows_have_no_purchase_price(catalog):
    rent = catalog[catalog["rent_only"]]
    assert rent["server_price_usd"].isna().all() and rent["accelerator_price_usd"].isna().all()


def test_models_cover_required_presets():
    presets = load_presets()
    for name in ("llama-2-70b", "llama-3.1-8b", "llama-3.1-70b", "llama-3.1-405b", "mixtral-8x7b"):
        assert name in presets
        assert presets[name]["source"]
    assert presets["mixtral-8x7b"]["active_params_b"] < presets["mixtral-8x7b"]["params_b"]


def test_dataset_shortest_output_is_at_most_its_mean_and_explained():
    """dataset_output_tokens_min bounds the p99 tail of benchmark rows: never above the mean
    output, and every row that gives one says where it comes from in its notes."""
    given = {name: p for name, p in load_presets().items() if p.get("dataset_output_tokens_min") is not None}
    assert "llama-3.1-8b" in given
    for name, p in given.items():
        assert 0 < p["dataset_output_tokens_min"] <= p["dataset_output_tokens"], name
        assert "dataset_output_tokens_min" in str(p.get("notes", "")), name


def test_benchmarks_name_catalog_rows_and_presets(catalog):
    names = set(catalog["name"])
    presets = load_presets()
    with open(data_path("benchmarks.csv"), newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) >= 30
    for row in rows:
        assert row["accelerator"] in names, row["accelerator"]
        assert row["model"].lower() in presets, row["model"]
        assert row["source"] and row["date"]
        assert float(row["throughput_per_accelerator"]) > 0


def test_assumptions_have_units_and_sources():
    from inferchip.assumptions import load_specs

    specs = load_specs()
    for spec in specs.values():
        assert spec.unit and spec.source
        if isinstance(spec.default, float):
            assert spec.low is not None and spec.high is not None
            assert spec.low <= spec.default <= spec.high


def test_docs_catalog_table_lists_every_row(catalog):
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "docs" / "catalog.md").read_text()
    table = readme[readme.index("<!-- catalog-table -->"):readme.index("<!-- /catalog-table -->")]
    for name in catalog["name"]:
        assert f"| {name} |" in table, f"{name}: run make catalog-table"


def test_dense_never_exceeds_sparse_headline(catalog):
    """The model uses dense peaks; the vendor's sparse headline is kept only to check them."""
    both = catalog[["name", "vendor", "fp8_tflops", "sparse_fp8_tflops"]].dropna()
    assert len(both) >= 10
    assert (both["fp8_tflops"] <= both["sparse_fp8_tflops"]).all()
    # NVIDIA and AMD quote 2:4 sparsity: dense is exactly half the headline (within rounding)
    halves = both[both["vendor"].isin(["NVIDIA", "AMD"])]
    ratio = halves["fp8_tflops"] / halves["sparse_fp8_tflops"]
    assert ratio.between(0.49, 0.51).all(), halves.assign(ratio=ratio)


def test_every_data_file_is_packaged():
    """The wheel ships data/ as inferchip.data by the patterns in pyproject.toml;
    a data file no pattern covers would be missing from an installed wheel."""
    import fnmatch
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    setup = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]
    patterns = setup["package-data"]
    folders = {package: root / folder for package, folder in setup["package-dir"].items()}
    for path in (root / "data").rglob("*"):
        if path.is_dir() or "__pycache__" in path.parts:
            continue
        package = "inferchip.data.workloads" if path.parent.name == "workloads" else "inferchip.data"
        assert path.parent == folders[package], path
        assert any(fnmatch.fnmatch(path.name, p) for p in patterns[package]), f"{path} is not packaged"


def test_interconnect_rows_are_sourced_and_name_catalog_chips(catalog):
    """Every link row names a catalog chip, has a positive bandwidth or none (PCIe-only card),
    a domain of at least one chip, a source URL and a date."""
    from inferchip.interconnect import read_interconnect

    table = read_interconnect()
    names = set(catalog["name"].str.lower())
    assert set(table.index) <= names, sorted(set(table.index) - names)
    assert (table["scaleup_domain"] >= 1).all()
    assert ((table["scaleup_gbps"] > 0) | table["scaleup_gbps"].isna()).all()
    assert (table["source"].str.contains("https://") | table["source"].str.contains("inferchip reference")).all()
    assert table["as_of"].astype(str).str.match(r"^\d{4}-\d{2}").all()


def test_data_readme_names_every_chip_without_a_link_row(catalog):
    """A chip without an interconnect row gets free collective traffic: data/README.md lists them."""
    from inferchip.interconnect import read_interconnect

    readme = (data_path("README.md")).read_text(encoding="utf-8")
    section = readme.split("## interconnect.csv", 1)[1].split("\n## ", 1)[0]
    linked = set(read_interconnect().index)
    missing = [n for n in catalog["name"] if n.lower() not in linked]
    listed = [item.strip() for line in section.splitlines() if line.startswith("- ") for item in line[2:].split(";")]
    assert sorted(missing) == sorted(listed)
