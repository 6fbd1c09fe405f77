"""`inferchip plan`: a deployment over years inside a facility, per accelerator.

Year y = 1 .. Y (index i = y - 1). Every figure is a (years x chips) array built from
the `compare` pipeline (`compare.evaluate`, vectorized over scenarios x chips):

1. Demand: queries_per_day(y) = queries_per_day x (1 + g)^(y-1). `evaluate` sizes
   a fleet for every year at once (year 1 = `compare --basis auto` at the same inputs, exactly).
2. Facility fit (owned rows only; rented rows use none of the hall): with the
   year-1 fleet's ratios, units that fit = floor(min(it_kw / kW per unit,
   racks x units per rack)), zero for liquid-cooled servers in an air-cooled hall;
   replicas that fit = floor(units x accelerators per unit / chips per replica);
   queries/day the hall can serve = replicas x queries/s per replica x
   utilisation_target x 86,400 / peak_to_average.
3. Owned base and burst: owned(y) = min(demand(y), hall capacity); the owned fleet
   is sized again by `evaluate` for owned(y); burst(y) = demand(y) - owned(y) goes
   to the cheaper of renting the same chip (its rented cost per query at year y's
   demand) and the cheapest per-token API for the workload's preset, both x
   (1 - cloud decline)^(y-1).
4. Purchases: the owned fleet's list capex never shrinks (traffic does not); what
   is bought in year y = the rise of its running maximum, plus the cohort bought
   one economic life earlier (replacement), at list x (1 - purchase decline)^(y-1).
5. Cash and net present cost at cost_of_capital r: purchases at the start of
   year y (discount (1+r)^-(y-1)), running costs and burst at its end
   ((1+r)^-y); the straight-line book value of hardware with life left at the end
   of the horizon is credited at t = Y. Cost per query(y) = (capital charge of the
   cohorts in service + running costs + burst) / (demand x 365): `compare`'s
   definition, so year 1 equals `compare`'s cost_per_query_usd.
6. Refresh (--refresh-to CHIP): keeping an owned fleet (its year-1 purchase is sunk)
   against buying the target's fleet in year 1 and selling the retired one then for
   resale credit = resale_value_fraction x its year-1 purchase_usd [USD] (received at
   t = 0, undiscounted); the payback year is the first in which the target's
   cumulative discounted cash less the credit is at most keeping's.
7. Weighted ranking (--weights, `software.score`): cost = net present cost per query,
   energy = year-1 energy per query, software = confirmed serving frameworks.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from inferchip import cost
from inferchip.assumptions import Assumptions
from inferchip.plan_inputs import Facility, Horizon
from inferchip.units import DAYS_PER_YEAR, SECONDS_PER_DAY, W_PER_KW, Field
from inferchip.workload import Workload

# Per (accelerator, year): the `years` rows.
YEAR_FIELDS: dict[str, Field] = {
    "accelerator": Field("", "catalog name"),
    "year": Field("count", "year of the plan, 1 = the first (today's prices and traffic)"),
    "price_basis": Field("", "owned or rented (as in compare), or unpriced"),
    "demand_queries_per_day": Field("queries/day", "queries_per_day x (1 + traffic_growth_per_year)^(year-1)"),
    "owned_queries_per_day": Field("queries/day", "served by the chip's own (or, for rented rows, rented) fleet: "
                                   "min(demand, facility capacity)"),
    "burst_queries_per_day": Field("queries/day", "demand - owned, sent to the burst option"),
    "burst_option": Field("", "where the burst goes: 'rented <chip>' or an API, or '' when there is none"),
    "burst_usd_per_query": Field("USD", "burst price per query x (1 - cloud_price_decline_per_year)^(year-1)"),
    "purchase_units": Field("count", "units (servers or systems) of the owned fleet that year (compare's purchase_units)"),
    "units_bought": Field("count", "units bought that year: rise of the running maximum of purchase_units, plus "
                                   "replacements of units bought server_life_years earlier"),
    "accelerators": Field("count", "accelerators in the fleet that year (bought or rented)"),
    "racks": Field("count", "racks the fleet fills (compare's racks)"),
    "it_kw": Field("kW", "provisioned IT power of the fleet = facility_power_kw / pue"),
    "purchase_usd": Field("USD", "cash for units bought = (rise of running max capex + replacement) x "
                                 "(1 - purchase_price_decline_per_year)^(year-1)"),
    "running_usd": Field("USD", "the fleet's annual opex that year (energy, facility, maintenance, software, staff; "
                                "rent x (1 - cloud decline)^(year-1) on rented rows)"),
    "burst_usd": Field("USD", "burst queries/day x 365 x burst_usd_per_query"),
    "cash_usd": Field("USD", "purchase_usd + running_usd + burst_usd (nominal)"),
    "discounted_cash_usd": Field("USD", "purchase_usd / (1+r)^(year-1) + (running_usd + burst_usd) / (1+r)^year, "
                                        "r = cost_of_capital"),
    "annual_cost_usd": Field("USD", "capital charge of the purchases in service (capital recovery factor over "
                                    "server_life_years) + running_usd + burst_usd"),
    "cost_per_query_usd": Field("USD", "annual_cost_usd / (demand_queries_per_day x 365); year 1 = compare's"),
    "keep_cash_usd": Field("USD", "with --refresh-to, on an owned fleet the refresh could replace: cash_usd with the "
                                  "year-1 purchase sunk (0 in year 1 for it); null otherwise", True),
    "refresh_cash_usd": Field("USD", "with --refresh-to, on the same rows: the refresh target's cash_usd that year, "
                                     "less the resale credit of this fleet in year 1; null otherwise", True),
}

# Per accelerator: the `results` rows (ranked by net present cost).
PLAN_FIELDS: dict[str, Field] = {
    "accelerator": Field("", "catalog name"),
    "vendor": Field("", "vendor"),
    "price_basis": Field("", "owned, rented or unpriced (as in compare)"),
    "feasible": Field("", "serves the workload within the SLO and has a price (as in compare)"),
    "infeasible_reason": Field("", "why not, when feasible is false; or why the plan has no total"),
    "fits_facility": Field("", "year-1 demand fits inside the facility (owned rows; rented rows always true)"),
    "facility_note": Field("", "why nothing of the chip fits the facility, '' otherwise"),
    "facility_capacity_queries_per_day": Field("queries/day", "most the facility can serve with this chip "
                                                "(null: no facility limit, or rented)", True),
    "facility_units": Field("count", "units (servers or systems) that fit in the facility"),
    "queries_per_s_per_mw": Field("queries/s/MW", "queries_per_s_per_rack / kw_per_rack x 1000 (compare's density)",
                                  True),
    "queries_per_s_per_rack": Field("queries/s", "compare's queries_per_s_per_rack", True),
    "first_burst_year": Field("count", "first year whose demand exceeds the facility (null: never in the horizon)"),
    "units_bought_total": Field("count", "units bought over the horizon (replacements included)"),
    "purchase_usd_total": Field("USD", "sum of purchase_usd (nominal)"),
    "burst_usd_total": Field("USD", "sum of burst_usd (nominal)"),
    "residual_value_usd": Field("USD", "straight-line book value of hardware with life left at the end, credited"),
    "net_present_cost_usd": Field("USD", "sum of discounted_cash_usd - residual_value_usd / (1+r)^years"),
    "npc_per_query_usd": Field("USD", "net_present_cost_usd / discounted queries (sum of demand x 365 / (1+r)^year)"),
    "year1_cost_per_query_usd": Field("USD", "cost_per_query_usd of year 1 (= compare --basis auto's at the same inputs)"),
    "year1_energy_per_query_j": Field("J", "compare's energy_per_query_j at year-1 traffic", True),
    "final_year_cost_per_query_usd": Field("USD", "cost_per_query_usd of the last year"),
    "refresh_to": Field("", "the refresh target (--refresh-to), '' when none"),
    "refresh_payback_year": Field("count", "first year the refresh's cumulative discounted cash, less the resale "
                                           "credit, is at most keeping this fleet's (null: not within the horizon, or "
                                           "not an owned fleet)"),
    "refresh_savings_usd": Field("USD", "keeping's net present cost (year-1 purchase sunk) - (the refresh target's "
                                        "- refresh_resale_credit_usd)"),
    "refresh_resale_credit_usd": Field("USD", "resale_value_fraction x this fleet's year-1 purchase_usd: what the "
                                              "retired fleet sells for when the refresh replaces it (start of year 1; "
                                              "null: no --refresh-to, or not an owned fleet)", True),
}

# Fields `plan --weights` adds to the results rows (scores: inferchip.software.score).
WEIGHT_FIELDS: dict[str, Field] = {
    "serving_frameworks": Field("", "serving frameworks confirmed for the chip in data/software_support.csv, "
                                    "';'-separated ('' = none confirmed)"),
    "cost_score": Field("fraction", "min(npc_per_query_usd) / npc_per_query_usd over the ranked plans "
                                    "(1 = lowest net present cost per query)", True),
    "energy_score": Field("fraction", "min(year1_energy_per_query_j) / year1_energy_per_query_j over the ranked "
                                      "plans (1 = least energy)", True),
    "software_score": Field("fraction", "confirmed serving frameworks / the most any ranked plan has", True),
    "weighted_score": Field("fraction", "sum(weight x score) / sum(weights) over --weights; ranks the plans, "
                                        "highest first", True),
}
SCORE_INPUT = {"cost": "npc_per_query_usd", "energy": "year1_energy_per_query_j"}


@dataclass(frozen=True)
class PlanResult:
    summary: pd.DataFrame   # one row per accelerator (PLAN_FIELDS), ranked
    years: pd.DataFrame     # one row per (accelerator, year) (YEAR_FIELDS), in summary order
    assumptions: Assumptions
    facility: Facility
    horizon: Horizon
    api_option: str         # the cheapest API for the burst, '' when none
    weights: dict[str, float] | None = None  # --weights: the summary is ranked by weighted_score


def facility_assumptions(assumptions: Assumptions, facility: Facility) -> Assumptions:
    """The facility's kW per rack and rack units replace rack_power_budget_air_kw,
    rack_power_budget_liquid_kw and rack_units_usable (origin: the facility)."""
    values, origins = dict(assumptions.values), dict(assumptions.origins)
    if facility.kw_per_rack is not None:
        for key in ("rack_power_budget_air_kw", "rack_power_budget_liquid_kw"):
            values[key], origins[key] = facility.kw_per_rack, "facility kw_per_rack"
    if facility.rack_units is not None:
        values["rack_units_usable"], origins["rack_units_usable"] = facility.rack_units, "facility rack_units"
    return replace(assumptions, values=values, origins=origins)


def _evaluate(workload: Workload, assumptions: Assumptions, chips: pd.DataFrame, qpd: np.ndarray,
              basis: str) -> pd.DataFrame:
    """compare.evaluate over len(qpd) scenarios differing only in queries_per_day,
    exactly as run_compare calls it (scenario-major rows)."""
    from inferchip.compare import evaluate, scenario_frame
    from inferchip.measured import candidates

    scenarios = scenario_frame(workload, assumptions, len(qpd)).assign(queries_per_day=np.asarray(qpd, dtype=float))
    return evaluate(workload.kind, chips, scenarios, workload.precision, workload.kv_precision,
                    measured=candidates(workload.preset, workload.precision), basis=basis)


def _grid(frame: pd.DataFrame, name: str, shape: tuple[int, int]) -> np.ndarray:
    return pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=float).reshape(shape)


# Rows of one evaluate call in _diagonal_evaluate: a block of b chips evaluates Y x b scenarios
# on b chips (Y b^2 rows, ~4 KB of intermediates each, as a sweep chunk; limits.py), so memory
# stays bounded for any catalog and horizon. The bundled catalog over 5 years is one block.
DIAGONAL_BLOCK_ROWS = 65_536


def _diagonal_evaluate(workload, assumptions, chips, qpd: np.ndarray, basis: str) -> pd.DataFrame:
    """evaluate where every (year, chip) has its own queries_per_day: the scenarios are
    the Y x C cells, each evaluated on its own chip only (rows of the cross product
    whose scenario belongs to that chip), in blocks of chips of at most
    DIAGONAL_BLOCK_ROWS rows each; rows in cell order (year-major)."""
    years, n_chips = qpd.shape
    block = max(1, min(n_chips, int(np.sqrt(DIAGONAL_BLOCK_ROWS / max(years, 1)))))
    parts, positions = [], []
    for start in range(0, n_chips, block):
        width = min(block, n_chips - start)
        sub = chips.iloc[start:start + width].reset_index(drop=True)
        full = _evaluate(workload, assumptions, sub, qpd[:, start:start + width].reshape(-1), basis)
        cell = np.arange(years * width)
        parts.append(full.iloc[cell * width + (cell % width)])
        positions.append((cell // width) * n_chips + start + cell % width)
    out = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0].reset_index(drop=True)
    if len(parts) > 1:
        out = out.iloc[np.argsort(np.concatenate(positions), kind="stable")].reset_index(drop=True)
    return out


def burst_api(workload: Workload) -> tuple[float, str]:
    """The cheapest per-token API comparable to the workload's preset: (USD per query, label)."""
    if workload.kind != "llm":
        return np.nan, ""
    from inferchip.basis import api_rows
    from inferchip.breakeven import read_api_prices

    api = api_rows(workload, read_api_prices())
    if api.empty or not np.isfinite(api["cost_per_query_usd"].to_numpy(float)).any():
        return np.nan, ""
    best = api.loc[api["cost_per_query_usd"].astype(float).idxmin()]
    return float(best["cost_per_query_usd"]), str(best["option"])


