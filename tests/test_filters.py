"""Row filters (inferchip.filters) and their options on compare and the analysis commands."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from inferchip.catalog import read_catalog
from inferchip.errors import NotFoundError, UsageError
from inferchip.filters import RowFilter, filter_catalog, filter_results


@pytest.fixture(scope="module")
def catalog():
    return read_catalog()


def test_catalog_filters_combine(catalog):
    amd = filter_catalog(catalog, RowFilter(vendors=("amd",)))
    assert set(amd["vendor"]) == {"AMD"} and len(amd) >= 2
    two = filter_catalog(catalog, RowFilter(vendors=("amd", "intel")))
    assert set(two["vendor"]) == {"AMD", "Intel"}
    gpus = filter_catalog(catalog, RowFilter(kinds=("GPU",)))
    assert set(gpus["kind"]) == {"gpu"}
    named = filter_catalog(catalog, RowFilter(chips=("h100 sxm", "l4")))
    assert sorted(named["name"]) == ["NVIDIA H100 SXM", "NVIDIA L4"]


def test_catalog_filter_errors(catalog):
    with pytest.raises(NotFoundError, match="--vendor nobody: no accelerator of this vendor.*vendors: AMD"):
        filter_catalog(catalog, RowFilter(vendors=("nobody",)))
    with pytest.raises(UsageError, match="--kind tpu: no accelerator of this kind.*kinds: "):
        filter_catalog(catalog, RowFilter(kinds=("tpu",)))
    with pytest.raises(NotFoundError, match="no accelerator matches --vendor amd --chip 'l4'"):
        filter_catalog(catalog, RowFilter(vendors=("amd",), chips=("l4",)))


def test_result_filters_work_on_whatever_basis_column_exists():
    rows = pd.DataFrame({"accelerator": ["a", "a", "b", "c"], "basis": ["own", "rent", "api", "own"],
                         "price_is_estimate": [True, False, False, False]})
    assert list(filter_results(rows, RowFilter(bases=("own",)))["basis"]) == ["own", "own"]
    assert len(filter_results(rows, RowFilter(bases=("OWN", "api")))) == 3
    assert list(filter_results(rows, RowFilter(exclude_estimated=True))["basis"]) == ["rent", "api", "own"]
    legacy = rows.rename(columns={"basis": "price_basis"})
    assert len(filter_results(legacy, RowFilter(bases=("rent",)))) == 1
    with pytest.raises(UsageError, match="--basis commit: no result row has this basis; values here: api, own, rent"):
        filter_results(rows, RowFilter(bases=("commit",)))


def test_compare_filters(compare_json):
    doc = compare_json("--vendor", "amd", "--vendor", "intel")
    assert {r["vendor"] for r in doc["results"]} == {"AMD", "Intel"}
    rented = compare_json("--basis", "rented")
    assert rented["results"] and {r["price_basis"] for r in rented["results"]} == {"rented"}
    sure = compare_json("--exclude-estimated")
    everything = compare_json()
    assert not any(r["price_is_estimate"] for r in sure["results"])
    assert len(sure["results"]) < len(everything["results"])
    chips = compare_json("--chip", "l4", "--chip", "h100 sxm")
    assert sorted(r["accelerator"] for r in chips["results"]) == ["NVIDIA H100 SXM", "NVIDIA L4"]
    same = [r for r in everything["results"] if r["accelerator"] == "NVIDIA L4"][0]
    assert [r for r in chips["results"] if r["accelerator"] == "NVIDIA L4"][0] == same  # filters change no number


def test_compare_baseline_may_be_filtered_out(compare_json):
    doc = compare_json("--vendor", "amd", "--baseline", "NVIDIA H100 SXM")
    assert doc["baseline"]["accelerator"] == "NVIDIA H100 SXM"
    assert {r["vendor"] for r in doc["results"]} == {"AMD"}
    assert all("savings_percent" in r for r in doc["results"])


@pytest.mark.parametrize("command", [["sensitivity", "--top", "10"], ["breakeven"],
                                     ["uncertainty", "--samples", "50"]])
def test_analysis_commands_take_the_filters(invoke, command):
    result = invoke(*command, "--vendor", "amd", "--vendor", "intel", "--format", "json")
    assert result.exit_code == 0, result.stderr
    named = set(re.findall(r'"accelerator": "([^"]+)"', result.stdout))
    assert {"AMD MI300X", "Intel Gaudi 3"} <= named and not any(n.startswith("NVIDIA") for n in named)


def test_sweep_takes_the_filters(invoke):
    result = invoke("sweep", "--vary", "pue=1.1,1.4", "--basis", "rented", "--format", "json")
    assert result.exit_code == 0, result.stderr
    rows = json.loads(result.stdout)["results"]
    assert rows and "NVIDIA H100 SXM" not in {r["accelerator"] for r in rows}  # owned in the catalog
    assert "Google TPU v6e" in {r["accelerator"] for r in rows}
