"""Properties of the whole pipeline on the bundled catalog (issue 2 and issue 7):
cost never falls when a price rises, more traffic never shrinks the fleet, and
a chip's result depends neither on the catalog's row order nor on the other rows."""

from __future__ import annotations

import math
import os

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inferchip import assumptions as assumptions_mod
from inferchip import workload as workload_mod
from inferchip.catalog import load_catalog
from inferchip.compare import run_compare
from inferchip.data_files import bundled_workloads
from inferchip.tomlfile import read_toml

EXAMPLES = int(os.environ.get("INFERCHIP_PROPERTY_EXAMPLES", os.environ.get("INFERCHIP_FUZZ_EXAMPLES", "15")))
PROPERTY = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])

CATALOG = load_catalog()
SPECS = assumptions_mod.load_specs()
RAW_PROFILES = {name: read_toml(path) for name, path in bundled_workloads().items()}
CATALOG_PRICES = ("server_price_usd", "accelerator_price_usd", "cloud_usd_per_hour")
ASSUMPTION_PRICES = ("electricity_usd_per_kwh", "colocation_usd_per_kw_month", "facility_build_usd_per_w",
                     "facility_opex_usd_per_w_month", "staff_usd_per_server_year",
                     "software_usd_per_accelerator_year", "maintenance_fraction_per_year",
                     "network_capex_fraction", "pue", "cost_of_capital")
COMPARED = ["accelerator", "feasible", "infeasible_reason", "chips_per_replica", "batch_size", "replicas",
            "accelerators", "servers", "racks", "tpot_ms", "latency_ms", "capex_usd", "annual_tco_usd",
            "cost_per_query_usd", "cost_per_million_tokens_usd", "energy_per_query_j", "kw_per_rack"]


@st.composite
def scenarios(draw):
    """A bundled profile with its traffic and shape moved, and a few assumptions changed;
    drawn as plain data (compact when hypothesis reports a case), built by `build`."""
    name = draw(st.sampled_from(sorted(RAW_PROFILES)))
    traffic = {"queries_per_day": draw(st.floats(min_value=1.0, max_value=1e10)),
               "peak_to_average": draw(st.floats(min_value=1.0, max_value=10.0))}
    if RAW_PROFILES[name].get("kind", "llm") == "llm":
        traffic["input_tokens"] = draw(st.floats(min_value=1.0, max_value=32_000.0))
        traffic["output_tokens"] = draw(st.floats(min_value=1.0, max_value=4_000.0))
    values = {
        "utilisation_target": draw(st.floats(min_value=0.05, max_value=1.0)),
        "electricity_usd_per_kwh": draw(st.one_of(st.just(0.0), st.floats(min_value=1e-3, max_value=1.0))),
        "facility_model": draw(st.sampled_from(["colocation", "owned"])),
        "capital_charge": draw(st.sampled_from(["annuity", "straight_line"])),
    }
    return name, traffic, values


def build(scenario) -> tuple[workload_mod.Workload, assumptions_mod.Assumptions]:
    name, traffic, values = scenario
    raw = {k: (dict(v) if isinstance(v, dict) else v) for k, v in RAW_PROFILES[name].items()}
    raw["traffic"].pop("peak_queries_per_s", None)
    raw["traffic"].update(traffic)
    raw["economics"] = {}
    return workload_mod.from_dict(raw, f"{name}.toml"), assumptions_mod.resolve([("property", values)], SPECS)


def by_name(results: pd.DataFrame) -> pd.DataFrame:
    return results.set_index("accelerator").sort_index()


def costs_not_lower(before: pd.Series, after: pd.Series) -> None:
    both = before.notna() & after.notna()
    assert (before.notna() == after.notna()).all(), "feasibility must not change with a price"
    assert (after[both] >= before[both]).all(), pd.DataFrame({"before": before, "after": after})[both]


@PROPERTY
@given(scenarios(), st.sampled_from(CATALOG_PRICES), st.floats(min_value=1.0, max_value=20.0),
       st.integers(0, len(CATALOG) - 1))
def test_cost_never_falls_when_a_chip_price_rises(scenario, column, factor, row):
    workload, assumptions = build(scenario)
    base = by_name(run_compare(workload, assumptions, CATALOG))
    raised_catalog = CATALOG.assign(**{column: CATALOG[column].where(CATALOG.index != row,
                                                                     CATALOG[column] * factor)})
    raised = by_name(run_compare(workload, assumptions, raised_catalog))
    for field in ("cost_per_query_usd", "annual_tco_usd", "capex_usd", "cost_per_million_tokens_usd"):
        costs_not_lower(base[field], raised[field])
    others = base.index != CATALOG["name"].iat[row]
    pd.testing.assert_frame_equal(base[others][COMPARED[1:]], raised[others][COMPARED[1:]])