FIT_PASSES = 8  # shrink steps when a unit mix the ratios did not foresee overshoots the hall


def _fit(workload, assumptions, chips, facility: Facility, capacity: np.ndarray, limited: np.ndarray,
         replica_qpd: np.ndarray, demand: float, pue: float) -> tuple[np.ndarray, np.ndarray]:
    """Check the estimated facility capacity [queries/day] by sizing its fleet; where the
    fleet's IT kW or racks exceed the hall (a unit mix the year-1 ratios did not foresee),
    shrink: capacity x the overshoot ratio, and at least one replica's daily capacity
    less. Whole-array passes (at most FIT_PASSES); a chip still over is given 0.
    Returns (capacity, units of its fleet)."""
    units = np.full(len(capacity), np.nan)
    it_kw = facility.it_kw if facility.it_kw is not None else np.inf
    racks = facility.racks if facility.racks is not None else np.inf
    for _ in range(FIT_PASSES):
        probe = limited & (capacity > 0)
        if not probe.any():
            break
        qpd = np.where(probe, capacity, demand)[None, :]
        fleet = _diagonal_evaluate(workload, assumptions, chips, qpd, "auto")
        kw = _grid(fleet, "facility_power_kw", qpd.shape)[0] / pue
        used_racks = _grid(fleet, "racks", qpd.shape)[0]
        units = np.where(probe, _grid(fleet, "purchase_units", qpd.shape)[0], units)
        if facility.kw_per_rack is not None:  # a server over the rack's power takes no rack of its own here
            hot = probe & (_grid(fleet, "max_unit_kw", qpd.shape)[0] > facility.kw_per_rack * (1 + 1e-12))
            capacity = np.where(hot, 0.0, capacity)
            probe = probe & ~hot
        over = probe & ((kw > it_kw * (1 + 1e-12)) | (used_racks > racks))
        if not over.any():
            break
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.minimum(it_kw / kw, racks / used_racks)
        capacity = np.where(over, np.maximum(np.minimum(capacity * ratio, capacity - replica_qpd), 0.0), capacity)
    else:
        capacity = np.where(over, 0.0, capacity)
    units = np.where(limited & (capacity > 0), units, np.where(limited, 0.0, np.nan))
    return capacity, units


