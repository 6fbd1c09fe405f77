"""Issue 11: every chip the market asks about is usable; prices on one stated basis;
estimates carry ranges; dataflow chips modelled as pipelines and anchored on vendor claims."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from inferchip import cloud, dataflow, estimates
from inferchip.calibration import attach_factors
from inferchip.catalog import load_catalog
from inferchip.cli import app
from inferchip.compare import evaluate, run_compare, scenario_frame
from inferchip.errors import InputError, UsageError
from inferchip.inputs import load_inputs

DATA = Path(__file__).resolve().parent.parent / "data"
runner = CliRunner()

# The chips the issue names, by catalog name, with the workload they must serve.
NAMED = ("NVIDIA T4", "NVIDIA L4", "NVIDIA A100 80GB SXM", "NVIDIA H100 SXM", "NVIDIA H200 SXM", "NVIDIA H20",
         "NVIDIA B200", "AMD MI300X", "Intel Gaudi 3", "Google TPU v5e", "Google TPU v6e", "AWS Inferentia2",
         "AWS Trainium2", "Groq LPU", "Cerebras CS-3", "SambaNova SN40L", "Qualcomm Cloud AI 100 Standard",
         "Qualcomm Cloud AI 100 Ultra", "Huawei Ascend 910B")
# Chips with no public price at all: they may stay unpriced, with that reason shown.
NO_PUBLIC_PRICE = {"SambaNova SN40L", "Huawei Ascend 910B"}
# A reason that names a real limit (or the one missing public fact), never a missing catalog cell.
ACCEPTED_REASONS = ("model does not fit", "TTFT SLO missed", "TPOT SLO missed", "no public price")


def _single_user(tmp_path: Path, preset: str, precision: str) -> Path:
    """A one-user workload shaped like the vendors' speed tests (1000 in / 300 out, loose SLO)."""
    path = tmp_path / f"{preset}-{precision}.toml"
    path.write_text(f'schema_version = 1\nname = "single-user"\nkind = "llm"\n[model]\npreset = "{preset}"\n'
                    f'precision = "{precision}"\nkv_precision = "fp8"\n[traffic]\nqueries_per_day = 1000\n'
                    'peak_to_average = 1.0\ninput_tokens = 1000\noutput_tokens = 300\n[slo]\nttft_ms = 60000\n'
                    'tpot_ms = 1000\n')
    return path


def _per_user_tokens_per_s(workload: Path, chip: str) -> float:
    inputs = load_inputs(str(workload))
    chips = attach_factors(inputs.chips[inputs.chips["name"] == chip])
    trace: dict = {}
    evaluate("llm", chips, scenario_frame(inputs.workload, inputs.assumptions), inputs.workload.precision,
             inputs.workload.kv_precision, trace=trace)
    return 1000.0 / float(trace["tpot_b1"][0])


# -- coverage ------------------------------------------------------------------------------

def test_catalog_has_at_least_40_accelerators_including_the_late_2026_market():
    names = set(load_catalog()["name"])
    assert len(names) >= 40
    for name in ("NVIDIA B300 (HGX)", "NVIDIA GB300 NVL72", "AMD MI350X", "AMD MI355X",
                 "NVIDIA RTX PRO 6000 Blackwell SE", "Google TPU7x (Ironwood)", "AWS Trainium3",
                 "Intel Gaudi 3 PCIe (HL-338)", "Huawei Ascend 910C", "NVIDIA RTX PRO 4500 Blackwell",
                 "Intel Arc Pro B60"):
        assert name in names


@pytest.mark.parametrize("queries_per_day", [1_000_000, 100_000])
def test_named_chips_get_a_cost_or_a_real_reason_on_70b_chatbots(queries_per_day):
    inputs = load_inputs(None, sets=[f"queries_per_day={queries_per_day}"])
    results = run_compare(inputs.workload, inputs.assumptions, inputs.chips).set_index("accelerator")
    for name in NAMED:
        row = results.loc[name]
        if name in NO_PUBLIC_PRICE:
            assert row["infeasible_reason"].startswith("no public price"), name
            assert np.isfinite(row["tokens_per_s_per_accelerator"]), f"{name}: throughput still modelled"
        elif not row["feasible"]:
            assert row["infeasible_reason"].startswith(ACCEPTED_REASONS), (name, row["infeasible_reason"])
        else:
            assert np.isfinite(row["cost_per_query_usd"]) and row["cost_per_query_usd"] > 0, name


def test_jetson_serves_a_small_model():
    inputs = load_inputs("assistant-8b-high-volume")
    results = run_compare(inputs.workload, inputs.assumptions, inputs.chips).set_index("accelerator")
    assert results.loc["NVIDIA Jetson AGX Orin 64GB", "feasible"]


