"""Economic and modelling assumptions: defaults with units and sources, and
the layered overrides (workload [economics] < --assumptions FILE < --set)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from inferchip.data_files import data_path
from inferchip.errors import InputError, UsageError, did_you_mean, short_repr, shown
from inferchip.runcache import persistent
from inferchip.tomlfile import read_toml

# key -> (minimum, minimum allowed?, maximum or None, maximum allowed?)
# The caps on rates and lives keep the capital recovery factor (1+r)^n finite.
_RANGES: dict[str, tuple[float, bool, float | None, bool]] = {
    "pue": (1.0, True, None, False),
    "cost_of_capital": (0.0, True, 1.0, True),
    "utilisation_target": (0.0, False, 1.0, True),
    "busy_power_fraction": (0.0, False, 1.0, True),
    "idle_power_fraction": (0.0, True, 1.0, True),
    "memory_usable_fraction": (0.0, False, 1.0, True),
    "server_life_years": (0.0, False, 100.0, True),
    "facility_life_years": (0.0, False, 100.0, True),
    "rack_power_budget_air_kw": (0.0, False, None, False),
    "rack_power_budget_liquid_kw": (0.0, False, None, False),
    "rack_units_usable": (0.0, False, None, False),
    "max_batch_size": (1.0, True, None, False),
    "committed_use_discount": (0.0, True, 1.0, False),
}
# Plausible magnitudes of any numeric assumption: beyond them a typo is likelier
# than a real site, and costs could overflow to inf.
MAX_MAGNITUDE = 1e12
MIN_MAGNITUDE = 1e-6
_CHOICES: dict[str, tuple[str, ...]] = {
    "facility_model": ("colocation", "owned"),
    "capital_charge": ("annuity", "straight_line"),
    "allocation": ("dedicated", "shared"),
    "serving_mode": ("aggregated", "disaggregated", "auto"),
}


@dataclass(frozen=True)
class AssumptionSpec:
    key: str
    default: float | str
    unit: str
    source: str
    low: float | None = None
    high: float | None = None


@dataclass(frozen=True)
class Assumptions:
    """Resolved values, and where each came from ("default", a file, "--set")."""

    values: dict[str, float | str]
    origins: dict[str, str]
    specs: dict[str, AssumptionSpec]

    def __getitem__(self, key: str) -> float | str:
        return self.values[key]


def load_specs(path: Path | None = None) -> dict[str, AssumptionSpec]:
    """The bundled defaults (data/assumptions.toml) as specs, in file order; the bundled
    file is parsed once per run and file version (`compare A B ...` loads it per workload)."""
    if path is None:
        bundled = data_path("assumptions.toml")
        try:
            stat = bundled.stat()
        except OSError:  # read_toml says what is wrong
            return _read_specs(bundled)
        return dict(_bundled_specs(str(bundled), stat.st_mtime_ns, stat.st_size))  # a copy: callers may add keys
    return _read_specs(path)


@lru_cache(maxsize=2)
@persistent({"assumptions.toml": "TOML"}, paths=(0,))
def _bundled_specs(path: str, mtime_ns: int, size: int) -> dict[str, AssumptionSpec]:
    return _read_specs(Path(path))


def _read_specs(path: Path) -> dict[str, AssumptionSpec]:
    raw = read_toml(path)
    specs: dict[str, AssumptionSpec] = {}
    for key, entry in raw.items():
        if key == "schema_version":
            continue
        specs[key] = AssumptionSpec(
            key=key,
            default=entry["value"],
            unit=entry.get("unit", ""),
            source=entry.get("source", ""),
            low=entry.get("low"),
            high=entry.get("high"),
        )
    return specs


def check_value(key: str, value: object, where: str, specs: dict[str, AssumptionSpec]) -> float | str:
    """Validate one assumption value; return it normalised (float, or a choice string)."""
    if key not in specs:
        raise InputError(f"{where}: unknown assumption '{shown(key)}'.{did_you_mean(key, list(specs))}"
                         " See `inferchip assumptions` or data/assumptions.toml for the keys.")
    if key in _CHOICES:
        if not isinstance(value, str) or value not in _CHOICES[key]:
            hint = did_you_mean(value, _CHOICES[key]) if isinstance(value, str) else ""
            raise InputError(f"{where}: '{key}' must be one of {', '.join(_CHOICES[key])} (got {short_repr(value)}).{hint}"
                             .rstrip("."))
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError(f"{where}: '{key}' must be a number in {specs[key].unit} (got {short_repr(value)}){_text_hint(value)}")
    try:
        number = float(value)
    except OverflowError:  # an integer beyond float range
        number = math.inf if value > 0 else -math.inf
    if not math.isfinite(number):
        raise InputError(f"{where}: '{key}' must be a finite number (got {short_repr(value)})")
    if abs(number) > MAX_MAGNITUDE:
        raise InputError(f"{where}: '{key}' = {short_repr(value)} is implausibly large (above 1e12);"
                         f" check the unit: {specs[key].unit}")
    lo, lo_ok, hi, hi_ok = _RANGES.get(key, (0.0, True, None, False))
    if 0 < abs(number) < MIN_MAGNITUDE:
        zero = " or write 0" if lo == 0 and lo_ok else ""
        raise InputError(f"{where}: '{key}' = {short_repr(value)} is implausibly small (below 1e-6);"
                         f" check the unit ({specs[key].unit}){zero}")
    if number < lo or (number == lo and not lo_ok):
        bound = ">=" if lo_ok else ">"
        raise InputError(f"{where}: '{key}' must be {bound} {lo:g} (got {short_repr(value)})")
    if hi is not None and (number > hi or (number == hi and not hi_ok)):
        bound = "<=" if hi_ok else "<"
        raise InputError(f"{where}: '{key}' must be {bound} {hi:g} (got {short_repr(value)})")
    return number


def _text_hint(value: object) -> str:
    """A fix for a number written as text: decimal comma, quotes, units."""
    if not isinstance(value, str):
        return ""
    text = value.strip()
    whole, comma, decimals = text.partition(",")
    if comma and whole.isdigit() and decimals.isdigit() and len(decimals) != 3:
        return f"; use a dot for decimals: {whole}.{decimals}"
    try:
        float(text)
    except ValueError:
        return ("; write a plain number: a dot for decimals, no units or thousands separators"
                if any(ch.isdigit() for ch in text) else "")
    return f"; write it without quotes: {text}"


def read_assumptions_file(path: Path) -> dict[str, object]:
    """A user assumptions file: flat `key = value` pairs (a `[key] value = ...` table also works)."""
    raw = read_toml(path)
    raw.pop("schema_version", None)
    flat: dict[str, object] = {}
    for key, value in raw.items():
        if isinstance(value, dict):
            if "value" not in value:
                raise InputError(f"{path}: [{shown(key)}]: an assumptions file is flat; write `key = value` lines"
                                 " without sections, e.g. pue = 1.4")
            value = value["value"]
        flat[key] = value
    return flat


def parse_scalar(text: str) -> float | str:
    """A --set value: a number when it parses as one, else the text."""
    try:
        return float(text.replace("_", ""))
    except ValueError:
        return text


def parse_set_options(items: list[str]) -> dict[str, float | str]:
    """`key=value` strings from --set, in order (later wins)."""
    out: dict[str, float | str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key or not value:
            raise UsageError(f"--set {item!r}: expected key=value, e.g. --set pue=1.4")
        out[key] = parse_scalar(value)
    return out


def resolve(layers: list[tuple[str, dict[str, object]]],
            specs: dict[str, AssumptionSpec] | None = None) -> Assumptions:
    """Defaults overridden by each (origin, values) layer in turn; every value checked."""
    specs = specs or load_specs()
    values: dict[str, float | str] = {k: s.default for k, s in specs.items()}
    origins = {k: "default" for k in specs}
    for origin, overrides in layers:
        for key, value in overrides.items():
            values[key] = check_value(key, value, origin, specs)
            origins[key] = origin
    return Assumptions(values=values, origins=origins, specs=specs)
