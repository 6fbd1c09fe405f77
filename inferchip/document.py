"""The canonical result document: JSON-ready dicts built from result frames.

Every renderer (table, JSON, CSV, TSV, Markdown) is a view of this document."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from inferchip import __version__
from inferchip.assumptions import Assumptions
from inferchip.units import COMPARE_SCHEMA_VERSION, RESULT_FIELDS
from inferchip.workload import Workload

SCHEMA_VERSION = 1
COUNT_FIELDS = frozenset(k for k, f in RESULT_FIELDS.items() if f.unit == "count")
SIGNIFICANT_DIGITS = 10
_AS_IS = frozenset({str, bool, int, type(None)})  # the exact types clean_number returns unchanged
_MAX_EXACT_POWER = 22  # 10**22 is the largest power of ten a double holds exactly
_POWERS_OF_TEN = np.array([float(10**i) for i in range(_MAX_EXACT_POWER + 1)])
_VELTKAMP = float(2**27 + 1)  # splits a double's 53-bit significand in two halves


def clean_number(value: object, integer: bool = False) -> object:
    """NaN/inf -> None, numpy scalars -> Python, floats rounded to 10 significant digits."""
    if value is None or value is pd.NA:
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        number = float(value)
        if not math.isfinite(number):
            return None
        if integer and number.is_integer():
            return int(number)
        return float(f"{number:.{SIGNIFICANT_DIGITS}g}")
    return value


def round_significant(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`float(f"{v:.10g}")` (SIGNIFICANT_DIGITS) of every value of a float64 array, in one
    vectorized pass, and a mask of where that pass is exact; elsewhere (non-finite, at or
    beyond 1e10, below about 1e-13) the value is returned as it is, for the caller to
    format as text.

    The decimal rounding of v is n * 10**-k [same unit as v], n = round_half_even(|v| * 10**k)
    with k = 9 - floor(log10 |v|), so that 10**9 <= n <= 10**10. For 0 <= k <= 22 the power
    is an exact double, the product's rounding error is known exactly (Dekker's
    two-product; it decides a product that lands on a half) and n / 10**k is the double
    nearest the decimal, as float() of the formatted text is. A floor(log10) one too large
    gives an exact product below 10**9, one too small an n above 10**10 (n == 10**10 is
    the same decimal either way): both are left to the text formatting."""
    magnitude = np.abs(values)
    with np.errstate(all="ignore"):  # zero, NaN and inf give -inf or NaN exponents; they are not exact
        shift = (SIGNIFICANT_DIGITS - 1) - np.floor(np.log10(magnitude))
        exact = (shift >= 0) & (shift <= _MAX_EXACT_POWER)
        scale = _POWERS_OF_TEN[np.where(exact, shift, 0).astype(np.intp)]
        product = magnitude * scale
        error = _product_error(magnitude, scale, product)  # product + error == magnitude * scale exactly
        whole = np.rint(product)  # half to even, right unless the product sits on a half
        half = product - whole
        whole = whole + ((half == 0.5) & (error > 0)) - ((half == -0.5) & (error < 0))
        low = 10.0 ** (SIGNIFICANT_DIGITS - 1)
        exact &= ((product > low) | ((product == low) & (error >= 0))) & (whole <= 10.0 * low)
        exact |= magnitude == 0  # 0.0 and -0.0 stay as they are
        return np.where(exact, np.copysign(whole / scale, values), values), exact


def _product_error(a: np.ndarray, b: np.ndarray, product: np.ndarray) -> np.ndarray:
    """a * b - product, exactly (Dekker's two-product with Veltkamp's split; no overflow for |a|, |b| < 1e300)."""
    a_high, a_low = _split(a)
    b_high, b_low = _split(b)
    return ((a_high * b_high - product) + a_high * b_low + a_low * b_high) + a_low * b_low


