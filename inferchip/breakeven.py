"""Own vs rent vs per-token API: break-even volume and payback.

For every accelerator, at the workload's volume and across volumes:

- own: annual TCO / annual queries (capital charge + running costs, `compare`'s
  cost per query) for a chip that can be bought;
- rent on demand: the same fleet rented all year,
  accelerators x cloud USD per accelerator-hour x 8,760 / annual queries;
- rent committed: on demand x (1 - committed_use_discount);
- per-token API: (input tokens x USD per million input + output tokens x USD per
  million output) / 10^6, the cheapest list price in data/api_prices.csv for a
  model comparable to the workload's preset.

Break-even volume against an alternative: the lowest daily volume from which
owning costs no more per query than the alternative at every higher volume of
the search grid (log grid from volume / 10^4 to volume x 10^4, 40 points per
decade), refined by bisection to 0.01 %. Payback months at the workload's volume:
capex / ((annual cost of the alternative - annual running cost of owning) / 12);
none when owning's running cost alone exceeds the alternative.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from inferchip.assumptions import Assumptions
from inferchip.calibration import attach_factors
from inferchip.compare import evaluate, scenario_frame
from inferchip.csvfile import empty_cells, read_csv_rows, require_columns
from inferchip.data_files import data_path
from inferchip.errors import InputError
from inferchip.measured import candidates
from inferchip.runcache import persistent
from inferchip.units import DAYS_PER_YEAR, MONTHS_PER_YEAR, TOKENS_PER_MILLION
from inferchip.workload import Workload

DECADES = 4.0  # the volume grid spans workload volume / 10^4 .. x 10^4
POINTS_PER_DECADE = 40
BISECTION_STEPS = 24  # a 6 % grid step refined 2^24-fold in log space
ALTERNATIVES = ("on_demand", "committed", "api")
API_COLUMNS = ("provider", "model", "comparable_preset", "usd_per_million_input_tokens",
               "usd_per_million_output_tokens", "source", "as_of", "notes")
GRID_COLUMNS = ["price_basis", "cost_per_query_usd", "cloud_cost_per_query_usd"]


def read_api_prices(path: Path | None = None) -> pd.DataFrame:
    """data/api_prices.csv (or `path`), validated: every row has a provider, model,
    comparable preset, two positive prices, a source and a date."""
    return _bundled_api_prices() if path is None else _read_api_prices(Path(path))


@persistent({"api_prices.csv": "API price"}, copy=True)
def _bundled_api_prices() -> pd.DataFrame:
    return _read_api_prices(data_path("api_prices.csv"))


def _read_api_prices(path: Path) -> pd.DataFrame:
    header, lines = read_csv_rows(path, "API price")
    require_columns(path, header, API_COLUMNS)
    rows, problems = [], []
    for line, row in lines:
        problems += empty_cells(path, line, row, ("provider", "model", "comparable_preset", "source", "as_of"))
        for column in ("usd_per_million_input_tokens", "usd_per_million_output_tokens"):
            try:
                value = float(row[column])
            except (TypeError, ValueError):
                problems.append(f"{path}: line {line}: column '{column}': {row[column]!r} is not a number")
                continue
            if not math.isfinite(value) or value <= 0:
                problems.append(f"{path}: line {line}: column '{column}': must be a positive price")
        rows.append(row)
    if problems:
        raise InputError("\n".join(problems))
    frame = pd.DataFrame(rows, columns=list(API_COLUMNS))
    for column in ("usd_per_million_input_tokens", "usd_per_million_output_tokens"):
        frame[column] = frame[column].astype(float)
    return frame


def api_options(workload: Workload, prices: pd.DataFrame) -> pd.DataFrame:
    """Cost per query of every API comparable to the workload's preset, cheapest first."""
    if workload.kind != "llm" or not workload.preset:
        return prices.iloc[0:0].assign(cost_per_query_usd=pd.Series(dtype=float))
    rows = prices[prices["comparable_preset"].str.lower() == workload.preset.lower()]
    per_query = (workload.input_tokens * rows["usd_per_million_input_tokens"]
                 + workload.output_tokens * rows["usd_per_million_output_tokens"]) / TOKENS_PER_MILLION
    out = rows.assign(cost_per_query_usd=per_query)
    return out.sort_values(["cost_per_query_usd", "provider"], kind="mergesort").reset_index(drop=True)


