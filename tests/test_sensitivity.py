"""`inferchip sensitivity`: one-at-a-time swings agree with `compare --set`, ranking,
where the winner changes, and the CLI."""

import csv
import io
import json
import math

import pytest

from inferchip import sensitivity as sens
from inferchip.compare import run_compare
from inferchip.inputs import load_inputs


@pytest.fixture(scope="module")
def base():
    return load_inputs(None)


@pytest.fixture(scope="module")
def result(base):
    return sens.run(base.workload, base.assumptions, base.chips, top=3)


def _compare_costs(sets):
    inputs = load_inputs(None, sets=sets)
    frame = run_compare(inputs.workload, inputs.assumptions, inputs.chips)
    return dict(zip(frame["accelerator"], frame["cost_per_query_usd"], strict=True))


def test_base_winner_and_top_match_compare(base, result):
    ranked = run_compare(base.workload, base.assumptions, base.chips)
    feasible = ranked[ranked["feasible"]]
    assert result.base_winner == feasible["accelerator"].iloc[0]
    assert result.base["accelerator"].tolist() == feasible["accelerator"].head(3).tolist()
    assert result.base["cost_per_query_usd"].tolist() == pytest.approx(feasible["cost_per_query_usd"].head(3).tolist())


@pytest.mark.parametrize("key", ["pue", "electricity_usd_per_kwh", "server_life_years", "utilisation_target"])
def test_swing_ends_equal_compare_with_set(base, result, key):
    spec = base.assumptions.specs[key]
    rows = result.rows[result.rows["key"] == key].set_index("accelerator")
    for end, column in ((spec.low, "cost_at_low_usd"), (spec.high, "cost_at_high_usd")):
        expected = _compare_costs([f"{key}={end}"])
        for name, row in rows.iterrows():
            assert row[column] == pytest.approx(expected[name], rel=1e-12), (key, end, name)


def test_ranked_by_winner_swing_and_swing_is_hand_computed(result):
    swings = result.keys["winner_swing_usd"].tolist()
    assert swings == sorted(swings, reverse=True)
    for _, r in result.keys.iterrows():
        assert r["winner_swing_usd"] == pytest.approx(abs(r["winner_cost_at_high_usd"] - r["winner_cost_at_low_usd"]))
        assert r["winner_changes"] == (r["winner_at_low"] != result.base_winner
                                       or r["winner_at_high"] != result.base_winner)


def test_every_ranged_assumption_is_swung_once(base, result):
    ranged = [k for k, s in base.assumptions.specs.items()
              if s.low is not None and s.high is not None and s.low != s.high]
    assert sorted(result.keys["key"]) == sorted(ranged)
    assert len(result.rows) == len(ranged) * 3


def test_facility_keys_matter_only_for_an_owned_facility(base, result):
    coloc = result.keys.set_index("key")
    assert coloc.loc["facility_build_usd_per_w", "winner_swing_usd"] == 0
    assert coloc.loc["colocation_usd_per_kw_month", "winner_swing_usd"] > 0
    owned_inputs = load_inputs(None, sets=["facility_model=owned"])
    owned = sens.run(owned_inputs.workload, owned_inputs.assumptions, owned_inputs.chips, top=2).keys.set_index("key")
    assert owned.loc["colocation_usd_per_kw_month", "winner_swing_usd"] == 0
    assert owned.loc["facility_build_usd_per_w", "winner_swing_usd"] > 0


def test_dearer_inputs_cost_more(result):
    """Prices and overheads at their high end never make a query cheaper."""
    for key in ("electricity_usd_per_kwh", "pue", "colocation_usd_per_kw_month", "maintenance_fraction_per_year",
                "network_capex_fraction", "staff_usd_per_server_year", "cost_of_capital"):
        rows = result.rows[result.rows["key"] == key]
        assert (rows["cost_at_high_usd"] >= rows["cost_at_low_usd"]).all(), key


def test_cli_json(invoke):
    result = invoke("sensitivity", "--top", "2", "--format", "json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["schema_version"] == 1 and doc["command"] == "sensitivity"
    assert doc["base_winner"] == doc["base"][0]["accelerator"]
    assert {r["accelerator"] for r in doc["results"]} == {r["accelerator"] for r in doc["base"]}
    assert doc["winner_changes_for"] == [r["key"] for r in doc["tornado"] if r["winner_changes"]]
    assert all(isinstance(r["source"], str) and r["source"] for r in doc["tornado"])
    assert "NaN" not in result.stdout


def test_cli_csv_and_table(invoke):
    rows = list(csv.DictReader(io.StringIO(invoke("sensitivity", "--top", "2", "--format", "csv").stdout)))
    assert rows and list(rows[0])[:3] == ["key", "accelerator", "low"]
    assert all(not math.isnan(float(r["swing_usd"])) for r in rows)
    table = invoke("sensitivity", "--top", "2", "--format", "table").stdout
    assert "Sensitivity of support-chatbot-70b" in table and "cheaper" in table and "dearer" in table


def test_cli_no_feasible_accelerator(invoke):
    result = invoke("sensitivity", "--set", "tpot_ms=0.001", "--format", "json")
    assert result.exit_code == 4
    assert "no accelerator can serve this workload" in result.stderr and result.stdout == ""


def test_cli_help(invoke):
    result = invoke("sensitivity", "--help")
    assert result.exit_code == 0 and "inferchip sensitivity" in result.stdout