def _refresh_target(chips: pd.DataFrame, name: str) -> str:
    """The catalog name of --refresh-to among the planned chips; the error says the chip
    filters (--chip, --vendor, --kind) apply to the target too."""
    from inferchip.catalog import find_chip
    from inferchip.errors import NotFoundError

    try:
        return str(find_chip(chips, name)["name"])
    except NotFoundError as exc:
        raise NotFoundError(f"--refresh-to {name}: not among the planned accelerators ({str(exc).rstrip('.')}); "
                            "the --chip, --vendor and --kind filters apply to the refresh target too") from None


def run(workload: Workload, assumptions: Assumptions, chips: pd.DataFrame, facility: Facility,
        horizon: Horizon) -> PlanResult:
    """The plan of every accelerator (see the module docstring for each step's formula)."""
    from inferchip.calibration import attach_factors

    assumptions = facility_assumptions(assumptions, facility)
    chips = attach_factors(chips, workload_kind=workload.kind).reset_index(drop=True)
    target = _refresh_target(chips, horizon.refresh_to) if horizon.refresh_to else ""
    n_years, n_chips = horizon.years, len(chips)
    shape = (n_years, n_chips)
    year_no = np.arange(1, n_years + 1, dtype=float)
    growth = (1.0 + horizon.traffic_growth_per_year) ** (year_no - 1)
    demand_1d = workload.queries_per_day * growth
    demand = np.repeat(demand_1d[:, None], n_chips, axis=1)

    # 1. demand fleet of every year (year 1 = compare)
    need = _evaluate(workload, assumptions, chips, demand_1d, "auto")
    first = need.iloc[:n_chips].reset_index(drop=True)
    owned_row = (first["price_basis"] == "owned").to_numpy()
    feasible = first["feasible"].to_numpy(dtype=bool)

    # 2. facility fit, from the year-1 fleet's ratios
    pue, util = float(assumptions["pue"]), float(assumptions["utilisation_target"])
    units1 = pd.to_numeric(first["purchase_units"], errors="coerce").to_numpy(float)
    kw1 = pd.to_numeric(first["facility_power_kw"], errors="coerce").to_numpy(float) / pue
    racks1 = pd.to_numeric(first["racks"], errors="coerce").to_numpy(float)
    acc1 = pd.to_numeric(first["accelerators_bought"], errors="coerce").to_numpy(float)
    per_replica = pd.to_numeric(first["chips_per_replica"], errors="coerce").to_numpy(float)
    qps_replica = pd.to_numeric(first["queries_per_s_per_accelerator"], errors="coerce").to_numpy(float) * per_replica
    with np.errstate(divide="ignore", invalid="ignore"):
        limit_kw = facility.it_kw / (kw1 / units1) if facility.it_kw is not None else np.full(n_chips, np.inf)
        # racks1 is whole racks for units1 units: units per rack rounds down, never over the hall
        limit_racks = (np.floor(facility.racks * units1 / racks1) if facility.racks is not None
                       else np.full(n_chips, np.inf))
        units_fit = np.floor(np.minimum(limit_kw, limit_racks))
        liquid = (chips["cooling"].fillna("").astype(str).str.lower() == "liquid").to_numpy()
        units_fit = np.where((facility.cooling == "air") & liquid, 0.0, units_fit)
        replicas_fit = np.floor(units_fit * (acc1 / units1) / per_replica)
        # (1 - 1e-9): float dust must not make the fleet sizing's ceil() add a replica
        capacity = replicas_fit * qps_replica * util * SECONDS_PER_DAY / workload.peak_to_average * (1.0 - 1e-9)
    limited = owned_row & feasible & facility.limited
    capacity = np.where(limited, np.nan_to_num(capacity), np.inf)
    replica_qpd = qps_replica * util * SECONDS_PER_DAY / workload.peak_to_average
    capacity, units_fit = _fit(workload, assumptions, chips, facility, capacity, limited, replica_qpd,
                               demand_1d[0], pue)

    # 3. owned base and burst
    owned = np.minimum(demand, capacity[None, :])
    burst = demand - owned
    if limited.any() and (burst > 0).any():
        # cells with nothing owned (the chip does not fit at all) are sized at demand, then masked
        fleet = _diagonal_evaluate(workload, assumptions, chips, np.where(owned > 0, owned, demand), "auto")
    else:
        fleet = need
    rent = _evaluate(workload, assumptions, chips, demand_1d, "rent")
    rent_cpq = _grid(rent, "cost_per_query_usd", shape)
    api_cpq, api_label = burst_api(workload)
    cloud_factor = ((1.0 - horizon.cloud_price_decline_per_year) ** (year_no - 1))[:, None]
    use_api = np.isfinite(api_cpq) & ~(rent_cpq <= api_cpq)
    burst_price = np.where(use_api, api_cpq, rent_cpq) * cloud_factor
    names = chips["name"].astype(str).to_numpy(dtype=object)
    burst_option = np.where(use_api, api_label, np.where(np.isfinite(rent_cpq), "rented " + names[None, :], ""))
    burst_usd = np.where(burst > 0, burst * DAYS_PER_YEAR * burst_price, 0.0)

    # 4. purchases (owned rows) and running costs
    r = float(assumptions["cost_of_capital"])
    life = float(assumptions["server_life_years"])
    capex = np.where(owned > 0, np.nan_to_num(_grid(fleet, "capex_usd", shape)), 0.0)
    units = np.where(owned > 0, np.nan_to_num(_grid(fleet, "purchase_units", shape)), 0.0)
    opex = np.where(owned > 0, _grid(fleet, "annual_opex_usd", shape), 0.0)
    is_owned = owned_row[None, :]
    opex = np.where(is_owned, opex, opex * cloud_factor)
    capex_run = np.maximum.accumulate(capex, axis=0)
    units_run = np.maximum.accumulate(units, axis=0)
    new_capex = np.diff(capex_run, axis=0, prepend=0.0)
    new_units = np.diff(units_run, axis=0, prepend=0.0)
    step = max(int(np.ceil(life)), 1)
    bought_capex, bought_units = new_capex.copy(), new_units.copy()
    for lag in range(step, n_years, step):  # replacement rounds: at most years / life of them
        bought_capex[lag:] += new_capex[:-lag]
        bought_units[lag:] += new_units[:-lag]
    price_factor = ((1.0 - horizon.purchase_price_decline_per_year) ** (year_no - 1))[:, None]
    purchase_usd = np.where(is_owned, bought_capex * price_factor, 0.0)
    units_bought = np.where(is_owned, bought_units, 0.0)

    # 5. cash, discounting, residual value, cost per query per year
    start = (1.0 + r) ** -(year_no - 1)
    end = (1.0 + r) ** -year_no
    cash = purchase_usd + opex + burst_usd
    discounted = purchase_usd * start[:, None] + (opex + burst_usd) * end[:, None]
    # a purchase at the start of year k has served Y - k + 1 years when the horizon ends
    remaining = np.clip(1.0 - (n_years - year_no + 1) / life, 0.0, 1.0)[:, None]
    residual = (purchase_usd * remaining).sum(axis=0)
    npc = discounted.sum(axis=0) - residual * (1.0 + r) ** -n_years
    alive = (year_no[:, None] - year_no[None, :] >= 0) & (year_no[:, None] - year_no[None, :] < step)
    in_service = alive.astype(float) @ purchase_usd  # (year, chip): purchases still within their life
    charge = cost.annual_capital_charge(in_service, r, life, assumptions["capital_charge"] == "straight_line")
    annual_cost = charge + opex + burst_usd
    annual_queries = demand * DAYS_PER_YEAR
    cpq = annual_cost / annual_queries
    served = np.isfinite(burst_price) | (burst <= 0)
    plan_ok = feasible[None, :] & served & np.isfinite(annual_cost)
    cpq = np.where(plan_ok, cpq, np.nan)
    whole = plan_ok.all(axis=0)
    npc = np.where(whole, npc, np.nan)
    npc_per_query = npc / (annual_queries * end[:, None]).sum(axis=0)
    cum = np.cumsum(discounted, axis=0)
    cum[-1] -= residual * (1.0 + r) ** -n_years  # the book value left counts at the end, as in the NPC

    # 6. refresh
    payback = np.full(n_chips, np.nan)
    savings = np.full(n_chips, np.nan)
    resale = np.full(n_chips, np.nan)
    keep_cash = refresh_cash = np.full(shape, np.nan)
    if target:
        t = int(np.flatnonzero(names == target)[0])
        candidate = owned_row & whole & (np.arange(n_chips) != t)
        resale = np.where(candidate, horizon.resale_value_fraction * purchase_usd[0], np.nan)
        credit = np.nan_to_num(resale)
        keep_cum = cum - purchase_usd[0][None, :] * start[0]
        keep_npc = npc - purchase_usd[0] * start[0]
        refresh_cum = cum[:, [t]] - credit[None, :] * start[0]  # the credit comes at t = 0, with the purchase
        better = (refresh_cum <= keep_cum) & whole[None, :] & whole[t]
        payback = np.where(candidate & better.any(axis=0), better.argmax(axis=0) + 1.0, np.nan)
        savings = np.where(candidate, keep_npc - (npc[t] - credit), np.nan)
        first_year = (year_no == 1)[:, None]
        keep_cash = np.where(candidate[None, :], cash - np.where(first_year, purchase_usd[0][None, :], 0.0), np.nan)
        refresh_cash = np.where(candidate[None, :] & whole[t], cash[:, [t]] - np.where(first_year, credit[None, :], 0.0),
                                np.nan)

    over = burst > 0
    reasons = np.where(~feasible, first["infeasible_reason"].to_numpy(dtype=object),
                       np.where(~whole, "the facility cannot hold the demand and no rent or API price covers the "
                                        "overflow", ""))
    rack_kw1 = pd.to_numeric(first["max_unit_kw"], errors="coerce").to_numpy(float)
    facility_note = np.select(
        [~limited | (capacity > 0), (facility.cooling == "air") & liquid,
         rack_kw1 > (facility.kw_per_rack if facility.kw_per_rack is not None else np.inf)],
        ["", "liquid-cooled; the facility is air-cooled",
         "one unit of it draws " + pd.Series(rack_kw1).map("{:,.1f}".format).to_numpy(dtype=object)
         + f" kW, over the facility's {facility.kw_per_rack or 0:g} kW per rack"],
        "not one replica fits in the facility's IT power and racks").astype(object)
    with np.errstate(divide="ignore", invalid="ignore"):
        per_mw = (pd.to_numeric(first["queries_per_s_per_rack"], errors="coerce").to_numpy(float)
                  / pd.to_numeric(first["kw_per_rack"], errors="coerce").to_numpy(float) * W_PER_KW)
    summary = pd.DataFrame({
        "accelerator": names, "vendor": first["vendor"], "price_basis": first["price_basis"],
        "feasible": feasible, "infeasible_reason": reasons,
        "fits_facility": ~(limited & (capacity < demand[0])), "facility_note": facility_note,
        "facility_capacity_queries_per_day": np.where(limited, capacity, np.nan),
        "facility_units": np.where(limited, units_fit, np.nan),
        "queries_per_s_per_mw": np.where(owned_row, per_mw, np.nan),
        "queries_per_s_per_rack": first["queries_per_s_per_rack"],
        "first_burst_year": np.where(over.any(axis=0) & feasible, over.argmax(axis=0) + 1.0, np.nan),
        "units_bought_total": np.where(feasible & owned_row, units_bought.sum(axis=0), np.nan),
        "purchase_usd_total": np.where(feasible, purchase_usd.sum(axis=0), np.nan),
        "burst_usd_total": np.where(whole, burst_usd.sum(axis=0), np.nan),
        "residual_value_usd": np.where(feasible, residual, np.nan),
        "net_present_cost_usd": npc, "npc_per_query_usd": npc_per_query,
        "year1_cost_per_query_usd": cpq[0],
        "year1_energy_per_query_j": np.where(feasible,
                                             pd.to_numeric(first["energy_per_query_j"], errors="coerce"), np.nan),
        "final_year_cost_per_query_usd": cpq[-1],
        "refresh_to": target, "refresh_payback_year": payback, "refresh_savings_usd": savings,
        "refresh_resale_credit_usd": resale,
    })
    order = np.lexsort((np.char.lower(names.astype(str)), np.nan_to_num(npc, nan=np.inf), ~whole))
    summary = summary.iloc[order].reset_index(drop=True)

    cell = lambda arr: np.asarray(arr).T[order].reshape(-1)  # noqa: E731  # chip-major, summary order
    ok_cell = np.broadcast_to(feasible[None, :], shape)
    years = pd.DataFrame({
        "accelerator": np.repeat(names[order], n_years),
        "year": np.tile(year_no, n_chips).astype(int),
        "price_basis": np.repeat(first["price_basis"].to_numpy(dtype=object)[order], n_years),
        "demand_queries_per_day": cell(demand),
        "owned_queries_per_day": cell(np.where(ok_cell, owned, np.nan)),
        "burst_queries_per_day": cell(np.where(ok_cell, burst, np.nan)),
        "burst_option": cell(np.where(over, burst_option, "")),
        "burst_usd_per_query": cell(np.where(over, burst_price, np.nan)),
        "purchase_units": cell(np.where(ok_cell & is_owned, units_run, np.nan)),
        "units_bought": cell(np.where(ok_cell & is_owned, units_bought, np.nan)),
        "accelerators": cell(np.where(ok_cell & (owned > 0), _grid(fleet, "accelerators_bought", shape), np.nan)),
        "racks": cell(np.where(ok_cell & is_owned & (owned > 0), _grid(fleet, "racks", shape), np.nan)),
        "it_kw": cell(np.where(ok_cell & is_owned & (owned > 0), _grid(fleet, "facility_power_kw", shape) / pue, np.nan)),
        "purchase_usd": cell(np.where(ok_cell, purchase_usd, np.nan)),
        "running_usd": cell(np.where(ok_cell, opex, np.nan)),
        "burst_usd": cell(np.where(plan_ok, burst_usd, np.nan)),
        "cash_usd": cell(np.where(plan_ok, cash, np.nan)),
        "discounted_cash_usd": cell(np.where(plan_ok, discounted, np.nan)),
        "annual_cost_usd": cell(np.where(plan_ok, annual_cost, np.nan)),
        "cost_per_query_usd": cell(cpq),
        "keep_cash_usd": cell(keep_cash),
        "refresh_cash_usd": cell(refresh_cash),
    })
    return PlanResult(summary, years, assumptions, facility, horizon, api_label)


