import math

import numpy as np
import pytest

from inferchip import fleet


def test_peak_load():
    # 86,400 queries/day = 1 query/s average; x2 peak
    assert fleet.peak_queries_per_s(86_400, 2.0) == pytest.approx(2.0)


def test_replicas_round_up_at_utilisation():
    # 10 q/s peak, 3 q/s per replica at 70 % -> 10 / 2.1 = 4.76 -> 5
    assert fleet.replicas_needed(10.0, 3.0, 0.7) == 5


def test_at_least_one_replica():
    assert fleet.replicas_needed(0.001, 100.0, 0.7) == 1


def test_servers_per_rack_power_binds():
    # 10.2 kW servers in a 20 kW rack: 1 by power, 5 by space (8U in 42U)
    assert fleet.servers_per_rack(10.2, 8, 20.0, 42) == 1


def test_servers_per_rack_space_binds():
    # 2 kW, 2U servers in a 130 kW rack: 65 by power, 21 by space
    assert fleet.servers_per_rack(2.0, 2, 130.0, 42) == 21


def test_server_bigger_than_budget_still_gets_a_rack():
    assert fleet.servers_per_rack(120.0, 48, 20.0, 42) == 1


def test_unknown_rack_units_do_not_limit():
    assert fleet.servers_per_rack(5.0, np.nan, 20.0, 42) == 4


def test_racks():
    assert fleet.racks_needed(9, 4) == 3


@pytest.mark.parametrize("workload", ["support-chatbot-70b", "chatbot-70b-100k", "assistant-8b-high-volume"])
def test_per_rack_fields_describe_the_units_bought(invoke, workload):
    """kW, accelerators and capacity per rack are the fleet's, over the racks' worth of units it
    buys: a mixed 8- and 4-GPU purchase is not described by its catalog server."""
    import json

    out = invoke("compare", f"data/workloads/{workload}.toml", "--basis", "auto", "--format", "json")
    assert out.exit_code == 0, out.stdout
    rows = [r for r in json.loads(out.stdout)["results"] if r["feasible"] and r["price_basis"] == "owned"]
    mixed = [r for r in rows if " + " in (r["purchase"] or "")]
    assert rows and (workload != "assistant-8b-high-volume" or mixed)  # H100, A100 and L4 buy 8- and 4-GPU servers
    for r in rows:
        rack_share = r["purchase_units"] / r["servers_per_rack"]
        assert r["racks"] == math.ceil(rack_share - 1e-9), r["option"]
        assert math.isclose(r["accelerators_per_rack"] * rack_share, r["accelerators_bought"], rel_tol=1e-9)
        assert math.isclose(r["kw_per_rack"] * rack_share, r["server_power_kw"] * r["purchase_units"], rel_tol=1e-9)
        capacity = r["accelerators_bought"] / r["chips_per_replica"] * r["queries_per_s_per_accelerator"] \
            * r["chips_per_replica"]
        assert math.isclose(r["queries_per_s_per_rack"] * rack_share, capacity, rel_tol=1e-9), r["option"]


def test_a_cloud_slice_packs_at_its_rack_systems_density(invoke):
    """Two rented 4-GPU shapes of a GB200 NVL72 sit in the 72-GPU rack: 72 per rack at its 120 kW,
    not 4-GPU slices packed by their own power (19 a rack)."""
    import json

    out = invoke("compare", "--chip", "GB200", "--basis", "rent", "--format", "json")
    row = json.loads(out.stdout)["results"][0]
    assert row["purchase"].endswith("BM.GPU.GB200.4") and row["accelerators_bought"] == 8
    assert row["accelerators_per_rack"] == 72 and row["kw_per_rack"] == pytest.approx(120.0)
    assert row["max_unit_kw"] == pytest.approx(120.0) and row["racks"] == 1


def test_no_replica_past_a_scale_up_domain_without_a_known_host_link(invoke, tmp_path):
    """Inferentia2 links 12 chips by NeuronLink and lists no host link: a replica that needs more
    chips (Llama 3.1 405B in bf16: 812 GB of weights, at least 26 chips of 32 GB) is infeasible, with
    the reason, instead of crossing servers at NeuronLink speed."""
    import json

    workload = tmp_path / "big.toml"
    workload.write_text('schema_version = 1\nname = "big"\nkind = "llm"\n[model]\npreset = "llama-3.1-405b"\n'
                        'precision = "bf16"\nkv_precision = "fp8"\n[traffic]\nqueries_per_day = 100000\n'
                        'input_tokens = 2000\noutput_tokens = 300\n[slo]\nttft_ms = 10000\ntpot_ms = 100\n')
    out = invoke("compare", str(workload), "--chip", "Inferentia2", "--basis", "auto", "--format", "json")
    row = json.loads(out.stdout)["results"][0]
    assert not row["feasible"]
    assert "more than the scale-up domain of 12, and no host link is known" in row["infeasible_reason"]
    ok = json.loads(invoke("compare", "--chip", "Inferentia2", "--format", "json").stdout)["results"][0]
    assert ok["feasible"] and ok["chips_per_replica"] <= 12
