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
    chips = attach_factors(chips, workload_kind=workload.kind).reset_index(drop=True)
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
    key_names = np.array([k for k, _, _, _ in items], dtype=object)
    lows = np.array([low for _, _, low, _ in items], dtype=float)
    highs = np.array([high for _, _, _, high in items], dtype=float)
    at_low, at_high = cost[1::2], cost[2::2]  # rows 2i+1 / 2i+2: key i at low / high
    winner_swing = np.abs(at_high[:, w] - at_low[:, w])
    winner_low, winner_high = winners[1::2], winners[2::2]
    keys = pd.DataFrame({
        "key": key_names, "unit": [assumptions.specs[k].unit for k in key_names],
        "base_value": [v for _, v, _, _ in items], "low": lows, "high": highs,
        "winner_cost_at_low_usd": at_low[:, w], "winner_cost_at_high_usd": at_high[:, w],
        "winner_swing_usd": winner_swing, "winner_swing_fraction": winner_swing / cost[0, w],
        "winner_at_low": winner_low, "winner_at_high": winner_high,
        "winner_changes": (winner_low != base_winner) | (winner_high != base_winner),
        "source": [assumptions.specs[k].source for k in key_names],
    })
    order = np.lexsort((key_names.astype(str), -np.nan_to_num(winner_swing, nan=-1.0)))  # widest swing first
    keys = keys.iloc[order].reset_index(drop=True)
    top = np.asarray(chosen)
    k_idx, c_idx = np.repeat(order, len(top)), np.tile(top, len(order))  # tornado order, then base rank
    swing = np.abs(at_high[k_idx, c_idx] - at_low[k_idx, c_idx])
    detail = pd.DataFrame({
        "key": key_names[k_idx], "accelerator": names[c_idx].astype(str), "low": lows[k_idx], "high": highs[k_idx],
        "base_cost_per_query_usd": cost[0, c_idx], "cost_at_low_usd": at_low[k_idx, c_idx],
        "cost_at_high_usd": at_high[k_idx, c_idx], "swing_usd": swing, "swing_fraction": swing / cost[0, c_idx],
    })
    top_frame = pd.DataFrame({"accelerator": names[top].astype(str), "cost_per_query_usd": cost[0, top]})
    return Sensitivity(base_winner, top_frame, keys, detail)


def document(result: Sensitivity, workload: Workload, assumptions: Assumptions,
             catalog_source: str) -> dict[str, object]:
    from inferchip.document import header, records

    return {
        **header("sensitivity", workload, assumptions, catalog_source),
        "base_winner": result.base_winner,
        "base": records(result.base),
        "winner_changes_for": [k for k, changes in zip(result.keys["key"], result.keys["winner_changes"],
                                                        strict=True) if changes],
        "tornado": records(result.keys),
        "results": records(result.rows),
    }
