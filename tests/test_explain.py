"""`inferchip explain`: the derivation agrees with `compare`, holds together step by
step, and cites the origin of every input."""

import json
import math

import pytest

from inferchip import perf
from inferchip.units import RESULT_FIELDS


def _explain(invoke, *args: str) -> dict:
    result = invoke("explain", *args, "--format", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def _steps(doc: dict) -> dict[str, dict]:
    return {step["name"]: step for step in doc["steps"]}


def _value(doc: dict, name: str) -> float:
    return _steps(doc)[name]["value"]


def _pick(rows: list[dict]) -> list[str]:
    """Chips covering each path: the cheapest owned and rented feasible rows, and an infeasible one."""
    owned = [r["accelerator"] for r in rows if r["feasible"] and r["price_basis"] == "owned"]
    rented = [r["accelerator"] for r in rows if r["feasible"] and r["price_basis"] == "rented"]
    blocked = [r["accelerator"] for r in rows if not r["feasible"]]
    return owned[:2] + rented[:1] + blocked[:1]


@pytest.mark.parametrize("workload", ["support-chatbot-70b", "assistant-8b-high-volume",
                                      "fraud-scoring-bert",
                                      "video-analytics-resnet50"])
def test_final_cost_equals_compare(invoke, compare_json, workload):
    rows = {r["accelerator"]: r for r in compare_json(workload)["results"]}
    chips = _pick(list(rows.values()))
    assert len(chips) >= 3
    for chip in chips:
        doc = _explain(invoke, workload, "--chip", chip)
        row = rows[chip]
        assert doc["accelerator"] == chip
        assert doc["cost_per_query_usd"] == row["cost_per_query_usd"]
        assert _value(doc, "cost_per_query_usd") == row["cost_per_query_usd"]
        assert {k: doc["result"][k] for k in RESULT_FIELDS} == {k: row[k] for k in RESULT_FIELDS}
        assert doc["feasible"] == row["feasible"] and doc["infeasible_reason"] == row["infeasible_reason"]


def test_cost_matches_compare_with_overrides(invoke, compare_json):
    args = ("--set", "electricity_usd_per_kwh=0.2", "--set", "queries_per_day=250000",
            "--set", "capital_charge=straight_line", "--set", "facility_model=owned")
    rows = compare_json(*args)["results"]
    for chip in _pick(rows)[:3]:
        doc = _explain(invoke, "--chip", chip, *args)
        assert doc["cost_per_query_usd"] == next(r for r in rows if r["accelerator"] == chip)["cost_per_query_usd"]
        assert doc["price_basis"] != "owned" or _steps(doc)["capital_recovery_factor"]["formula"] == "1 / n"


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-8, abs_tol=1e-12)