@PROPERTY
@given(scenarios(), st.sampled_from(ASSUMPTION_PRICES), st.floats(min_value=1.0, max_value=5.0))
def test_cost_never_falls_when_a_site_price_rises(scenario, key, factor):
    workload, assumptions = build(scenario)
    value = float(assumptions.values[key])
    low, low_ok, high, high_ok = assumptions_mod._RANGES.get(key, (0.0, True, None, False))
    raised_value = value * factor if value > 0 else factor - 1.0 + 1e-3  # inputs below 1e-6 are refused
    if high is not None:
        raised_value = min(raised_value, high)
    raised_assumptions = assumptions_mod.resolve([("property", {**assumptions.values, key: raised_value})], SPECS)
    base = by_name(run_compare(workload, assumptions, CATALOG))
    raised = by_name(run_compare(workload, raised_assumptions, CATALOG))
    for field in ("cost_per_query_usd", "annual_tco_usd"):
        costs_not_lower(base[field], raised[field])


@PROPERTY
@given(scenarios(), st.floats(min_value=1.0, max_value=100.0))
def test_more_traffic_never_shrinks_the_fleet(scenario, factor):
    workload, assumptions = build(scenario)
    base = by_name(run_compare(workload, assumptions, CATALOG))
    busier = workload_mod.Workload(**{**workload.__dict__, "queries_per_day": workload.queries_per_day * factor})
    more = by_name(run_compare(busier, assumptions, CATALOG))
    assert (base["feasible"] == more["feasible"]).all()
    feasible = base["feasible"]
    # replicas alone may fall: a busier fleet can switch to a larger parallel size; the unit
    # count may fall too (seven 1-GPU servers become one 8-GPU server): accelerators bought may not
    for field in ("accelerators", "accelerators_bought", "annual_tco_usd"):
        assert (more.loc[feasible, field] >= base.loc[feasible, field]).all(), field
    racks = feasible & base["racks"].notna()
    assert (more.loc[racks, "racks"] >= base.loc[racks, "racks"]).all()


@PROPERTY
@given(scenarios())
def test_doubling_traffic_never_shrinks_the_fleet(scenario):
    workload, assumptions = build(scenario)
    base = by_name(run_compare(workload, assumptions, CATALOG))
    double = workload_mod.Workload(**{**workload.__dict__, "queries_per_day": workload.queries_per_day * 2})
    doubled = by_name(run_compare(double, assumptions, CATALOG))
    feasible = base["feasible"]
    assert (doubled["feasible"] == feasible).all()
    assert (doubled.loc[feasible, "accelerators"] >= base.loc[feasible, "accelerators"]).all()
    # and never more than doubles it, plus one rounding step per replica size
    bound = 2 * base.loc[feasible, "accelerators"] + base.loc[feasible, "chips_per_replica"]
    assert (doubled.loc[feasible, "accelerators"] <= bound).all()


@PROPERTY
@given(scenarios(), st.permutations(range(len(CATALOG))))
def test_results_do_not_depend_on_catalog_row_order(scenario, order):
    workload, assumptions = build(scenario)
    base = run_compare(workload, assumptions, CATALOG)
    shuffled = run_compare(workload, assumptions, CATALOG.iloc[list(order)].reset_index(drop=True))
    pd.testing.assert_frame_equal(base[COMPARED], shuffled[COMPARED])  # same rows, same ranking


@PROPERTY
@given(scenarios(), st.sets(st.integers(0, len(CATALOG) - 1), min_size=1))
def test_a_chip_result_does_not_depend_on_the_other_rows(scenario, keep):
    workload, assumptions = build(scenario)
    full = by_name(run_compare(workload, assumptions, CATALOG))
    subset = by_name(run_compare(workload, assumptions, CATALOG.iloc[sorted(keep)].reset_index(drop=True)))
    pd.testing.assert_frame_equal(full.loc[subset.index, COMPARED[1:]], subset[COMPARED[1:]])


def test_scenarios_reach_feasible_rows():
    """Guard against a vacuous property: the default profile has feasible chips of both price bases."""
    results = run_compare(workload_mod.load(None), assumptions_mod.resolve([], SPECS), CATALOG)
    feasible = results[results["feasible"]]
    assert set(feasible["price_basis"]) == {"owned", "rented"}
    assert np.isfinite(feasible["cost_per_query_usd"].to_numpy()).all()
    assert math.isclose(len(results), len(CATALOG))


@pytest.mark.parametrize("key", ASSUMPTION_PRICES)
def test_price_assumptions_exist(key):
    assert key in SPECS