def weigh(result: PlanResult, weights: dict[str, float]) -> PlanResult:
    """Rank the plans by `software.score` (compare --weights' scores and order) over
    SCORE_INPUT; only plans with a net present cost take part. The year rows follow."""
    from inferchip import software

    summary = result.summary.assign(serving_frameworks=software.frameworks_for(result.summary["accelerator"]).to_numpy())
    ranked = software.score(summary, weights, SCORE_INPUT, summary["net_present_cost_usd"].notna().to_numpy())
    order = pd.Series(np.arange(len(ranked)), index=ranked["accelerator"])
    years = result.years.assign(_rank=result.years["accelerator"].map(order).to_numpy())
    years = years.sort_values(["_rank", "year"], kind="mergesort").drop(columns="_rank").reset_index(drop=True)
    return replace(result, summary=ranked, years=years, weights=dict(weights))


# Formula and inputs of each yearly figure: the plan's `explain`.
PROVENANCE: list[dict[str, object]] = [
    {"field": name, "unit": f.unit, "formula": f.description,
     "inputs": inputs}
    for name, f, inputs in (
        (n, YEAR_FIELDS[n], i) for n, i in (
            ("demand_queries_per_day", ["workload traffic.queries_per_day", "horizon.traffic_growth_per_year"]),
            ("owned_queries_per_day", ["facility.it_kw", "facility.racks", "facility.cooling", "catalog cooling",
                                       "compare purchase_units, facility_power_kw, racks, chips_per_replica, "
                                       "queries_per_s_per_accelerator (year 1)", "utilisation_target", "pue",
                                       "traffic.peak_to_average"]),
            ("burst_queries_per_day", ["demand_queries_per_day", "owned_queries_per_day"]),
            ("burst_usd_per_query", ["compare --basis rent cost_per_query_usd at the year's demand",
                                     "data/api_prices.csv (cheapest comparable API)",
                                     "horizon.cloud_price_decline_per_year"]),
            ("purchase_units", ["compare purchase_units at owned_queries_per_day"]),
            ("units_bought", ["purchase_units", "server_life_years"]),
            ("accelerators", ["compare accelerators_bought at owned_queries_per_day"]),
            ("racks", ["compare racks at owned_queries_per_day", "facility.kw_per_rack", "facility.rack_units"]),
            ("it_kw", ["compare facility_power_kw at owned_queries_per_day", "pue"]),
            ("purchase_usd", ["compare capex_usd at owned_queries_per_day", "server_life_years",
                              "horizon.purchase_price_decline_per_year"]),
            ("running_usd", ["compare annual_opex_usd at owned_queries_per_day",
                             "horizon.cloud_price_decline_per_year (rented rows)"]),
            ("burst_usd", ["burst_queries_per_day", "burst_usd_per_query"]),
            ("cash_usd", ["purchase_usd", "running_usd", "burst_usd"]),
            ("discounted_cash_usd", ["purchase_usd", "running_usd", "burst_usd", "cost_of_capital"]),
            ("annual_cost_usd", ["purchase_usd", "cost_of_capital", "server_life_years", "capital_charge",
                                 "running_usd", "burst_usd"]),
            ("cost_per_query_usd", ["annual_cost_usd", "demand_queries_per_day"]),
            ("keep_cash_usd", ["cash_usd", "purchase_usd (year 1, sunk)", "horizon.refresh_to"]),
            ("refresh_cash_usd", ["the refresh target's cash_usd", "horizon.refresh_to",
                                  "horizon.resale_value_fraction", "purchase_usd (year 1, resold)"]),
        ))
]