def test_chain_holds_together_owned(invoke, compare_json):
    rows = compare_json()["results"]
    chip = next(r["accelerator"] for r in rows if r["feasible"] and r["price_basis"] == "owned")
    doc = _explain(invoke, "--chip", chip)
    s = {name: step["value"] for name, step in _steps(doc).items()}
    w = doc["workload"]
    assumptions = {i["name"]: i["value"] for step in doc["steps"] for i in step["inputs"] if i["origin"] == "assumption"}
    # memory and fit
    assert _close(s["weights_gb"], w["params_b"] * s["bytes_per_weight"])
    assert s["min_chips_for_weights"] == math.ceil(s["weights_gb"] / (s["memory_per_chip_gb"] *
                                                                      assumptions["memory_usable_fraction"]))
    assert s["chips_per_replica"] / s["candidate_base_chips"] in (1, 2, 4, 8, 16, 32)
    # operating point
    assert s["batch_size"] == math.floor(min(s["max_batch_for_slo"], s["max_batch_for_memory"],
                                             assumptions["max_batch_size"]))
    # the decode-step terms, in perf.step_time_ms's order (E exists when collectives are modelled)
    terms = [s[k] for k in ("decode_weight_read_ms", "decode_kv_read_ms_per_sequence", "decode_compute_ms_per_sequence",
                            "prefill_share_ms_per_sequence", "collective_ms_per_sequence") if k in s]
    assert _close(s["tpot_ms"], float(perf.step_time_ms(s["batch_size"], *terms, s["step_overhead_ms"])))
    assert _steps(doc)["tpot_ms"]["formula"] == " ".join(perf.step_time_ms.__doc__.split())
    assert s["tpot_ms"] <= w["tpot_ms"] and s["ttft_ms"] <= w["ttft_ms"]
    assert _close(s["ttft_ms"], s["prefill_ms"] + s["tpot_ms"])
    assert _close(s["tokens_per_s_per_replica"], s["batch_size"] / s["tpot_ms"] * 1000)
    assert _close(s["queries_per_s_per_replica"], s["tokens_per_s_per_replica"] / w["output_tokens"])
    # fleet
    assert _close(s["peak_queries_per_s"], w["queries_per_day"] / 86_400 * w["peak_to_average"])
    assert s["replicas"] == math.ceil(s["peak_queries_per_s"] / (s["queries_per_s_per_replica"] *
                                                                 assumptions["utilisation_target"]))
    assert s["accelerators"] == s["replicas"] * s["chips_per_replica"]
    assert s["racks"] == math.ceil(s["servers"] / s["servers_per_rack"])
    # power
    assert _close(s["provisioned_power_kw"], s["servers"] * s["server_power_kw"])
    load = s["utilisation"]
    assert _close(s["avg_power_kw"], s["provisioned_power_kw"] * (
        s["idle_power_fraction"] + (s["busy_power_fraction"] - s["idle_power_fraction"]) * load))
    # cost
    extras = sum(assumptions[k] for k in ("network_capex_fraction", "storage_capex_fraction", "spares_fraction",
                                          "installation_fraction"))
    assert _close(s["capex_usd"], s["purchase_price_usd"] * (1 + extras) * s["cost_share"])
    r, n = assumptions["cost_of_capital"], assumptions["server_life_years"]
    assert _close(s["capital_recovery_factor"], r * (1 + r) ** n / ((1 + r) ** n - 1))
    assert _close(s["annual_energy_usd"], s["avg_power_kw"] * assumptions["pue"] * 8760
                  * assumptions["electricity_usd_per_kwh"])
    assert _close(s["annual_facility_usd"], s["provisioned_power_kw"] * assumptions["colocation_usd_per_kw_month"] * 12)
    assert _close(s["annual_opex_usd"], sum(s[k] for k in ("annual_energy_usd", "annual_facility_usd",
                                                           "annual_maintenance_usd", "annual_software_usd",
                                                           "annual_staff_usd")))
    assert _close(s["annual_tco_usd"], s["annual_capex_usd"] + s["annual_opex_usd"])
    assert _close(s["cost_per_query_usd"], s["annual_tco_usd"] / (w["queries_per_day"] * 365))
    assert _close(s["cost_per_million_tokens_usd"], s["cost_per_query_usd"] / w["output_tokens"] * 1e6)


@pytest.mark.parametrize("chip", ["NVIDIA H100 SXM", "NVIDIA T4", "AMD MI300X"])
def test_capital_and_maintenance_follow_the_purchase(invoke, compare_json, chip):
    """A purchase of two unit types (H100 SXM: an 8-GPU and a 4-GPU HGX server) is priced unit by
    unit: explain's purchase step, capex and maintenance are the pipeline's, whatever the mix."""
    row = next(r for r in compare_json("--basis", "own")["results"] if r["accelerator"] == chip)
    doc = _explain(invoke, "--chip", chip, "--set", "allocation=shared")
    s = {name: step["value"] for name, step in _steps(doc).items()}
    a = {i["name"]: i["value"] for step in doc["steps"] for i in step["inputs"] if i["origin"] == "assumption"}
    extras = sum(a[k] for k in ("network_capex_fraction", "storage_capex_fraction", "spares_fraction",
                                "installation_fraction"))
    assert s["servers"] == row["purchase_units"]
    if " + " not in row["purchase"]:  # one unit type: units x its price
        assert _close(s["purchase_price_usd"], s["servers"] * s["server_price_usd"])
    else:
        assert s["purchase_price_usd"] < s["servers"] * s["server_price_usd"]  # the second type is the smaller
    assert _close(s["capex_usd"], s["purchase_price_usd"] * (1 + extras) * s["cost_share"])
    assert _close(s["annual_maintenance_usd"], s["purchase_price_usd"] * a["maintenance_fraction_per_year"])


def test_every_step_reference_carries_that_steps_value(invoke):
    doc = _explain(invoke, "--chip", "NVIDIA H100 SXM")
    seen: dict[str, dict] = {}
    for number, step in enumerate(doc["steps"], 1):
        assert step["section"] in ("precision and memory", "operating point", "fleet", "power and racks", "cost")
        assert step["formula"] and step["unit"] is not None and step["inputs"]
        for item in step["inputs"]:
            assert item["origin"] in ("catalog", "workload", "assumption", "calibration", "benchmark", "step",
                                      "constant", "data")
            assert item["source"], item
            if item["origin"] == "step":
                cited = seen[item["name"]]  # only earlier steps can be cited
                assert item["value"] == cited["value"]
                assert item["source"] == f"step {cited['number']}: {cited['label']}"
        seen[step["name"]] = {**step, "number": number}
    assert doc["steps"][-1]["name"] == "cost_per_million_output_tokens_usd"