def api_unavailable_reason(workload: Workload) -> str:
    if workload.kind != "llm":
        return "a fixed-work model has no per-token API price"
    if not workload.preset:
        return "the workload names no [model] preset to match against data/api_prices.csv"
    return f"no API in data/api_prices.csv lists a model comparable to preset '{workload.preset}'"


@dataclass
class Breakeven:
    results: pd.DataFrame
    api: pd.DataFrame
    api_note: str
    discount: float
    grid_queries_per_day: tuple[float, float]


def _costs(kind_args: tuple, chips: pd.DataFrame, workload: Workload, assumptions: Assumptions,
           volumes: np.ndarray, discount: float, api_cost: float, measured) -> dict[str, np.ndarray]:
    """Per (volume, chip) arrays: own, on-demand, committed and API cost per query."""
    scen = scenario_frame(workload, assumptions, len(volumes)).assign(queries_per_day=volumes)
    frame = evaluate(*kind_args[:1], chips, scen, *kind_args[1:], columns=GRID_COLUMNS, measured=measured)
    shape = (len(volumes), len(chips))
    owned = (frame["price_basis"].to_numpy() == "owned").reshape(shape)
    own = np.where(owned, frame["cost_per_query_usd"].to_numpy(dtype=float).reshape(shape), np.nan)
    on_demand = frame["cloud_cost_per_query_usd"].to_numpy(dtype=float).reshape(shape)
    return {"own": own, "on_demand": on_demand, "committed": on_demand * (1.0 - discount),
            "api": np.full(shape, api_cost)}