def _records(frame: pd.DataFrame, glossary: dict[str, Field]) -> list[dict[str, object]]:
    from inferchip.document import clean_number

    columns = {f: frame[f].tolist() for f in glossary}
    return [{f: clean_number(columns[f][i], glossary[f].unit == "count") for f in glossary}
            for i in range(len(frame))]


def document(result: PlanResult, workload: Workload, catalog_source: str, top: int | None = None) -> dict[str, object]:
    """The JSON document of `plan`: facility, horizon, the ranked per-chip summary
    (`results`), the year-by-year rows of the chips shown (`years`) and the formula and
    inputs of every yearly figure (`provenance`)."""
    from inferchip.document import header
    from inferchip.software import weights_block

    summary = result.summary.head(top) if top else result.summary
    years = result.years[result.years["accelerator"].isin(set(summary["accelerator"]))]
    rows = _records(summary, {**PLAN_FIELDS, **(WEIGHT_FIELDS if result.weights else {})})
    best = next((r for r in rows if r["net_present_cost_usd"] is not None), None)
    weighted = {"weights": weights_block(result.weights, WEIGHT_FIELDS)} if result.weights else {}
    return {
        **header("plan", workload, result.assumptions, catalog_source),
        "facility": result.facility.as_dict(),
        "horizon": result.horizon.as_dict(),
        "burst_api": result.api_option,
        "best": None if best is None else {k: best[k] for k in (
            "accelerator", "price_basis", "net_present_cost_usd", "npc_per_query_usd", "first_burst_year")},
        "results": rows,
        "years": _records(years, YEAR_FIELDS),
        "provenance": PROVENANCE,
        **weighted,
    }


