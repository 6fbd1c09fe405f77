"""`inferchip breakeven`: API prices, the three alternatives, break-even volume and
payback against hand computations and `compare --set queries_per_day=...`."""

import json

import numpy as np
import pytest

from inferchip import breakeven as be
from inferchip.compare import run_compare
from inferchip.errors import InputError
from inferchip.inputs import load_inputs
from inferchip.units import DAYS_PER_YEAR


@pytest.fixture(scope="module")
def base():
    return load_inputs(None)


@pytest.fixture(scope="module")
def result(base):
    return be.run(base.workload, base.assumptions, base.chips)


def _compare_at(volume: float):
    inputs = load_inputs(None, sets=[f"queries_per_day={float(volume)!r}"])
    return run_compare(inputs.workload, inputs.assumptions, inputs.chips).set_index("accelerator")


def test_bundled_api_prices_are_sourced():
    prices = be.read_api_prices()
    assert len(prices) >= 10
    assert (prices["source"].str.len() > 0).all() and (prices["as_of"].str.len() >= 7).all()
    assert (prices["usd_per_million_input_tokens"] > 0).all()


def test_api_price_file_problems_name_line_and_column(tmp_path):
    bad = tmp_path / "api.csv"
    bad.write_text(",".join(be.API_COLUMNS) + "\nX,m,llama-2-70b,-1,0.5,,2026-01,\n")
    with pytest.raises(InputError) as caught:
        be.read_api_prices(bad)
    message = caught.value.message
    assert f"{bad}: line 2: column 'source' is empty" in message
    assert f"{bad}: line 2: column 'usd_per_million_input_tokens': must be a positive price" in message
    missing = tmp_path / "short.csv"
    missing.write_text("provider,model\n")
    with pytest.raises(InputError, match="line 1: missing column"):
        be.read_api_prices(missing)


def test_api_cost_per_query_hand_computed(base):
    options = be.api_options(base.workload, be.read_api_prices())
    # support-chatbot-70b: 1,000 input and 300 output tokens; llama-2-70b at 0.90 / 0.90 USD per million
    assert base.workload.input_tokens == 1000 and base.workload.output_tokens == 300
    row = options[options["model"] == "meta-llama/Llama-2-70b-hf"].iloc[0]
    assert row["cost_per_query_usd"] == pytest.approx((1000 * 0.9 + 300 * 0.9) / 1e6)
    assert options["cost_per_query_usd"].is_monotonic_increasing


def test_options_at_the_profile_volume(base, result):
    ref = _compare_at(base.workload.queries_per_day)
    d = base.assumptions["committed_use_discount"]
    for _, r in result.results.iterrows():
        c = ref.loc[r["accelerator"]]
        if r["price_basis"] == "owned" and c["feasible"]:
            assert r["own_cost_per_query_usd"] == pytest.approx(c["cost_per_query_usd"], rel=1e-12)
        if np.isfinite(r["on_demand_cost_per_query_usd"]):
            assert r["on_demand_cost_per_query_usd"] == pytest.approx(c["cloud_cost_per_query_usd"], rel=1e-12)
            assert r["committed_cost_per_query_usd"] == pytest.approx(r["on_demand_cost_per_query_usd"] * (1 - d))


def test_breakeven_volume_is_where_owning_starts_to_win(result):
    """At the break-even volume owning costs no more than the API; just below it, more."""
    rows = result.results[result.results["owning_vs_api"] == "breakeven"]
    assert len(rows) >= 3
    api = float(result.api["cost_per_query_usd"].iloc[0])
    for _, r in rows.head(3).iterrows():
        volume = r["breakeven_queries_per_day_vs_api"]
        assert _compare_at(volume).loc[r["accelerator"], "cost_per_query_usd"] <= api
        assert _compare_at(volume * (1 - 1e-6)).loc[r["accelerator"], "cost_per_query_usd"] > api


def test_breakeven_vs_on_demand(result):
    rows = result.results[result.results["owning_vs_on_demand"] == "breakeven"]
    assert len(rows)
    r = rows.iloc[0]
    at = _compare_at(r["breakeven_queries_per_day_vs_on_demand"]).loc[r["accelerator"]]
    assert at["cost_per_query_usd"] <= at["cloud_cost_per_query_usd"]
    below = _compare_at(r["breakeven_queries_per_day_vs_on_demand"] * (1 - 1e-6)).loc[r["accelerator"]]
    assert below["cost_per_query_usd"] > below["cloud_cost_per_query_usd"]


def test_payback_hand_computed(base, result):
    annual_queries = base.workload.queries_per_day * DAYS_PER_YEAR
    rows = result.results[np.isfinite(result.results["payback_months_vs_api"])]
    assert len(rows)
    for _, r in rows.iterrows():
        saving = (r["api_cost_per_query_usd"] * annual_queries - r["annual_opex_usd"]) / 12
        assert r["payback_months_vs_api"] == pytest.approx(r["capex_usd"] / saving)
    never = result.results[(result.results["price_basis"] == "owned")
                           & (result.results["api_cost_per_query_usd"] * annual_queries
                              < result.results["annual_opex_usd"])]
    assert never["payback_months_vs_api"].isna().all()


def test_statuses(result):
    frame = result.results
    rented = frame[frame["price_basis"] != "owned"]
    assert (rented["owning_vs_api"] == "cannot own").all()
    no_cloud = frame[(frame["price_basis"] == "owned") & frame["on_demand_cost_per_query_usd"].isna()
                     & frame["feasible"]]
    assert (no_cloud["owning_vs_on_demand"] == "no such option").all()
    assert frame["breakeven_queries_per_day_vs_api"].notna().sum() == (frame["owning_vs_api"] == "breakeven").sum()


def test_fixed_workload_has_no_api():
    inputs = load_inputs("video-analytics-resnet50")
    result = be.run(inputs.workload, inputs.assumptions, inputs.chips)
    assert result.api.empty and "fixed-work" in result.api_note
    assert result.results["api_cost_per_query_usd"].isna().all()


def test_cli_json_and_table(invoke):
    result = invoke("breakeven", "--top", "4", "--format", "json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["schema_version"] == 1 and doc["command"] == "breakeven"
    assert len(doc["results"]) == 4 and doc["api_options"][0]["source"]
    assert doc["committed_use_discount"] == doc["assumptions"]["committed_use_discount"]["value"]
    table = invoke("breakeven", "--format", "table")
    assert table.exit_code == 0 and "Owning beats the alternative from" in table.stdout


def test_cli_discount_override(invoke):
    doc = json.loads(invoke("breakeven", "--set", "committed_use_discount=0.5", "--format", "json").stdout)
    rows = [r for r in doc["results"] if r["on_demand_cost_per_query_usd"] is not None]
    assert rows and all(r["committed_cost_per_query_usd"] == pytest.approx(r["on_demand_cost_per_query_usd"] / 2)
                        for r in rows)
    bad = invoke("breakeven", "--set", "committed_use_discount=1.2")
    assert bad.exit_code == 2 and "committed_use_discount" in bad.stderr


def test_cli_help(invoke):
    result = invoke("breakeven", "--help")
    assert result.exit_code == 0 and "inferchip breakeven" in result.stdout
