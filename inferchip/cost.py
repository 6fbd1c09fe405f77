"""Cost model: capital recovery, energy, facility, opex, per-query cost.
Pure, vectorized (scalars or Series)."""

from __future__ import annotations

import numpy as np

from inferchip.units import (
    HOURS_PER_YEAR,
    MONTHS_PER_YEAR,
    QUERIES_PER_THOUSAND,
    SECONDS_PER_HOUR,
    TOKENS_PER_MILLION,
    W_PER_KW,
)


def capital_recovery_factor(rate, years):
    """Annuity factor [1/year] CRF = r (1+r)^n / ((1+r)^n - 1); 1/n when r = 0."""
    rate = np.asarray(rate, dtype=float)
    years = np.asarray(years, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        growth = (1.0 + rate) ** years
        crf = rate * growth / (growth - 1.0)
    return np.where(rate == 0, 1.0 / years, crf)


def annual_capital_charge(capex_usd, rate, years, straight_line):
    """Capital charge [USD/year] = capex x CRF(r, n), or capex / n when straight_line is true."""
    factor = np.where(np.asarray(straight_line, dtype=bool), 1.0 / np.asarray(years, dtype=float),
                      capital_recovery_factor(rate, years))
    return capex_usd * factor


def server_price_usd(server_price, accelerator_price, devices_per_server, host_price_fraction):
    """Price of one server [USD]: the catalog's server price, else
    accelerator price x devices x (1 + host fraction)."""
    derived = accelerator_price * devices_per_server * (1.0 + host_price_fraction)
    return np.where(np.isnan(np.asarray(server_price, dtype=float)), derived, server_price)


def fleet_capex_usd(servers, price_per_server, network_fraction, storage_fraction, spares_fraction,
                    installation_fraction):
    """Capital [USD] = servers x price x (1 + network + storage + spares + installation)."""
    return servers * price_per_server * (
        1.0 + network_fraction + storage_fraction + spares_fraction + installation_fraction
    )


def annual_energy_usd(avg_power_kw, pue, electricity_usd_per_kwh):
    """Energy [USD/year] = average IT kW x PUE x 8,760 h x price."""
    return avg_power_kw * pue * HOURS_PER_YEAR * electricity_usd_per_kwh


def annual_colocation_usd(provisioned_kw, colocation_usd_per_kw_month):
    """Colocation [USD/year] = provisioned kW x rent per kW-month x 12."""
    return provisioned_kw * colocation_usd_per_kw_month * MONTHS_PER_YEAR


def annual_owned_facility_usd(provisioned_kw, build_usd_per_w, facility_life_years, rate,
                              opex_usd_per_w_month):
    """Owned facility [USD/year] = kW x 1,000 x (build per W x CRF(r, facility life) + running per W-month x 12)."""
    watts = provisioned_kw * W_PER_KW
    return watts * (build_usd_per_w * capital_recovery_factor(rate, facility_life_years)
                    + opex_usd_per_w_month * MONTHS_PER_YEAR)


def annual_rent_usd(accelerators, cloud_usd_per_hour):
    """Renting the fleet all year [USD/year] = accelerators x price per accelerator-hour x 8,760."""
    return accelerators * cloud_usd_per_hour * HOURS_PER_YEAR


def per_accelerator_hour_usd(annual_tco_usd, accelerators):
    """Owning cost per accelerator-hour [USD] = annual TCO / (accelerators x 8,760)."""
    return annual_tco_usd / (accelerators * HOURS_PER_YEAR)


def cost_per_million_tokens_usd(usd_per_accelerator_hour, tokens_per_s_per_accelerator, utilisation):
    """[USD per 1e6 tokens] = hourly cost / (tokens/s x utilisation x 3,600) x 1e6."""
    return usd_per_accelerator_hour / (tokens_per_s_per_accelerator * utilisation * SECONDS_PER_HOUR) * TOKENS_PER_MILLION


def cost_per_million_input_tokens_usd(cost_per_query_usd, input_time_share, input_tokens):
    """[USD per 1e6 input tokens] = cost per query x prefill share of replica time / input tokens x 1e6."""
    return cost_per_query_usd * input_time_share / input_tokens * TOKENS_PER_MILLION


def cost_per_million_output_tokens_usd(cost_per_query_usd, input_time_share, output_tokens):
    """[USD per 1e6 output tokens] = cost per query x (1 - prefill share) / output tokens x 1e6."""
    return cost_per_query_usd * (1.0 - input_time_share) / output_tokens * TOKENS_PER_MILLION


def cost_per_million_tokens_blended_usd(cost_per_query_usd, input_tokens, output_tokens):
    """[USD per 1e6 tokens, input and output together] = cost per query / (input + output tokens) x 1e6:
    the figure to set beside an API's prices at the workload's mix,
    (input x input price + output x output price) / (input + output)."""
    return cost_per_query_usd / (input_tokens + output_tokens) * TOKENS_PER_MILLION


PER_QUERY_FIELDS = ("cost_per_million_tokens_usd", "cost_per_thousand_queries_usd", "cost_per_million_input_tokens_usd",
                    "cost_per_million_output_tokens_usd", "cost_per_million_tokens_blended_usd")


def per_query_fields(per_query_usd, input_time_share, input_tokens, output_tokens, wanted=PER_QUERY_FIELDS) -> dict:
    """The costs derived from the cost per query [USD], those in `wanted`: per million output
    tokens = per query / output tokens x 1e6; per thousand queries = per query x 1,000; per
    million input, output and blended tokens (the functions above). One place for compare's
    table and a sweep's cost-only grid (costgrid)."""
    make = {
        "cost_per_million_tokens_usd": lambda: per_query_usd / output_tokens * TOKENS_PER_MILLION,
        "cost_per_thousand_queries_usd": lambda: per_query_usd * QUERIES_PER_THOUSAND,
        "cost_per_million_input_tokens_usd": lambda: cost_per_million_input_tokens_usd(
            per_query_usd, input_time_share, input_tokens),
        "cost_per_million_output_tokens_usd": lambda: cost_per_million_output_tokens_usd(
            per_query_usd, input_time_share, output_tokens),
        "cost_per_million_tokens_blended_usd": lambda: cost_per_million_tokens_blended_usd(
            per_query_usd, input_tokens, output_tokens),
    }
    return {name: make[name]() for name in PER_QUERY_FIELDS if name in wanted}


FLEET_PARTS = ("capex", "energy", "facility")


def fleet_costs(sc, purchase_price_usd, avg_power_kw, provisioned_kw, units, software_usd, rent_usd, owned, rented,
                share, parts=FLEET_PARTS) -> dict:
    """A fleet's money per year from what it bought and what it draws; `sc` maps each
    assumption key to its value (scalars or arrays that broadcast with the rest).
    Owned: capex [USD] = purchase price x (1 + network + storage + spares + installation),
    annual capex = capex x CRF(cost of capital, server life) (capex / life when
    capital_charge is straight_line), energy = average kW x PUE x 8,760 h x price,
    facility on provisioned kW (owned: build x CRF + running; else colocation),
    maintenance = price x fraction, staff = units x staff per server, opex = energy +
    facility + maintenance + software + staff. Rented: capex 0, opex = rent + software.
    Unpriced (neither): NaN. Capex, annual capex, opex, energy and facility are then
    x `share` (the workload's part of a shared fleet); tco = annual capex + opex [USD/year].
    Returns annual_capex, annual_opex, tco, maintenance, staff and those of `parts`
    (capex, energy, facility: the apportioned figures) that are asked for."""
    capex = fleet_capex_usd(1.0, purchase_price_usd, sc["network_capex_fraction"], sc["storage_capex_fraction"],
                            sc["spares_fraction"], sc["installation_fraction"])
    annual_capex = annual_capital_charge(capex, sc["cost_of_capital"], sc["server_life_years"],
                                         sc["capital_charge"] == "straight_line")
    energy = annual_energy_usd(avg_power_kw, sc["pue"], sc["electricity_usd_per_kwh"])
    facility = _either(
        sc["facility_model"] == "owned",
        lambda: annual_owned_facility_usd(provisioned_kw, sc["facility_build_usd_per_w"], sc["facility_life_years"],
                                          sc["cost_of_capital"], sc["facility_opex_usd_per_w_month"]),
        lambda: annual_colocation_usd(provisioned_kw, sc["colocation_usd_per_kw_month"]),
    )
    maintenance = purchase_price_usd * sc["maintenance_fraction_per_year"]
    staff = units * sc["staff_usd_per_server_year"]
    owned_opex = energy + facility + maintenance + software_usd + staff
    # x share; a share of exactly 1 (the scalar) leaves every value as it is
    apportion = (lambda x: x) if np.ndim(share) == 0 and share == 1.0 else (lambda x: x * share)  # noqa: E731
    annual_capex = apportion(np.where(owned, annual_capex, np.where(rented, 0.0, np.nan)))
    annual_opex = apportion(np.where(owned, owned_opex, np.where(rented, rent_usd + software_usd, np.nan)))
    out = {"annual_capex": annual_capex, "annual_opex": annual_opex, "tco": annual_capex + annual_opex,
           "maintenance": maintenance, "staff": staff}
    if "capex" in parts:
        out["capex"] = apportion(np.where(owned, capex, np.where(rented, 0.0, np.nan)))
    if "energy" in parts:
        out["energy"] = apportion(np.where(owned, energy, np.nan))
    if "facility" in parts:
        out["facility"] = apportion(np.where(owned, facility, np.nan))
    return out


def _either(condition, if_true, if_false):
    """np.where(condition, if_true(), if_false()), computing only the branch taken where the
    condition is the same everywhere (a sweep's facility model is, most of the time)."""
    condition = np.asarray(condition)
    if not (condition.all() or not condition.any()):
        return np.where(condition, if_true(), if_false())
    taken = if_true() if condition.all() else if_false()
    shape = np.broadcast_shapes(condition.shape, np.shape(taken))
    return taken if np.shape(taken) == shape else np.broadcast_to(taken, shape).copy()


# Assumption keys annual_unit_cost_usd takes after (size, price, power), in order.
UNIT_COST_KEYS = ("network_capex_fraction", "storage_capex_fraction", "spares_fraction", "installation_fraction",
                  "cost_of_capital", "server_life_years", "capital_charge", "maintenance_fraction_per_year",
                  "facility_model", "colocation_usd_per_kw_month", "facility_build_usd_per_w", "facility_life_years",
                  "facility_opex_usd_per_w_month", "staff_usd_per_server_year", "software_usd_per_accelerator_year",
                  "pue", "electricity_usd_per_kwh", "idle_power_fraction")


def annual_unit_cost_usd(size, price_usd, max_power_kw, network, storage, spares, installation, rate, life_years,
                         capital_charge, maintenance, facility_model, colocation_usd_per_kw_month, build_usd_per_w,
                         facility_life_years, facility_opex_usd_per_w_month, staff_usd_per_server_year,
                         software_usd_per_accelerator_year, pue, electricity_usd_per_kwh, power_fraction):
    """What owning one purchase unit costs a year [USD/year], the yardstick the sizer
    compares unit mixes with = capital charge of price x (1 + network + storage + spares
    + installation) + price x maintenance + facility on max kW + staff per server
    + software x accelerators + idle energy = max kW x idle fraction x PUE x 8,760 h x price
    (the energy of the work itself does not depend on the units that carry it)."""
    capex = fleet_capex_usd(1.0, price_usd, network, storage, spares, installation)
    capital = annual_capital_charge(capex, rate, life_years, capital_charge == "straight_line")
    facility = np.where(facility_model == "owned",
                        annual_owned_facility_usd(max_power_kw, build_usd_per_w, facility_life_years, rate,
                                                  facility_opex_usd_per_w_month),
                        annual_colocation_usd(max_power_kw, colocation_usd_per_kw_month))
    return (capital + price_usd * maintenance + facility + staff_usd_per_server_year
            + size * software_usd_per_accelerator_year
            + annual_energy_usd(max_power_kw * power_fraction, pue, electricity_usd_per_kwh))