def plan_schema() -> dict[str, object]:
    """JSON Schema of `plan --format json` (registered in schema.SCHEMAS)."""
    from inferchip.analysis_schema import _common, _rows
    from inferchip.schema import _property

    number_or_null = {"type": ["number", "null"]}
    text_or_null = {"type": ["string", "null"]}
    facility = {"type": "object", "required": list(Facility.__dataclass_fields__), "properties": {
        "it_kw": number_or_null, "racks": number_or_null, "kw_per_rack": number_or_null,
        "rack_units": number_or_null, "cooling": {"enum": ["air", "liquid", None]}}}
    horizon = {"type": "object", "required": list(Horizon.__dataclass_fields__), "properties": {
        "years": {"type": "integer"}, "traffic_growth_per_year": {"type": "number"},
        "purchase_price_decline_per_year": {"type": "number"}, "cloud_price_decline_per_year": {"type": "number"},
        "refresh_to": text_or_null, "resale_value_fraction": {"type": "number"}}}
    provenance = {"type": "array", "items": {"type": "object", "required": ["field", "unit", "formula", "inputs"],
                                             "properties": {"field": {"type": "string"}, "unit": {"type": "string"},
                                                            "formula": {"type": "string"},
                                                            "inputs": {"type": "array", "items": {"type": "string"}}}}}
    summary = {name: _property(name, f) for name, f in {**PLAN_FIELDS, **WEIGHT_FIELDS}.items()}
    summary["fits_facility"] = {"type": "boolean", "description": PLAN_FIELDS["fits_facility"].description}
    yearly = {name: _property(name, f) for name, f in YEAR_FIELDS.items()}
    return _common("plan", "inferchip plan --format json", {
        "facility": facility, "horizon": horizon,
        "burst_api": {"type": "string", "description": "cheapest comparable per-token API for the burst, '' when none"},
        "best": {"type": ["object", "null"], "description": "the first ranked plan with a net present cost: the "
                                                             "lowest, or with --weights the highest weighted_score"},
        "weights": {"type": "object", "required": ["given", "normalised", "scores"],
                    "properties": {"given": {"type": "object", "additionalProperties": {"type": "number"}},
                                   "normalised": {"type": "object", "additionalProperties": {"type": "number"}},
                                   "scores": {"type": "object", "additionalProperties": {"type": "string"}}},
                    "description": "present with --weights: the weights as given, normalised, and each score's "
                                   "definition"},
        "results": _rows(summary, list(PLAN_FIELDS)),
        "years": _rows(yearly, list(YEAR_FIELDS)),
        "provenance": provenance,
    }, ["facility", "horizon", "burst_api", "best", "results", "years", "provenance"])