def run(workload: Workload, assumptions: Assumptions, chips: pd.DataFrame, prices: pd.DataFrame | None = None,
        measured: pd.DataFrame | None = None, progress: Callable[[int, int], None] | None = None) -> Breakeven:
    """Every option's cost per query at the workload's volume, break-even volumes and
    payback per accelerator. `progress(done, total)` after the grid and each bisection step."""
    chips = attach_factors(chips, workload_kind=workload.kind).reset_index(drop=True)
    discount = float(assumptions["committed_use_discount"])
    options = api_options(workload, read_api_prices() if prices is None else prices)
    api_cost = float(options["cost_per_query_usd"].iloc[0]) if len(options) else math.nan
    kind_args = (workload.kind, workload.precision, workload.kv_precision)
    if measured is None:  # measured beats modeled, as in `compare`
        measured = candidates(workload.preset, workload.precision)
    base = evaluate(workload.kind, chips, scenario_frame(workload, assumptions, 1), workload.precision,
                    workload.kv_precision, measured=measured)
    volume = workload.queries_per_day
    exponents = np.linspace(-DECADES, DECADES, int(2 * DECADES * POINTS_PER_DECADE) + 1)
    volumes = volume * 10.0 ** exponents
    grid = _costs(kind_args, chips, workload, assumptions, volumes, discount, api_cost, measured)
    steps = 1 + BISECTION_STEPS
    if progress is not None:
        progress(1, steps)
    n_c = len(chips)
    out: dict[str, np.ndarray] = {}
    alts, chip_of, lo, hi = [], [], [], []  # brackets to refine: alternative, chip, low and high volume
    for alt in ALTERNATIVES:
        wins = grid["own"] <= grid[alt]  # NaN on either side: not a win
        suffix = np.logical_and.accumulate(wins[::-1], axis=0)[::-1]  # wins here and at every higher volume
        always, first = suffix[0], np.argmax(suffix, axis=0)
        status = np.where(always, "at every volume tried", np.where(suffix.any(axis=0), "breakeven", "never"))
        status = np.where(np.isfinite(grid[alt]).any(axis=0), status, "no such option")
        status = np.where(np.isfinite(grid["own"]).any(axis=0), status, "cannot own")
        out[f"owning_vs_{alt}"] = status
        out[f"breakeven_queries_per_day_vs_{alt}"] = np.full(n_c, np.nan)
        crossing = np.flatnonzero(status == "breakeven")
        alts.append(np.full(len(crossing), alt, dtype=object))
        chip_of.append(crossing)
        lo.append(volumes[first[crossing] - 1])
        hi.append(volumes[first[crossing]])
    alts, chip_of, lo, hi = (np.concatenate(a) for a in (alts, chip_of, lo, hi))
    if len(chip_of):
        rows = np.arange(len(chip_of))
        for step in range(BISECTION_STEPS):  # every bracket halves at once: one evaluation per step
            mid = np.sqrt(lo * hi)
            costs = _costs(kind_args, chips, workload, assumptions, mid, discount, api_cost, measured)
            own = costs["own"][rows, chip_of]
            alt_cost = np.select([alts == a for a in ALTERNATIVES], [costs[a][rows, chip_of] for a in ALTERNATIVES])
            win = own <= alt_cost
            hi, lo = np.where(win, mid, hi), np.where(win, lo, mid)
            if progress is not None:
                progress(2 + step, steps)
        for alt in ALTERNATIVES:
            mine = alts == alt
            out[f"breakeven_queries_per_day_vs_{alt}"][chip_of[mine]] = hi[mine]
    annual_queries = volume * DAYS_PER_YEAR
    owned = base["price_basis"].to_numpy() == "owned"
    own_now = np.where(owned, base["cost_per_query_usd"].to_numpy(dtype=float), np.nan)
    on_demand_now = base["cloud_cost_per_query_usd"].to_numpy(dtype=float)
    now = {"own": own_now, "on_demand": on_demand_now, "committed": on_demand_now * (1.0 - discount),
           "api": np.full(n_c, api_cost)}
    capex = np.where(owned, base["capex_usd"].to_numpy(dtype=float), np.nan)
    opex = np.where(owned, base["annual_opex_usd"].to_numpy(dtype=float), np.nan)
    for alt in ALTERNATIVES:
        saving_per_month = (now[alt] * annual_queries - opex) / MONTHS_PER_YEAR
        with np.errstate(divide="ignore", invalid="ignore"):
            out[f"payback_months_vs_{alt}"] = np.where(saving_per_month > 0, capex / saving_per_month, np.nan)
    stacked = np.vstack([now[k] for k in ("own", "on_demand", "committed", "api")])
    finite = np.isfinite(stacked)
    cheapest = np.argmin(np.where(finite, stacked, np.inf), axis=0)
    labels = np.array(["own", "rent on demand", "rent committed", "api"], dtype=object)
    results = pd.DataFrame({
        "accelerator": base["accelerator"].astype(str).to_numpy(),
        "price_basis": base["price_basis"].to_numpy(),
        "feasible": base["feasible"].to_numpy(dtype=bool),
        "own_cost_per_query_usd": now["own"],
        "on_demand_cost_per_query_usd": now["on_demand"],
        "committed_cost_per_query_usd": now["committed"],
        "api_cost_per_query_usd": now["api"],
        "cheapest_option": np.where(finite.any(axis=0), labels[cheapest], ""),
        "capex_usd": capex, "annual_opex_usd": opex,
        **{k: out[k] for k in (*(f"breakeven_queries_per_day_vs_{a}" for a in ALTERNATIVES),
                               *(f"owning_vs_{a}" for a in ALTERNATIVES),
                               *(f"payback_months_vs_{a}" for a in ALTERNATIVES))},
        "infeasible_reason": base["infeasible_reason"].astype(str).to_numpy(),
    })
    key = np.where(np.isfinite(now["own"]), now["own"], np.inf)
    fallback = np.min(np.where(finite, stacked, np.inf), axis=0)
    order = np.lexsort((results["accelerator"].str.lower().to_numpy(),
                        fallback, key))
    results = results.iloc[order].reset_index(drop=True)
    note = "" if len(options) else api_unavailable_reason(workload)
    return Breakeven(results, options, note, discount, (float(volumes[0]), float(volumes[-1])))


def document(result: Breakeven, workload: Workload, assumptions: Assumptions, catalog_source: str,
             top: int | None = None) -> dict[str, object]:
    from inferchip.document import header, records

    rows = result.results.head(top) if top else result.results
    return {
        **header("breakeven", workload, assumptions, catalog_source),
        "committed_use_discount": result.discount,
        "volume_grid_queries_per_day": list(result.grid_queries_per_day),
        "api_options": records(result.api),
        "api_note": result.api_note,
        "results": records(rows),
    }
