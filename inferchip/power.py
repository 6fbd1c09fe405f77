"""Power that follows load. Pure, vectorized (scalars or arrays).

A server draws `idle` with the model loaded and nothing to do, and `busy` at full
inference load; in between power is linear in load:

    P(u) [kW] = P_max x (idle + (busy - idle) x u),   u in [0, 1]

`busy` and `idle` are fractions of the server's maximum power (the catalog's
vendor maximum). Per chip from data/power_profiles.csv where MLPerf Power (or a
power log) measured them, otherwise the assumptions `busy_power_fraction`
(calibrated on the MLPerf Power llama2-70b rows) and `idle_power_fraction`.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from inferchip.csvfile import empty_cells, read_csv_rows, require_columns
from inferchip.data_files import data_path
from inferchip.errors import InputError
from inferchip.runcache import persistent
from inferchip.units import SECONDS_PER_DAY, W_PER_KW

PROFILE_COLUMNS = ("accelerator", "busy_power_fraction", "idle_power_fraction", "source", "as_of")
FRACTIONS = ("busy_power_fraction", "idle_power_fraction")


def read_profiles(path: Path | None = None) -> pd.DataFrame:
    """data/power_profiles.csv (or `path`): per chip busy/idle fractions of max power
    (each in (0, 1], idle below busy), with source and date."""
    path = Path(path) if path is not None else data_path("power_profiles.csv")
    header, lines = read_csv_rows(path, "power profile")
    require_columns(path, header, PROFILE_COLUMNS)
    rows, problems = [], []
    for line, row in lines:
        problems += empty_cells(path, line, row, ("accelerator", "source", "as_of"))
        values = {}
        for column in FRACTIONS:
            text = row.get(column) or ""
            if not text:
                values[column] = np.nan
                continue
            try:
                values[column] = float(text)
            except ValueError:
                problems.append(f"{path}: line {line}: column '{column}': {text!r} is not a number")
                continue
            if not 0 < values[column] <= 1:
                problems.append(f"{path}: line {line}: column '{column}': must be a fraction in (0, 1]")
        if all(np.isfinite(values.get(c, np.nan)) for c in FRACTIONS) and values["idle_power_fraction"] >= values[
                "busy_power_fraction"]:
            problems.append(f"{path}: line {line}: idle_power_fraction must be below busy_power_fraction")
        rows.append({"accelerator": row.get("accelerator", ""), **values, "power_source": row.get("source", "")})
    if problems:
        raise InputError("\n".join(problems))
    return pd.DataFrame(rows, columns=["accelerator", *FRACTIONS, "power_source"])


@lru_cache(maxsize=1)
@persistent({"power_profiles.csv": "power profile"})
def bundled_profiles() -> pd.DataFrame:
    return read_profiles()


def attach_profiles(chips: pd.DataFrame, profiles: pd.DataFrame | None = None) -> pd.DataFrame:
    """The catalog frame plus `chip_busy_power_fraction`, `chip_idle_power_fraction` (NaN where
    no profile: the assumptions apply) and `power_source`, matched by name case-insensitively."""
    profiles = bundled_profiles() if profiles is None else profiles
    table = profiles.assign(_key=profiles["accelerator"].str.lower()).set_index("_key")
    key = chips["name"].str.lower()
    return chips.assign(
        chip_busy_power_fraction=key.map(table["busy_power_fraction"]).astype(float).to_numpy(),
        chip_idle_power_fraction=key.map(table["idle_power_fraction"]).astype(float).to_numpy(),
        power_source=key.map(table["power_source"]).fillna("").to_numpy(dtype=object),
    )


def fraction(chip_value, default):
    """The chip's measured fraction where known, else the assumption."""
    return np.where(np.isfinite(chip_value), chip_value, default)


def power_kw(max_kw, idle_fraction, busy_fraction, load):
    """Average power [kW] = max kW x (idle + (busy - idle) x load), load in [0, 1]."""
    return max_kw * (idle_fraction + (busy_fraction - idle_fraction) * load)


def work_energy_per_query_j(max_kw_per_accelerator, idle_fraction, busy_fraction, chips_per_replica,
                            queries_per_s_per_replica, pue):
    """Energy the work itself needs [J/query] = (busy - idle) x max kW per accelerator x
    chips per replica x 1,000 / queries per second per replica x PUE: the floor that energy
    per query approaches as the fleet fills."""
    return ((busy_fraction - idle_fraction) * max_kw_per_accelerator * chips_per_replica * W_PER_KW
            / queries_per_s_per_replica * pue)


def energy_per_query_j(avg_kw, pue, queries_per_day):
    """Facility energy per query [J] = average IT kW x PUE x 1,000 x 86,400 / queries per day."""
    return avg_kw * pue * W_PER_KW * SECONDS_PER_DAY / queries_per_day


ENERGY_FIELDS = ("facility_power_kw", "energy_per_query_j", "work_energy_per_query_j")


def energy_fields(avg_kw, provisioned_kw, accelerators_bought, idle_fraction, busy_fraction, chips_per_replica,
                  qps_replica, pue, queries_per_day, wanted=ENERGY_FIELDS) -> dict:
    """The fleet's facility power [kW] = provisioned IT kW x PUE, its energy per query [J]
    (energy_per_query_j) and the work's own energy per query [J] (work_energy_per_query_j,
    at the provisioned kW per accelerator bought), those in `wanted`. One place for compare's
    table and a sweep's cost-only grid (costgrid)."""
    out = {}
    if "facility_power_kw" in wanted:
        out["facility_power_kw"] = provisioned_kw * pue
    if "energy_per_query_j" in wanted:
        out["energy_per_query_j"] = energy_per_query_j(avg_kw, pue, queries_per_day)
    if "work_energy_per_query_j" in wanted:
        with np.errstate(divide="ignore", invalid="ignore"):
            per_accelerator_kw = provisioned_kw / accelerators_bought
        out["work_energy_per_query_j"] = work_energy_per_query_j(per_accelerator_kw, idle_fraction, busy_fraction,
                                                                 chips_per_replica, qps_replica, pue)
    return out