def test_unpriced_new_chips_stay_usable_for_throughput():
    inputs = load_inputs(None)
    results = run_compare(inputs.workload, inputs.assumptions, inputs.chips).set_index("accelerator")
    for name in ("Google TPU7x (Ironwood)", "AWS Trainium3", "AMD MI350X"):
        assert results.loc[name, "price_basis"] == "unpriced"
        assert results.loc[name, "infeasible_reason"].startswith("no public price")
        assert results.loc[name, "tokens_per_s_per_accelerator"] > 0


# -- price basis ---------------------------------------------------------------------------

def test_every_cloud_price_names_its_provider_date_and_source():
    table = cloud.read_cloud_prices()
    assert len(table) >= 30
    assert (table["provider"].str.len() > 1).all()
    assert table["as_of"].str.match(r"^\d{4}-\d{2}").all()
    assert (table["source"].str.len() > 10).all()
    assert table["term"].isin(cloud.TERMS).all()
    names = set(load_catalog()["name"].str.lower())
    assert set(table["accelerator"].str.lower()) <= names, "every cloud price names a catalog row"


def test_default_policy_is_the_lowest_hyperscaler_on_demand_price():
    chips = load_catalog().set_index("name")
    b300 = chips.loc["NVIDIA B300 (HGX)"]  # AWS 17.80, Oracle 15.00 (hyperscalers), Hyperstack 7.40 (neocloud)
    assert (b300["cloud_usd_per_hour"], b300["cloud_provider"]) == (15.0, "Oracle Cloud")
    pcie = chips.loc["NVIDIA H100 PCIe"]  # no hyperscaler: lowest neocloud, said so
    assert pcie["cloud_provider"] == "Hyperstack" and "no hyperscaler" in pcie["cloud_basis"]
    v6e = chips.loc["Google TPU v6e"]
    assert (v6e["cloud_commit_usd_per_hour"], v6e["cloud_commit_term"]) == (1.22, "3yr")


def test_cloud_provider_policies():
    lowest = load_catalog(cloud_provider="lowest").set_index("name").loc["NVIDIA B300 (HGX)"]
    assert (lowest["cloud_usd_per_hour"], lowest["cloud_provider"]) == (7.4, "Hyperstack")
    aws = load_catalog(cloud_provider="aws").set_index("name")
    assert aws.loc["NVIDIA B300 (HGX)", "cloud_usd_per_hour"] == 17.8
    assert np.isnan(aws.loc["Google TPU v6e", "cloud_usd_per_hour"]), "AWS does not rent TPUs"
    with pytest.raises(UsageError, match="unknown provider"):
        load_catalog(cloud_provider="awss")


def test_a_catalog_cloud_price_wins_over_the_table(tmp_path):
    patch = tmp_path / "rent.csv"
    patch.write_text("name,cloud_usd_per_hour,cloud_source,cloud_as_of\nNVIDIA H100 SXM,2.1,our contract,2026-11\n")
    row = load_catalog(extend=[patch]).set_index("name").loc["NVIDIA H100 SXM"]
    assert (row["cloud_usd_per_hour"], row["cloud_provider"], row["cloud_source"]) == (2.1, "catalog", "our contract")