def test_rented_chain(invoke, compare_json):
    rows = compare_json()["results"]
    chip = next(r for r in rows if r["feasible"] and r["price_basis"] == "rented")
    doc = _explain(invoke, "--chip", chip["accelerator"])
    s = {name: step["value"] for name, step in _steps(doc).items()}
    assert "capex_usd" not in s
    assert _close(s["annual_rent_usd"], s["accelerators"] * chip["cloud_usd_per_hour"] * 8760)
    assert _close(s["annual_tco_usd"], s["annual_rent_usd"] + s["annual_software_usd"])
    cloud = next(i for i in _steps(doc)["annual_rent_usd"]["inputs"] if i["name"] == "cloud_usd_per_hour")
    assert cloud["origin"] == "catalog" and chip["price_as_of"] in cloud["source"]


def test_fixed_workload_chain(invoke):
    doc = _explain(invoke, "fraud-scoring-bert", "--chip", "NVIDIA L4")
    s = {name: step["value"] for name, step in _steps(doc).items()}
    assert "tpot_ms" not in s and "cost_per_million_tokens_usd" not in s
    assert _close(s["latency_ms"], 2 * s["batch_time_ms"])
    assert _close(s["queries_per_s_per_replica"], s["batch_size"] / s["batch_time_ms"] * 1000)
    assert "layers" not in _steps(doc)["step_overhead_ms"]["formula"]


def test_inputs_name_their_origins(invoke, tmp_path):
    site = tmp_path / "site.toml"
    site.write_text("pue = 1.25\n")
    doc = _explain(invoke, "--chip", "NVIDIA H100 SXM", "--assumptions", str(site),
                   "--set", "electricity_usd_per_kwh=0.12", "--set", "input_tokens=2000")
    inputs = {(i["name"], i["origin"]): i for step in doc["steps"] for i in step["inputs"]}
    assert inputs[("electricity_usd_per_kwh", "assumption")]["source"].startswith("--set: US EIA")
    assert inputs[("electricity_usd_per_kwh", "assumption")]["value"] == 0.12
    assert inputs[("pue", "assumption")]["source"].startswith(f"{site}: ")
    assert inputs[("cost_of_capital", "assumption")]["source"].startswith("default in data/assumptions.toml: ")
    assert inputs[("input_tokens", "workload")] == {"name": "input_tokens", "value": 2000, "unit": "tokens",
                                                     "origin": "workload", "source": "--set input_tokens"}
    assert inputs[("output_tokens", "workload")]["source"] == ("bundled workload support-chatbot-70b.toml: "
                                                               "[traffic] output_tokens")
    assert inputs[("params_b", "workload")]["source"].startswith("model preset llama-2-70b in data/models.csv: ")
    memory = inputs[("memory_bw_tbps", "catalog")]["source"]
    assert memory.startswith("bundled catalog.csv line ") and "(NVIDIA H100 SXM): " in memory and ", as of " in memory
    assert inputs[("memory_efficiency", "calibration")]["source"].startswith("data/calibration.csv, ")
    price = inputs[("server_price_usd", "catalog")]
    assert ", as of " in price["source"] and price["value"] > 0
    assert ("seconds_per_day", "constant") in inputs


CUSTOM = (
    "name,vendor,kind,memory_gb,memory_bw_tbps,tdp_w,devices_per_server,server_power_kw,server_rack_units,"
    "fp8_tflops,accelerator_price_usd,price_is_estimate,price_source,price_as_of,memory_efficiency,source,as_of\n"
    "Explain Test Card,TestVendor,gpu,96,4.0,600,8,,4,1500,20000,true,fixture quote,2026-02,0.6,"
    "test fixture (not a real product),2026-01\n"
)