def _split(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """x as high + low, each of at most 26 significant bits (Veltkamp)."""
    c = _VELTKAMP * x
    high = c - (c - x)
    return high, x - high


def _clean_floats(columns: list[np.ndarray], integer: list[bool]) -> list[list[object]]:
    """clean_number over float columns (arrays of one length; `integer`: each one a count):
    the same values, all rounded in one vectorized pass (round_significant); only the
    values it leaves go through the text formatting."""
    block = np.array(columns, dtype=np.float64, ndmin=2)  # one row per column
    rounded, exact = round_significant(block)
    finite = np.isfinite(block)
    out = rounded.astype(object)  # Python floats
    out[~finite] = None
    slow = finite & ~exact
    if slow.any():
        out[slow] = [float(f"{value:.{SIGNIFICANT_DIGITS}g}") for value in block[slow].tolist()]
    counts = np.asarray(integer, dtype=bool)
    whole = finite & (block == np.floor(block)) & counts[:, np.newaxis]  # a count that is a whole number: int
    if whole.any():
        out[whole] = [int(value) for value in block[whole].tolist()]
    return out.tolist()


def _clean_other(values: list[object], kind: str, integer: bool) -> list[object]:
    """clean_number of a column that is not float, given as Python values."""
    if kind in "biu" and kind:
        return values  # Python bools and ints already
    if set(map(type, values)) <= _AS_IS:  # e.g. a text column with no missing value
        return values
    return [clean_number(v, integer) for v in values]


def _clean_columns(fields: list[str], columns: list[pd.Series | np.ndarray]) -> list[list[object]]:
    """clean_number of every value of each column (a Series or an array, of one length),
    by its dtype: the float columns together (_clean_floats), the others one by one."""
    kinds = [c.dtype.kind if isinstance(c.dtype, np.dtype) else "" for c in columns]
    out = [_clean_other(c.tolist(), kind, f in COUNT_FIELDS) if kind != "f" else []  # tolist: Python scalars
           for f, c, kind in zip(fields, columns, kinds, strict=True)]
    floats = [i for i, kind in enumerate(kinds) if kind == "f"]
    if floats:
        arrays = [columns[i].to_numpy() if isinstance(columns[i], pd.Series) else columns[i] for i in floats]
        cleaned = _clean_floats(arrays, [fields[i] in COUNT_FIELDS for i in floats])
        for i, values in zip(floats, cleaned, strict=True):
            out[i] = values
    return out


def _rows(fields: list[str], columns: list[list[object]]) -> list[dict[str, object]]:
    """Row dicts from clean columns (one list per field)."""
    return [dict(zip(fields, row, strict=True)) for row in zip(*columns, strict=True)]


def records(frame: pd.DataFrame, fields: list[str] | None = None) -> list[dict[str, object]]:
    """Rows as dicts with clean JSON values, in `fields` order (default: all columns)."""
    fields = fields or list(frame.columns)
    if not fields:
        return [{} for _ in range(len(frame))]
    return _rows(fields, _clean_columns(fields, [frame[f] for f in fields]))


def assumptions_block(assumptions: Assumptions) -> dict[str, dict[str, object]]:
    """Each assumption: value, unit, origin (default / file / --set) and source."""
    return {
        key: {"value": clean_number(value), "unit": assumptions.specs[key].unit,
              "origin": assumptions.origins[key], "source": assumptions.specs[key].source}
        for key, value in assumptions.values.items()
    }


def header(command: str, workload: Workload, assumptions: Assumptions, catalog_source: str,
           version: int = SCHEMA_VERSION) -> dict[str, object]:
    """The opening every command's JSON document shares: versions, command, the
    workload, the catalog and the assumptions in force."""
    return {
        "schema_version": version,
        "inferchip_version": __version__,
        "command": command,
        "workload": {**workload.as_dict(), "origin": workload.origin},
        "catalog": catalog_source,
        "assumptions": assumptions_block(assumptions),
    }


def compare_document(workload: Workload, assumptions: Assumptions, results: pd.DataFrame,
                     catalog_source: str, every_row: pd.DataFrame | None = None) -> dict[str, object]:
    """The compare document: `results` (the rows shown) and, from `every_row` (the rows
    before --top; default `results`), the cheapest row of each price basis."""
    fields = [f for f in RESULT_FIELDS if f in results.columns]
    return {
        **header("compare", workload, assumptions, catalog_source, COMPARE_SCHEMA_VERSION),
        "results": records(results, fields),
        "cheapest": cheapest_by_basis(results if every_row is None else every_row),
    }


def cheapest_by_basis(results: pd.DataFrame) -> list[dict[str, object]]:
    """The cheapest feasible row of each price basis (owned, rented, committed, api),
    cheapest first: {price_basis, option, provider, cost_per_query_usd,
    cost_per_million_tokens_blended_usd, times_cheapest (cost / the cheapest row's cost)}."""
    cost = results["cost_per_query_usd"].to_numpy(dtype=float)
    rows = np.flatnonzero(results["feasible"].to_numpy(dtype=bool) & ~np.isnan(cost))
    if not len(rows):
        return []
    # the feasible rows, cheapest first (a stable sort: ties keep the row order), then the first
    # of each basis; only the columns shown are read, at those rows alone
    rows = rows[np.argsort(cost[rows], kind="stable")]
    bases = [b if b == b else None for b in results["price_basis"].to_numpy()[rows].tolist()]  # missing: one key
    first = {basis: i for i, basis in reversed(list(enumerate(bases)))}  # each basis's first position
    rows = rows[sorted(first.values())]
    fields = ["price_basis", "option", "provider", "cost_per_query_usd", "cost_per_million_tokens_blended_usd"]
    picked = {f: results[f].to_numpy()[rows] if f in results.columns else np.full(len(rows), np.nan) for f in fields}
    picked["times_cheapest"] = cost[rows] / cost[rows[0]]
    return _rows(list(picked), _clean_columns(list(picked), list(picked.values())))
