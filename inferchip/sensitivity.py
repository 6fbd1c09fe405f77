"""One-at-a-time sensitivity: swing each assumption across its documented range.

Scenarios: the base case, then for every numeric assumption with a documented
range (data/assumptions.toml `low` / `high`) one scenario at `low` and one at
`high`, every other key at its base value: 1 + 2K scenarios, evaluated together
by the vectorized pipeline. For the top N accelerators (cheapest feasible at the
base case) it reports cost per query at each end, the swing
|cost(high) - cost(low)|, and which accelerator is cheapest at each end.
Keys are ranked by the swing of the base winner's cost (a tornado).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from inferchip.assumptions import Assumptions
from inferchip.calibration import attach_factors
from inferchip.compare import evaluate, scenario_frame
from inferchip.errors import NoFeasibleError
from inferchip.measured import candidates
from inferchip.workload import Workload

COLUMNS = ["cost_per_query_usd", "feasible", "accelerator"]


@dataclass
class Sensitivity:
    base_winner: str
    base: pd.DataFrame  # top N accelerators at the base case: accelerator, cost_per_query_usd
    keys: pd.DataFrame  # one row per swung key, ranked: the tornado
    rows: pd.DataFrame  # one row per (key, accelerator in the top N)


def swings(assumptions: Assumptions) -> list[tuple[str, float, float, float]]:
    """(key, base value, low, high) for every numeric assumption with a documented range."""
    out = []
    for key, spec in assumptions.specs.items():
        value = assumptions.values[key]
        if isinstance(value, str) or spec.low is None or spec.high is None or spec.low == spec.high:
            continue
        out.append((key, float(value), float(spec.low), float(spec.high)))
    return out


def run(workload: Workload, assumptions: Assumptions, chips: pd.DataFrame, top: int = 5,
        measured: pd.DataFrame | None = None) -> Sensitivity:
    chips = attach_factors(chips).reset_index(drop=True)
    items = swings(assumptions)
    base = scenario_frame(workload, assumptions, 1 + 2 * len(items))
    # row 0: base; rows 2i+1 / 2i+2: key i at low / high
    for i, (key, _, low, high) in enumerate(items):
        column = base[key].to_numpy(dtype=float).copy()
        column[2 * i + 1], column[2 * i + 2] = low, high
        base[key] = column
    if measured is None:  # measured beats modeled, as in `compare`
        measured = candidates(workload.preset, workload.precision)
    result = evaluate(workload.kind, chips, base, workload.precision, workload.kv_precision,
                      columns=COLUMNS, measured=measured)
    n_c = len(chips)
    names = chips["name"].to_numpy(dtype=object)
    cost = result["cost_per_query_usd"].to_numpy(dtype=float).reshape(len(base), n_c)
    masked = np.where(np.isfinite(cost), cost, np.inf)
    winner_idx = np.argmin(masked, axis=1)
    has_winner = np.isfinite(masked).any(axis=1)
    winners = np.where(has_winner, names[winner_idx], "")
    if not has_winner[0]:
        raise NoFeasibleError(f"{workload.origin}: no accelerator can serve this workload at the base case; "
                              "run `inferchip compare` to see why each one fails")
    order = np.lexsort((np.char.lower(names.astype(str)), masked[0]))
    chosen = [c for c in order if np.isfinite(masked[0, c])][:top]
    base_winner = str(names[chosen[0]])
    w = chosen[0]
    key_rows, rows = [], []
    for i, (key, value, low, high) in enumerate(items):
        lo, hi = 2 * i + 1, 2 * i + 2
        swing_usd = abs(cost[hi, w] - cost[lo, w]) if np.isfinite(cost[hi, w]) and np.isfinite(cost[lo, w]) \
            else np.nan
        key_rows.append({
            "key": key, "unit": assumptions.specs[key].unit, "base_value": value, "low": low, "high": high,
            "winner_cost_at_low_usd": cost[lo, w], "winner_cost_at_high_usd": cost[hi, w],
            "winner_swing_usd": swing_usd, "winner_swing_fraction": swing_usd / cost[0, w],
            "winner_at_low": winners[lo], "winner_at_high": winners[hi],
            "winner_changes": bool(winners[lo] != base_winner or winners[hi] != base_winner),
            "source": assumptions.specs[key].source,
        })
        for c in chosen:
            rows.append({
                "key": key, "accelerator": str(names[c]), "low": low, "high": high,
                "base_cost_per_query_usd": cost[0, c], "cost_at_low_usd": cost[lo, c], "cost_at_high_usd": cost[hi, c],
                "swing_usd": abs(cost[hi, c] - cost[lo, c]),
                "swing_fraction": abs(cost[hi, c] - cost[lo, c]) / cost[0, c],
            })
    keys = pd.DataFrame(key_rows)
    rank = keys["winner_swing_usd"].fillna(-1.0).to_numpy()
    keys = keys.iloc[np.lexsort((keys["key"].to_numpy(), -rank))].reset_index(drop=True)
    order_of = {k: i for i, k in enumerate(keys["key"])}
    detail = pd.DataFrame(rows)
    detail = detail.assign(_k=detail["key"].map(order_of), _c=detail["accelerator"].map(
        {str(names[c]): j for j, c in enumerate(chosen)}))
    detail = detail.sort_values(["_k", "_c"], kind="mergesort").drop(columns=["_k", "_c"]).reset_index(drop=True)
    top_frame = pd.DataFrame({"accelerator": [str(names[c]) for c in chosen],
                              "cost_per_query_usd": [cost[0, c] for c in chosen]})
    return Sensitivity(base_winner, top_frame, keys, detail)


def document(result: Sensitivity, workload: Workload, assumptions: Assumptions,
             catalog_source: str) -> dict[str, object]:
    from inferchip import __version__
    from inferchip.document import SCHEMA_VERSION, assumptions_block, records

    return {
        "schema_version": SCHEMA_VERSION,
        "inferchip_version": __version__,
        "command": "sensitivity",
        "workload": {**workload.as_dict(), "origin": workload.origin},
        "catalog": catalog_source,
        "assumptions": assumptions_block(assumptions),
        "base_winner": result.base_winner,
        "base": records(result.base),
        "winner_changes_for": [k for k, changes in zip(result.keys["key"], result.keys["winner_changes"],
                                                        strict=True) if changes],
        "tornado": records(result.keys),
        "results": records(result.rows),
    }
