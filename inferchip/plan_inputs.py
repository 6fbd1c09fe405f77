"""Facility limits and the planning horizon of `inferchip plan`: read from the
workload's optional [facility] / [horizon] tables, overridden by command-line
options, validated with one message per problem naming the key and the fix."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from inferchip.errors import InputError, UsageError, short_repr

COOLING = ("air", "liquid")
MAX_YEARS = 30  # a horizon beyond a few hardware generations is guesswork


@dataclass(frozen=True)
class Facility:
    """What the hall offers; None = no limit of that kind."""

    it_kw: float | None = None        # IT power available to servers [kW]
    racks: float | None = None        # racks available [count]
    kw_per_rack: float | None = None  # power deliverable per rack [kW]; sets rack_power_budget_*_kw
    rack_units: float | None = None   # usable rack units per rack [U]; sets rack_units_usable
    cooling: str | None = None        # "air": liquid-cooled servers do not fit; "liquid": both fit

    @property
    def limited(self) -> bool:
        return self.it_kw is not None or self.racks is not None or self.cooling == "air"

    def as_dict(self) -> dict[str, object]:
        return {"it_kw": self.it_kw, "racks": self.racks, "kw_per_rack": self.kw_per_rack,
                "rack_units": self.rack_units, "cooling": self.cooling}


@dataclass(frozen=True)
class Horizon:
    years: int = 5
    traffic_growth_per_year: float = 0.0          # traffic(y) = traffic(1) x (1 + g)^(y-1) [fraction/year]
    purchase_price_decline_per_year: float = 0.0  # hardware price(y) = list x (1 - d)^(y-1) [fraction/year]
    cloud_price_decline_per_year: float = 0.0     # rent and API price(y) = today's x (1 - d)^(y-1) [fraction/year]
    refresh_to: str | None = None                 # the chip a refresh replaces each owned fleet with
    # what the fleet a refresh retires sells for, as a fraction of what it cost [fraction];
    # 0 by default: no sourced figure (docs/plan.md gives the published range, about 0.1-0.65 by age)
    resale_value_fraction: float = 0.0

    def as_dict(self) -> dict[str, object]:
        return {"years": self.years, "traffic_growth_per_year": self.traffic_growth_per_year,
                "purchase_price_decline_per_year": self.purchase_price_decline_per_year,
                "cloud_price_decline_per_year": self.cloud_price_decline_per_year, "refresh_to": self.refresh_to,
                "resale_value_fraction": self.resale_value_fraction}


FACILITY_KEYS = tuple(Facility.__dataclass_fields__)
HORIZON_KEYS = tuple(Horizon.__dataclass_fields__)


def _positive(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value > 0


def _fraction(value: object, low: float) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
            and low <= value < 1)


def _check(values: dict, where: dict[str, str], problems: list[str]) -> None:
    """Type and range of every given value; `where[key]` names it for the user."""
    for key, value in values.items():
        name = where[key]
        if key in ("it_kw", "racks", "kw_per_rack", "rack_units"):
            if not _positive(value):
                problems.append(f"{name}: must be a number above 0 (got {short_repr(value)})")
        elif key == "cooling":
            if value not in COOLING:
                problems.append(f"{name}: must be 'air' or 'liquid' (got {short_repr(value)})")
        elif key == "years":
            if not (isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_YEARS):
                problems.append(f"{name}: must be a whole number of years from 1 to {MAX_YEARS} (got {short_repr(value)})")
        elif key == "traffic_growth_per_year":
            if not (isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
                    and 0 <= value <= 10):
                problems.append(f"{name}: must be a fraction from 0 to 10, e.g. 0.6 for 60 % a year (got "
                                f"{short_repr(value)}); a plan keeps what it bought, so traffic may not shrink")
        elif key in ("purchase_price_decline_per_year", "cloud_price_decline_per_year"):
            if not _fraction(value, 0.0):
                problems.append(f"{name}: must be a fraction from 0 up to (not including) 1, e.g. 0.15 "
                                f"(got {short_repr(value)})")
        elif key == "resale_value_fraction":
            if not (isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
                    and 0 <= value <= 1):
                problems.append(f"{name}: must be a fraction from 0 to 1 of what the retired fleet cost, e.g. 0.3 "
                                f"(got {short_repr(value)})")
        elif key == "refresh_to":
            if not (isinstance(value, str) and value.strip()):
                problems.append(f"{name}: must be an accelerator name in quotes (got {short_repr(value)})")


def resolve(facility_table: dict, horizon_table: dict, origin: str,
            options: dict[str, object]) -> tuple[Facility, Horizon]:
    """The profile's [facility] / [horizon] tables, then the command-line `options`
    (keys as in the tables, None = not given) on top. Raises InputError (the file) or
    UsageError (an option) listing every problem."""
    problems: list[str] = []
    for table, allowed, section in ((facility_table, FACILITY_KEYS, "facility"), (horizon_table, HORIZON_KEYS, "horizon")):
        for key in table:
            if key not in allowed:
                problems.append(f"{origin}: {section}.{key}: unknown key. Allowed: {', '.join(allowed)}")
    file_values = {k: v for k, v in {**facility_table, **horizon_table}.items() if k in FACILITY_KEYS + HORIZON_KEYS}
    where = {k: f"{origin}: {'facility' if k in FACILITY_KEYS else 'horizon'}.{k}" for k in file_values}
    _check(file_values, where, problems)
    if problems:
        raise InputError("\n".join(problems))
    given = {k: v for k, v in options.items() if v is not None}
    _check(given, {k: "--" + k.replace("_", "-") for k in given}, problems)
    if problems:
        raise UsageError("\n".join(problems))
    values = {**file_values, **given}
    facility = replace(Facility(), **{k: (float(v) if k != "cooling" else v) for k, v in values.items()
                                      if k in FACILITY_KEYS})
    horizon = replace(Horizon(), **{k: (v if k in ("years", "refresh_to") else float(v))
                                    for k, v in values.items() if k in HORIZON_KEYS})
    return facility, horizon
