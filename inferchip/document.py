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


def _clean_floats(values: list[float], integer: bool) -> list[object]:
    """clean_number over a float column's values (Python floats): the same values, without
    the type tests per cell."""
    isfinite = math.isfinite
    if integer:
        return [(int(v) if v.is_integer() else float(f"{v:.{SIGNIFICANT_DIGITS}g}")) if isfinite(v) else None
                for v in values]
    return [float(f"{v:.{SIGNIFICANT_DIGITS}g}") if isfinite(v) else None for v in values]


def _clean_column(column: pd.Series | np.ndarray, integer: bool) -> list[object]:
    """clean_number of every value of one column (a Series or an array), by its dtype."""
    kind = column.dtype.kind if isinstance(column.dtype, np.dtype) else ""
    values = column.tolist()  # numpy scalars become Python ones
    if kind == "f":
        return _clean_floats(values, integer)
    if kind in "biu" and kind:
        return values  # Python bools and ints already
    if set(map(type, values)) <= _AS_IS:  # e.g. a text column with no missing value
        return values
    return [clean_number(v, integer) for v in values]


def _rows(fields: list[str], columns: list[list[object]]) -> list[dict[str, object]]:
    """Row dicts from clean columns (one list per field)."""
    return [dict(zip(fields, row, strict=True)) for row in zip(*columns, strict=True)]


def records(frame: pd.DataFrame, fields: list[str] | None = None) -> list[dict[str, object]]:
    """Rows as dicts with clean JSON values, in `fields` order (default: all columns)."""
    fields = fields or list(frame.columns)
    columns = [_clean_column(frame[f], f in COUNT_FIELDS) for f in fields]
    return _rows(fields, columns) if fields else [{} for _ in range(len(frame))]


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
    feasible = (results["feasible"].astype(bool) & results["cost_per_query_usd"].notna()).to_numpy()
    if not feasible.any():
        return []
    # positions of the feasible rows, cheapest first (a stable sort: ties keep the row order),
    # then the first of each basis; only the columns shown are read, for those rows alone
    cost = results["cost_per_query_usd"].to_numpy(dtype=float)
    rows = np.flatnonzero(feasible)
    rows = rows[np.argsort(cost[rows], kind="stable")]
    rows = rows[~pd.Index(results["price_basis"].to_numpy()[rows]).duplicated()]
    fields = ["price_basis", "option", "provider", "cost_per_query_usd", "cost_per_million_tokens_blended_usd"]
    picked = {f: results[f].to_numpy()[rows] if f in results.columns else np.full(len(rows), np.nan) for f in fields}
    picked["times_cheapest"] = cost[rows] / cost[rows[0]]
    return _rows(list(picked), [_clean_column(values, f in COUNT_FIELDS) for f, values in picked.items()])
