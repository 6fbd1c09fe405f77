"""inferchip.server: one rule for a blank devices_per_server, used by sizing and costing alike."""

import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from inferchip import dataflow, perf, server, validate
from inferchip.catalog import bundled_catalog_path

# 16 GB cards: a 70B fp8 model needs ceil(70 / (16 x 0.9)) = 5 of them, so the sizing rule shows
HEADER = ("name,vendor,kind,memory_gb,memory_bw_tbps,tdp_w,devices_per_server,server_power_kw,server_rack_units,"
          "fp8_tflops,accelerator_price_usd,price_is_estimate,price_source,price_as_of,source,as_of\n")
ROW = "Blank Server Card,TestVendor,gpu,16,0.8,200,{dps},,,400,3000,true,fixture quote,2026-02,test fixture,2026-01\n"


def _catalog(tmp_path, dps: str, name: str = "cards.csv"):
    path = tmp_path / name
    path.write_text(HEADER + ROW.format(dps=dps))
    return path


def test_blank_is_one_device_per_server():
    got = server.devices_per_server([np.nan, 8.0, 72.0, 0.0, np.inf])
    assert got.tolist() == [1.0, 8.0, 72.0, 1.0, 1.0]
    assert server.is_default([np.nan, 8.0, None]).tolist() == [True, False, True]
    assert server.DEFAULT_DEVICES_PER_SERVER == 1.0


def test_server_power_hand_computed():
    # listed value wins; else devices x TDP x (1 + host) / 1000; a blank is one device
    assert server.server_power_kw(10.2, 8.0, 700.0, 0.3) == 10.2
    assert math.isclose(float(server.server_power_kw(np.nan, 8.0, 700.0, 0.3)), 8 * 700 * 1.3 / 1000)
    assert math.isclose(float(server.server_power_kw(np.nan, np.nan, 700.0, 0.3)), 700 * 1.3 / 1000)


def test_candidate_base_follows_the_same_rule():
    # a blank no longer sizes as an 8-device server: 5 chips stay 5 (whole one-chip servers), not 8
    assert perf.candidate_base(5, np.nan) == 5 == perf.candidate_base(5, 1)
    assert perf.candidate_base(5, 8) == 8
    assert perf.candidate_base(1, np.nan) == 1


@given(st.integers(1, 600), st.one_of(st.just(math.nan), st.integers(1, 72).map(float)))
def test_a_replica_never_splits_a_server_it_is_sized_in(n_min, dps):
    """What sizing assumes shares a server is what costing buys as a server: a replica of up to
    one server fits in one server, a larger one is whole servers of the same devices_per_server."""
    base = float(perf.candidate_base(n_min, dps))
    d = float(server.devices_per_server(dps))
    assert base >= n_min
    assert base <= d or base % d == 0


def test_dataflow_and_validate_use_the_rule():
    blank = dataflow.pipeline_overhead_ms(10, 4.0, np.nan, 1.0, 0.0, 1000.0)
    one = dataflow.pipeline_overhead_ms(10, 4.0, 1.0, 1.0, 0.0, 1000.0)
    assert blank == one == 1.0 + 3 * 1.0  # three server boundaries of one chip each
    frame = pd.DataFrame({"accelerator": ["Nobody X1"] * 2, "accelerator_count": [4.0, 4.0],
                          "devices_per_server": [np.nan, 1.0], "server_power_kw": [np.nan, np.nan],
                          "tdp_w": [300.0, 300.0]})
    watts = validate.predicted_power_w(frame, {"host_power_fraction": 0.25, "busy_power_fraction": 0.8})
    assert watts[0] == watts[1]
    assert math.isclose(watts[0], 4 * 0.3 * 1.25 * 0.8 * 1000)


@pytest.mark.parametrize("workload", ["support-chatbot-70b", "fraud-scoring-bert"])
def test_blank_sizes_and_costs_exactly_as_one_device_per_server(invoke, tmp_path, workload):
    """The invariant: a blank cell gives the same result in every column as writing the default
    (1) into it, so sizing, power, price, racks and purchase cannot disagree about the server."""
    docs = []
    for dps in ("", "1"):
        catalog = _catalog(tmp_path, dps, f"cards-{dps or 'blank'}.csv")
        result = invoke("compare", workload, "--catalog", str(catalog), "--basis", "own", "--format", "json")
        assert result.exit_code == 0, result.stderr
        docs.append(json.loads(result.stdout)["results"])
    assert docs[0] == docs[1]
    row = docs[0][0]
    assert row["accelerator"] == "Blank Server Card"
    assert row["servers"] == row["accelerators_bought"]  # each accelerator its own server
    if workload == "support-chatbot-70b":
        assert row["chips_per_replica"] % 5 == 0  # multiples of n_min = 5, never an 8-chip server


def test_explain_shows_the_default_and_why(invoke, tmp_path):
    catalog = _catalog(tmp_path, "")
    result = invoke("explain", "--chip", "blank server card", "--catalog", str(catalog), "--format", "json")
    assert result.exit_code == 0, result.stderr
    steps = {s["name"]: s for s in json.loads(result.stdout)["steps"]}
    dps = next(i for i in steps["candidate_base_chips"]["inputs"] if i["name"] == "devices_per_server")
    assert dps["value"] == 1 and dps["origin"] == "catalog"
    assert "devices_per_server is blank: 1 accelerator per server" in dps["source"]
    assert steps["candidate_base_chips"]["value"] == steps["min_chips_for_weights"]["value"] == 5
    power = next(i for i in steps["server_power_kw"]["inputs"] if i["name"] == "devices_per_server")
    assert power == dps


def test_bundled_catalog_has_no_blank_devices_per_server():
    """Every bundled row states its server (with a source in notes), so no bundled number rests on the default."""
    catalog = pd.read_csv(bundled_catalog_path())
    assert catalog["devices_per_server"].notna().all(), catalog.loc[catalog["devices_per_server"].isna(), "name"].tolist()


@pytest.mark.parametrize("column,value", [("server_price_usd", "300000"), ("server_power_kw", "10.2")])
def test_a_whole_server_figure_needs_the_servers_size(tmp_path, column, value):
    """server_price_usd or server_power_kw with devices_per_server empty would be read as a
    one-accelerator server's figure (10 GPUs at 300,000 USD each): a one-line error instead."""
    from inferchip.catalog import read_catalog
    from inferchip.errors import InputError

    header = HEADER.rstrip("\n").split(",")
    row = ROW.format(dps="").rstrip("\n").split(",")
    if column not in header:
        header, row = header + [column], row + [""]
    row[header.index(column)] = value
    path = tmp_path / "server.csv"
    path.write_text(",".join(header) + "\n" + ",".join(row) + "\n")
    with pytest.raises(InputError) as info:
        read_catalog(path)
    assert str(info.value).startswith(f"{path}: line 2: column 'devices_per_server' is empty but {column}")
    row[header.index("devices_per_server")] = "8"
    path.write_text(",".join(header) + "\n" + ",".join(row) + "\n")
    assert read_catalog(path)["devices_per_server"].iat[0] == 8