def test_derived_price_and_power_and_own_efficiency(invoke, tmp_path):
    extra = tmp_path / "extra.csv"
    extra.write_text(CUSTOM)
    doc = _explain(invoke, "--chip", "explain test card", "--extend-catalog", str(extra))
    steps = _steps(doc)
    a = {i["name"]: i["value"] for step in doc["steps"] for i in step["inputs"] if i["origin"] == "assumption"}
    assert _close(steps["server_price_usd"]["value"], 20000 * 8 * (1 + a["host_price_fraction"]))
    price = next(i for i in steps["server_price_usd"]["inputs"] if i["name"] == "accelerator_price_usd")
    assert price["source"].endswith("fixture quote, as of 2026-02 [estimate]")
    assert price["source"].startswith(f"{extra} line 2 (Explain Test Card)")
    assert _close(steps["server_power_kw"]["value"], 8 * 600 * (1 + a["host_power_fraction"]) / 1000)
    own = next(i for i in steps["effective_bandwidth_tbps"]["inputs"] if i["name"] == "memory_efficiency")
    assert own["origin"] == "catalog" and own["value"] == 0.6 and own["source"].endswith("the row's own memory_efficiency")
    assert _close(steps["effective_bandwidth_tbps"]["value"], steps["chips_per_replica"]["value"] * 4.0 * 0.6)


def test_infeasible_chip_is_explained_not_an_error(invoke, compare_json):
    row = next(r for r in compare_json()["results"] if not r["feasible"])
    doc = _explain(invoke, "--chip", row["accelerator"])
    assert doc["feasible"] is False and doc["infeasible_reason"] == row["infeasible_reason"]
    assert doc["cost_per_query_usd"] is None
    assert row["infeasible_reason"] in _steps(doc)["cost_per_query_usd"]["description"]


@pytest.mark.parametrize("name, exit_code, message", [
    ("nvidia h100 sxm", 0, None),
    ("tpu v6e", 0, None),
    ("l4", 0, None),  # a whole-word match: NVIDIA L4, not L40S
    ("h100", 3, "error: accelerator 'h100' is ambiguous: it matches NVIDIA H100 SXM, NVIDIA H100 PCIe, NVIDIA H100 NVL"),
    ("NVIDIA H100 SMX", 3, "error: unknown accelerator 'NVIDIA H100 SMX'. Did you mean 'NVIDIA H100 SXM'?"),
])
def test_chip_names(invoke, name, exit_code, message):
    result = invoke("explain", "--chip", name, "--format", "json")
    assert result.exit_code == exit_code, result.stderr
    if message:
        assert result.stderr.startswith(message) and result.stdout == ""


def test_missing_chip_option(invoke):
    result = invoke("explain")
    assert result.exit_code == 2 and "--chip" in result.stderr


