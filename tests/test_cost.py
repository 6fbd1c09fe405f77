"""Cost formulas against hand-computed values, including the worked check in
shared/reference/tco-defaults.md."""

import math

import numpy as np
import pandas as pd
import pytest

from inferchip import cost


def test_crf_matches_annuity_formula_at_8_percent_5_years():
    # r(1+r)^n / ((1+r)^n - 1) = 0.08 * 1.469328 / 0.469328 = 0.250456
    assert cost.capital_recovery_factor(0.08, 5) == pytest.approx(0.2504565, rel=1e-6)


def test_crf_zero_rate_is_straight_line():
    assert cost.capital_recovery_factor(0.0, 4) == pytest.approx(0.25)


def test_straight_line_option():
    assert cost.annual_capital_charge(1000.0, 0.08, 5, True) == pytest.approx(200.0)
    assert cost.annual_capital_charge(1000.0, 0.08, 5, False) == pytest.approx(250.4565, rel=1e-6)


def test_worked_check_h100_server():
    """tco-defaults.md: 8-GPU H100 server at 300,000 USD -> ~138,000 USD/year,
    ~1.97 USD per GPU-hour, ~0.29 USD per million tokens at 2,701 tokens/s, 70 %."""
    capex = cost.fleet_capex_usd(1, 300_000.0, 0.15, 0.03, 0.03, 0.02)
    assert capex == pytest.approx(369_000.0)
    annual_capex = cost.annual_capital_charge(capex, 0.08, 5, False)
    assert annual_capex == pytest.approx(92_418.4, rel=1e-4)
    colo = cost.annual_colocation_usd(10.2, 185.0)
    assert colo == pytest.approx(22_644.0)
    energy = cost.annual_energy_usd(7.0, 1.3, 0.08)
    assert energy == pytest.approx(6_377.28)
    maintenance = 300_000 * 0.05
    staff = 2_000
    total = annual_capex + colo + energy + maintenance + staff
    assert total == pytest.approx(138_440, rel=1e-3)
    per_gpu_hour = cost.per_accelerator_hour_usd(total, 8)
    assert per_gpu_hour == pytest.approx(1.975, abs=0.005)
    per_million = cost.cost_per_million_tokens_usd(per_gpu_hour, 2701.0, 0.7)
    assert per_million == pytest.approx(0.29, abs=0.005)


def test_server_price_derived_from_accelerator_price_when_missing():
    got = cost.server_price_usd(np.array([np.nan, 250_000.0]), np.array([30_000.0, 30_000.0]), 8, 0.25)
    assert got.tolist() == [300_000.0, 250_000.0]


def test_owned_facility_cost():
    # 10 kW = 10,000 W x (12 USD/W x CRF(8 %, 12 y) + 0.04 x 12)
    crf = 0.08 * 1.08**12 / (1.08**12 - 1)
    expected = 10_000 * (12 * crf + 0.48)
    assert cost.annual_owned_facility_usd(10.0, 12.0, 12, 0.08, 0.04) == pytest.approx(expected)


def test_rent():
    assert cost.annual_rent_usd(8, 2.0) == pytest.approx(8 * 2.0 * 8760)


def test_vectorized_series_in_series_out():
    capex = pd.Series([100.0, 200.0])
    out = cost.annual_capital_charge(capex, 0.08, 5, False)
    assert len(out) == 2 and math.isclose(out[1], 2 * out[0])


def test_token_units_hand_case():
    from inferchip import cost as c

    # 0.001 USD per query, 600 in / 250 out, prefill share 0.2:
    # input 0.001 x 0.2 / 600 x 1e6 = 0.3333; output 0.001 x 0.8 / 250 x 1e6 = 3.2; blended 0.001 / 850 x 1e6
    assert c.cost_per_million_input_tokens_usd(0.001, 0.2, 600) == pytest.approx(1 / 3)
    assert c.cost_per_million_output_tokens_usd(0.001, 0.2, 250) == pytest.approx(3.2)
    assert c.cost_per_million_tokens_blended_usd(0.001, 600, 250) == pytest.approx(1000 / 850)
    # the split conserves the query's cost: in x input price + out x output price = cost per query
    assert (600 * c.cost_per_million_input_tokens_usd(0.001, 0.2, 600)
            + 250 * c.cost_per_million_output_tokens_usd(0.001, 0.2, 250)) / 1e6 == pytest.approx(0.001)


def test_prefill_time_share_hand_case():
    from inferchip import perf

    # D b = 2 x 4 = 8; TPOT = A 10 + (B + C + D + E) b = 4 x 4 = 16 + O 2 = 28 -> 8 / 28
    assert perf.prefill_time_share(4.0, 10.0, 0.5, 1.0, 2.0, 0.5, 2.0) == pytest.approx(8 / 28)


@pytest.mark.parametrize("condition", [[True, True, True], [False, False, False], [True, False, True]])
def test_fleet_costs_computes_one_facility_branch_when_the_model_is_uniform(condition):
    # the facility model the same everywhere: only that branch runs, with np.where's values
    calls = []
    first = lambda: calls.append("owned") or np.array([1.0, 2.0, 3.0])  # noqa: E731
    second = lambda: calls.append("colocation") or np.array([10.0, 20.0, 30.0])  # noqa: E731
    got = cost._either(np.array(condition), first, second)
    np.testing.assert_array_equal(got, np.where(condition, [1.0, 2.0, 3.0], [10.0, 20.0, 30.0]))
    assert len(calls) == (2 if len(set(condition)) == 2 else 1)
    # a scalar branch takes the condition's shape, as np.where gives it
    np.testing.assert_array_equal(cost._either(np.array([[True], [True]]), lambda: 5.0, lambda: 6.0), [[5.0], [5.0]])


def test_fleet_costs_parts_and_unit_share_leave_the_numbers_alone():
    sc = {"network_capex_fraction": 0.1, "storage_capex_fraction": 0.05, "spares_fraction": 0.02,
          "installation_fraction": 0.01, "cost_of_capital": np.array([0.0, 0.08]), "server_life_years": 4.0,
          "capital_charge": "annuity", "pue": 1.3, "electricity_usd_per_kwh": 0.1, "facility_model": "owned",
          "facility_build_usd_per_w": 10.0, "facility_life_years": 15.0, "facility_opex_usd_per_w_month": 0.02,
          "colocation_usd_per_kw_month": 150.0, "maintenance_fraction_per_year": 0.05,
          "staff_usd_per_server_year": 1000.0}
    args = (sc, np.array([3e5, 2e5]), np.array([5.0, 4.0]), np.array([8.0, 6.0]), np.array([1.0, 2.0]),
            np.array([0.0, 100.0]), np.array([0.0, 9e4]), np.array([True, False]), np.array([False, True]))
    full = cost.fleet_costs(*args, np.ones(2))
    lean = cost.fleet_costs(*args, 1.0, parts=())
    assert set(full) - set(lean) == {"capex", "energy", "facility"}
    for key, value in lean.items():
        np.testing.assert_array_equal(value, full[key])
    # hand check of the owned row: annual capex = 3e5 x 1.18 / 4 at a zero rate
    assert lean["annual_capex"][0] == pytest.approx(3e5 * 1.18 / 4)
