"""--extend-catalog: whole rows add or replace accelerators; partial rows patch them."""

import json

import pytest

from inferchip.catalog import load_catalog
from inferchip.errors import InputError


def test_patch_replaces_only_given_cells(tmp_path):
    quotes = tmp_path / "quotes.csv"
    quotes.write_text("name,server_price_usd,price_source,price_as_of\n"
                      "nvidia h100 sxm,250000,our quote Q-114,2026-11\n"
                      "AMD MI300X,,,\n")
    bundled = load_catalog()
    patched = load_catalog(extend=[quotes])
    assert len(patched) == len(bundled)
    h100 = patched[patched["name"] == "NVIDIA H100 SXM"].iloc[0]
    assert h100["server_price_usd"] == 250_000 and h100["price_source"] == "our quote Q-114"
    assert h100["memory_gb"] == 80  # untouched columns keep the bundled value
    before = bundled[bundled["name"] == "AMD MI300X"].iloc[0]
    after = patched[patched["name"] == "AMD MI300X"].iloc[0]
    assert after["accelerator_price_usd"] == before["accelerator_price_usd"]  # empty cells change nothing


def test_patch_of_unknown_chip_names_line_and_fix(tmp_path):
    quotes = tmp_path / "quotes.csv"
    quotes.write_text("name,server_price_usd\nnvidia h1000,1\n")
    with pytest.raises(InputError, match=r"quotes.csv: line 2: 'nvidia h1000' is not in the catalog; a file that "
                                         r"adds accelerators needs every required column"):
        load_catalog(extend=[quotes])


def test_patch_values_are_validated(tmp_path):
    quotes = tmp_path / "quotes.csv"
    quotes.write_text("name,server_price_usd\nNVIDIA H100 SXM,-5\n")
    with pytest.raises(InputError, match="line 2: column 'server_price_usd'"):
        load_catalog(extend=[quotes])


def test_cheaper_quote_lowers_cost_through_the_cli(compare_json, tmp_path):
    quotes = tmp_path / "quotes.csv"
    quotes.write_text("name,server_price_usd,price_is_estimate,price_source,price_as_of\n"
                      "NVIDIA H100 SXM,200000,false,our quote,2026-11\n")
    base = {r["accelerator"]: r for r in compare_json()["results"]}
    doc = compare_json("--extend-catalog", str(quotes))
    row = next(r for r in doc["results"] if r["accelerator"] == "NVIDIA H100 SXM")
    assert row["cost_per_query_usd"] < base["NVIDIA H100 SXM"]["cost_per_query_usd"]
    # a purchase of quoted 8-GPU servers only is not an estimate; a derived smaller unit in the mix is
    assert row["price_source"] == "our quote"
    assert row["price_is_estimate"] is ("4-GPU" in row["purchase"])
    assert json.dumps(doc).count("NVIDIA H100 SXM") >= 1