@pytest.mark.parametrize("fmt, check", [
    ("markdown", lambda out: out.startswith("# Derivation: NVIDIA H100 SXM on support-chatbot-70b: cost per query ")
     and "## Sources" in out and "| 1 | precision and memory | Bytes per weight |" in out),
    ("csv", lambda out: out.splitlines()[0] == "step,section,name,label,value,unit,formula,description,inputs"),
    ("tsv", lambda out: out.splitlines()[1].startswith("1\tprecision and memory\tbytes_per_weight\t")),
    ("table", lambda out: "Bytes per weight" in out and "Sources:" in out and "[1] " in out),
])
def test_text_formats(invoke, fmt, check):
    result = invoke("explain", "--chip", "NVIDIA H100 SXM", "--format", fmt, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.stderr
    assert check(result.stdout)


def test_output_file_and_no_xlsx(invoke, tmp_path):
    target = tmp_path / "derivation.md"
    result = invoke("explain", "--chip", "NVIDIA H100 SXM", "--output", str(target))
    assert result.exit_code == 0 and result.stdout == ""
    assert target.read_text().startswith("# Derivation: NVIDIA H100 SXM")
    bad = invoke("explain", "--chip", "NVIDIA H100 SXM", "--output", str(tmp_path / "x.xlsx"))
    assert bad.exit_code == 2 and "only `inferchip compare` writes Excel workbooks" in bad.stderr
    assert not (tmp_path / "x.xlsx").exists()
    offered = invoke("explain", "--chip", "NVIDIA H100 SXM", "--format", "xlsx")
    assert offered.exit_code == 2 and "xlsx" in offered.stderr  # not a choice outside compare


def test_explain_is_deterministic(invoke):
    first = invoke("explain", "--chip", "NVIDIA H100 SXM", "--format", "json").stdout
    assert first == invoke("explain", "--chip", "NVIDIA H100 SXM", "--format", "json").stdout

    def reject(constant: str):
        raise AssertionError(f"{constant} in JSON")

    json.loads(first, parse_constant=reject)  # NaN / Infinity are not JSON


def test_markdown_sources_name_the_inputs_they_hold(invoke):
    out = invoke("explain", "--chip", "NVIDIA H100 SXM", "--format", "markdown").stdout
    sources = out.split("## Sources\n\n")[1].splitlines()
    assert sources[0] == "1. precision: bundled workload support-chatbot-70b.toml: [model] precision"
    preset = next(line for line in sources if "model preset llama-2-70b in data/models.csv" in line)
    assert "params_b" in preset and "layers" in preset  # one footnote for every key the preset fills
    catalog = next(line for line in sources if "bundled catalog.csv line" in line and "memory_gb" in line)
    assert "memory_bw_tbps" in catalog and "(NVIDIA H100 SXM)" in catalog


def test_measured_rows_agree_with_compare(invoke, compare_json):
    """Measured beats modeled: explain sizes the fleet on the same benchmark compare used."""
    rows = [r for r in compare_json("video-analytics-resnet50")["results"] if r["throughput_source"] == "measured"]
    if not rows:
        pytest.skip("no bundled benchmark matches this workload any more")
    for row in rows[:3]:
        doc = _explain(invoke, "video-analytics-resnet50", "--chip", row["accelerator"])
        steps = _steps(doc)
        assert doc["cost_per_query_usd"] == row["cost_per_query_usd"]
        measured = steps["queries_per_s_per_replica_measured"]
        assert _close(measured["value"], row["queries_per_s_per_accelerator"] * row["chips_per_replica"])
        assert measured["inputs"][0]["origin"] == "benchmark"
        assert measured["inputs"][0]["source"] == f"data/benchmarks.csv: {row['throughput_reference']}"
        assert [i["name"] for i in steps["replicas"]["inputs"]][1] == "queries_per_s_per_replica_measured"


def test_measured_step_only_for_measured_rows():
    from inferchip.explain import _measured_step, _Steps

    steps = _Steps()
    _measured_step(steps, {"throughput_source": "modeled"})
    assert steps.items == []
    steps.add("chips_per_replica", "Chips per replica", 4, "count", "n", "", [])
    _measured_step(steps, {"throughput_source": "measured", "queries_per_s_per_accelerator": 3.5,
                           "tokens_per_s_per_accelerator": 700.0, "chips_per_replica": 4,
                           "throughput_reference": "MLPerf v4.1 Server, 8xH100"})
    step = steps.items[-1]
    assert step["value"] == 14.0 and "tokens/s per accelerator x n / output_tokens" in step["formula"]
    assert step["inputs"][0]["source"] == "data/benchmarks.csv: MLPerf v4.1 Server, 8xH100"


def test_explain_an_api_row_says_where_its_cost_comes_from(invoke):
    result = invoke("explain", "chatbot-70b-100k", "--chip", "Groq API")
    assert result.exit_code == 3
    assert "a per-token API row has no derivation to explain" in result.stderr and "data/api_prices.csv" in result.stderr


def test_explain_follows_compares_default_row(compare_json, invoke):
    """explain shows compare's default row for the chip: its cheaper of owning and renting."""
    import json

    rows = {r["option"]: r for r in compare_json("chatbot-70b-100k")["results"]}
    for chip in ("NVIDIA H100 NVL", "NVIDIA H100 SXM"):  # rented and owned by default here
        doc = json.loads(invoke("explain", "chatbot-70b-100k", "--chip", chip, "--format", "json").stdout)
        assert (doc["price_basis"], doc["cost_per_query_usd"]) == (rows[chip]["price_basis"], rows[chip]["cost_per_query_usd"])


def test_p99_tail_step_shows_the_bound_the_shortest_output_sets(invoke):
    """Under a TPOT bound the batch comes from the p99 step time: explain names the tail spread it
    used, the calibrated one, or mean / shortest output when the workload states its shortest."""
    chip = "NVIDIA H100 SXM"
    fitted = _steps(_explain(invoke, "support-chatbot-70b", "--chip", chip))
    assert fitted["p99_tail_spread"]["value"] == fitted["p99_tail_spread"]["inputs"][0]["value"] > 1
    assert "p99_tail_spread" in [i["name"] for i in fitted["max_batch_for_slo"]["inputs"]]
    fixed = _steps(_explain(invoke, "support-chatbot-70b", "--chip", chip, "--set", "output_tokens_min=300"))
    assert fixed["p99_tail_spread"]["value"] == 1.0  # every output 300 tokens: Poisson spread only
    assert fixed["max_batch_for_slo"]["value"] > fitted["max_batch_for_slo"]["value"]