def test_compare_json_names_the_provider_of_every_rented_row():
    result = runner.invoke(app, ["compare", "--format", "json", "--cloud-provider", "lowest"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)["results"]
    rented = [r for r in rows if r["price_basis"] == "rented"]
    assert rented and all(r["cloud_provider"] for r in rented)
    assert all(r["cloud_provider"] == "" for r in rows if r["price_basis"] != "rented")
    by_name = {r["accelerator"]: r for r in rows}
    assert by_name["NVIDIA B300 (HGX)"]["cloud_provider"] == "Hyperstack"


def test_unknown_cloud_provider_is_a_one_line_usage_error():
    result = runner.invoke(app, ["compare", "--cloud-provider", "Amazone"])
    assert result.exit_code != 0
    assert "unknown provider" in result.stderr and "Traceback" not in result.output


# -- estimates and ranges --------------------------------------------------------------------

def test_every_range_brackets_its_catalog_value_and_names_a_source():
    chips = load_catalog()
    table = estimates.read_ranges()
    applied = estimates.applicable(chips, table)
    assert len(applied) == len(table), "a range whose value moved out of it would silently stop applying"


def test_every_estimated_price_is_flagged_with_a_range():
    chips = load_catalog()
    ranged = set(zip(*estimates.applicable(chips)[["position", "column"]].to_numpy().T, strict=True))
    for i in np.flatnonzero(chips["price_is_estimate"].to_numpy()):
        column = "server_price_usd" if np.isfinite(chips["server_price_usd"].iat[i]) else "accelerator_price_usd"
        assert (i, column) in ranged, f"{chips['name'].iat[i]}: {column} is an estimate without a range"


def test_estimated_columns_flag_the_row():
    row = load_catalog().set_index("name").loc["Cerebras CS-3"]
    assert "bf16_tflops 15800 (12000..19000, derived)" in row["estimated_columns"]


def test_a_patched_value_outside_the_range_drops_the_estimate(tmp_path):
    patch = tmp_path / "quote.csv"
    patch.write_text("name,server_price_usd\nCerebras CS-3,1500000\n")
    row = load_catalog(extend=[patch]).set_index("name").loc["Cerebras CS-3"]
    assert "server_price_usd" not in row["estimated_columns"]


def test_draw_values_is_triangular_within_the_range():
    chips = load_catalog()
    drawn = estimates.draw_values(chips, 20_000, np.random.default_rng(1))
    i = int(np.flatnonzero(chips["name"] == "Cerebras CS-3")[0])
    values = drawn["bf16_tflops"][:, i]
    assert values.min() >= 12000 and values.max() <= 19000
    assert values.mean() == pytest.approx((12000 + 15800 + 19000) / 3, rel=0.01)  # triangular mean
    j = int(np.flatnonzero(chips["name"] == "NVIDIA H100 PCIe")[0])  # no range: the catalog value
    assert (drawn["bf16_tflops"][:, j] == chips["bf16_tflops"].iat[j]).all()


def test_bad_range_file_lists_every_problem(tmp_path):
    bad = tmp_path / "ranges.csv"
    bad.write_text("name,column,low,high,basis,source,as_of,note\nX,tdp_w,5,1,guess,,,\nX,notes,1,2,estimate,s,2026,\n")
    with pytest.raises(InputError) as info:
        estimates.read_ranges(bad)
    message = str(info.value)
    assert "line 2: low '5' and high '1'" in message and "basis 'guess'" in message
    assert "line 3: column 'notes' cannot carry a range" in message


def test_uncertainty_draws_estimated_catalog_values():
    from inferchip import uncertainty

    inputs = load_inputs(None)
    chips = inputs.chips[inputs.chips["name"].isin(["Cerebras CS-3", "NVIDIA H100 SXM"])]
    held = uncertainty.run(inputs.workload, inputs.assumptions, chips, 64, 3, sample_catalog=False, threads=1)
    drawn = uncertainty.run(inputs.workload, inputs.assumptions, chips, 64, 3, threads=1)
    assert any(r["accelerator"] == "Cerebras CS-3" and r["column"] == "server_price_usd"
               for r in drawn.catalog_ranges)
    a = held.summary.set_index("accelerator").loc["Cerebras CS-3", "p50_cost_per_query_usd"]
    b = drawn.summary.set_index("accelerator").loc["Cerebras CS-3", "p50_cost_per_query_usd"]
    assert a != b


# -- dataflow ------------------------------------------------------------------------------

def test_pipeline_overhead_hand_computed():
    # 0.1 ms + 80 layers x 42.86 us + (ceil(344 / 8) - 1 = 42 boundaries) x 10 us
    got = dataflow.pipeline_overhead_ms(80, 344, 8, 0.1, 42.86, 10.0)
    assert got == pytest.approx(0.1 + 80 * 0.04286 + 42 * 0.010)


def test_pipeline_step_and_operating_point_hand_computed():
    # s = 4 stages, A = 1, B = 0.1, C = 0.2, D = 0, E = 0, O = 2 [ms]: 4 x (1 + 0.3 x 1) + 2
    assert dataflow.pipeline_step_ms(1.0, 4, 1.0, 0.1, 0.2, 0.0, 0.0, 2.0) == pytest.approx(4 * 1.3 + 2)
    # budget 10: 4 (1 + 0.3 b) + 2 <= 10 -> b <= (10 - 2 - 4) / 1.2 = 10 / 3
    b_slo, in_flight, tpot, tokens, tpot_b1 = dataflow.pipeline_operating_point(
        stages=4.0, budget_ms=10.0, b_mem=25.0, max_batch=256.0, a_ms=1.0, b_ms=0.1, c_ms=0.2, d_ms=0.0, e_ms=0.0,
        overhead_ms=2.0)
    assert b_slo == pytest.approx(10.0 / 3.0)
    assert in_flight == 13.0  # the SLO binds: floor(4 x 10 / 3) < 25 in memory
    assert tpot == pytest.approx(4 * (1.0 + 0.3 * 3.25) + 2.0)  # microbatch 13 / 4 = 3.25
    assert tokens == pytest.approx(13.0 / tpot * 1000.0)
    assert tpot_b1 == pytest.approx(7.2)


@pytest.mark.parametrize(("chip", "preset", "precision"), [
    ("Groq LPU", "llama-3.1-70b", "fp8"),  # int8 on the GroqChip
    ("Cerebras CS-3", "llama-3.1-70b", "bf16"),
    ("Groq LPU", "llama-2-70b", "fp8"),  # out of sample: ~300 tokens/s on ~576 chips
    ("Groq LPU", "llama-3.1-8b", "fp8"),  # out of sample
    ("Cerebras CS-3", "llama-3.1-8b", "bf16"),  # out of sample
])
def test_dataflow_per_user_speed_within_30_percent_of_the_vendor_claim(tmp_path, chip, preset, precision):
    claims = dataflow.read_vendor_speeds()
    claim = float(claims[(claims["accelerator"] == chip) & (claims["model"] == preset)]["tokens_per_s_per_user"].iat[0])
    speed = _per_user_tokens_per_s(_single_user(tmp_path, preset, precision), chip)
    assert speed == pytest.approx(claim, rel=0.30)


def test_gpu_rows_are_not_pipelines():
    chips = load_catalog()
    pipeline = set(chips.loc[dataflow.is_pipeline(chips), "name"])
    assert pipeline == {"Groq LPU", "NVIDIA Groq 3 LPX (LP30)", "Cerebras CS-3"}


def test_explain_shows_the_vendor_claim_behind_a_dataflow_row(tmp_path):
    workload = _single_user(tmp_path, "llama-3.1-70b", "fp8")
    result = runner.invoke(app, ["explain", str(workload), "--chip", "Groq LPU", "--format", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    steps = {s["name"]: s for s in doc["steps"]}
    assert steps["per_user_tokens_per_s"]["value"] == pytest.approx(250, rel=0.02)
    assert "vendor-claim: llama-3.1-70b int8 250 tokens/s per user" in steps["per_user_tokens_per_s"]["description"]
    assert steps["tpot_ms"]["formula"].startswith("TPOT_pipe(b)")
    assert "vendor-claim" in doc["result"]["throughput_reference"]


def test_vendor_claims_stay_out_of_mlperf_data():
    bench = pd.read_csv(DATA / "benchmarks.csv", dtype=str, keep_default_na=False)
    claims = dataflow.read_vendor_speeds()
    assert (claims["measurement_kind"] == "vendor-claim").all()
    assert not bench["source"].str.contains("vendor-claim").any()


# -- catalog validate of patch files ---------------------------------------------------------

def test_catalog_validate_accepts_the_readme_quote_file(tmp_path):
    quotes = tmp_path / "our-quotes.csv"
    quotes.write_text("name,server_price_usd,price_is_estimate,price_source,price_as_of\n"
                      "NVIDIA H100 SXM,250000,false,Vendor X quote Q-2026-114,2026-11\n"
                      "AMD MI300X,210000,false,Vendor Y quote 7781,2026-10\n")
    result = runner.invoke(app, ["catalog", "validate", str(quotes)])
    assert result.exit_code == 0, result.output
    assert "OK, a patch of 2 accelerator(s)" in result.stderr


def test_catalog_validate_patch_names_an_unknown_row(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("name,server_price_usd\nNVIDIA H999,1\n")
    result = runner.invoke(app, ["catalog", "validate", "--patch", str(bad)])
    assert result.exit_code == 2
    assert "line 2: 'NVIDIA H999' is not in the catalog" in result.stderr
    full = runner.invoke(app, ["catalog", "validate", "--full", str(bad)])
    assert full.exit_code == 2 and "missing required column 'vendor'" in full.stderr


def test_cloud_pick_ties_go_to_the_provider_name_then_the_region():
    """Equal prices: the provider first by name, then its region; the commitment pick the same way."""
    chips = load_catalog().head(1)[["name"]].assign(cloud_usd_per_hour=np.nan)
    key = chips["name"].iat[0]
    rows = [(key, "Zeta", "neocloud", "b", "on-demand", 2.0), (key, "Alpha", "neocloud", "z", "on-demand", 2.0),
            (key, "Alpha", "neocloud", "a", "on-demand", 2.0), (key, "Beta", "neocloud", "", "on-demand", 2.5),
            (key, "Zeta", "neocloud", "", "3yr", 1.0), (key, "Beta", "neocloud", "", "1yr", 1.0)]
    table = pd.DataFrame([dict(zip(("accelerator", "provider", "provider_class", "region", "term",
                                    "usd_per_accelerator_hour"), r, strict=True),
                               instance="", is_estimate=False, as_of="2026-11", source=f"row {i}")
                          for i, r in enumerate(rows)]).assign(_key=lambda f: f["accelerator"].str.lower())
    row = cloud.attach_cloud(chips, "lowest", table).iloc[0]
    assert (row["cloud_provider"], row["cloud_region"], row["cloud_usd_per_hour"]) == ("Alpha", "a", 2.0)
    assert (row["cloud_commit_provider"], row["cloud_commit_term"]) == ("Beta", "1yr")
    assert "no hyperscaler" in cloud.attach_cloud(chips, "default", table).iloc[0]["cloud_basis"]
