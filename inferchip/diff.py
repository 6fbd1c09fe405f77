"""Differences: savings against a baseline accelerator, and what changed between
two `compare` runs. Vectorized column operations on result frames."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from inferchip.errors import InputError, NotFoundError, UsageError
from inferchip.safeio import check_nesting, read_input
from inferchip.units import DAYS_PER_YEAR, Field

# Added to every result row by `compare --baseline NAME`; positive = cheaper than the baseline.
BASELINE_FIELDS: dict[str, Field] = {
    "savings_per_query_usd": Field("USD", "baseline cost per query - this cost per query", True),
    "savings_per_day_usd": Field("USD/day", "savings per query x queries per day", True),
    "savings_per_year_usd": Field("USD/year", "savings per query x queries per day x 365", True),
    "savings_percent": Field("%", "savings per query / baseline cost per query x 100", True),
}

# One row per result row (matched on `option`, the row key) of `inferchip diff`.
DIFF_FIELDS: dict[str, Field] = {
    "accelerator": Field("", "catalog name (the API service on an API row)"),
    "option": Field("", "the row key both runs are matched on (results[].option; the accelerator in "
                        "schema_version 1 runs without it)"),
    "change": Field("", "added, removed, now_feasible, now_infeasible, infeasible, cheaper, dearer or unchanged"),
    "feasible_before": Field("", "feasible in BEFORE (false when absent)"),
    "feasible_after": Field("", "feasible in AFTER (false when absent)"),
    "cost_per_query_usd_before": Field("USD", "cost per query in BEFORE"),
    "cost_per_query_usd_after": Field("USD", "cost per query in AFTER"),
    "delta_cost_per_query_usd": Field("USD", "after - before"),
    "delta_percent": Field("%", "(after - before) / before x 100"),
    "annual_tco_usd_before": Field("USD/year", "annual TCO in BEFORE"),
    "annual_tco_usd_after": Field("USD/year", "annual TCO in AFTER"),
    "rank_before": Field("count", "position by cost per query among feasible rows in BEFORE (1 = cheapest)"),
    "rank_after": Field("count", "position by cost per query among feasible rows in AFTER (1 = cheapest)"),
    "rank_change": Field("count", "rank_before - rank_after: positive = moved up"),
    "drivers": Field("", "per-row inputs that changed, e.g. server_price_usd 300,000 -> 250,000"),
}
# Per-row quantities whose change explains a cost change (compared when both runs have them).
DRIVER_FIELDS = ("price_basis", "provider", "purchase", "precision_used", "throughput_source", "chips_per_replica",
                 "batch_size", "accelerators", "server_price_usd", "cloud_usd_per_hour", "price_as_of",
                 "server_power_kw")
# compare documents diff reads: 1 (accelerator = row key), 2 (option = row key, API rows by default)
RUN_SCHEMA_VERSIONS = (1, 2)


def add_baseline(results: pd.DataFrame, baseline: str, queries_per_day: float) -> pd.DataFrame:
    """The result frame with BASELINE_FIELDS against the row whose option (the row key) is
    `baseline`, else the first (cheapest) row of the accelerator or API service of that name:
    savings per query [USD] = baseline cost per query - cost per query;
    per day [USD/day] = savings per query x queries per day; per year [USD/year] = x 365;
    percent [%] = savings per query / baseline cost per query x 100."""
    match = results["option"].str.lower() == baseline.lower() if "option" in results else None
    if match is None or not match.any():  # an accelerator or provider name: its cheapest row (results are ranked)
        match = results["accelerator"].str.lower() == baseline.lower()
    if not match.any():
        raise NotFoundError(f"--baseline '{baseline}': not among the compared accelerators")
    row = results[match].iloc[0]
    if not row["feasible"]:
        raise UsageError(f"--baseline '{row['accelerator']}': not feasible for this workload "
                         f"({row['infeasible_reason']}); choose a feasible accelerator as the baseline")
    base_usd = float(row["cost_per_query_usd"])
    per_query = base_usd - results["cost_per_query_usd"].to_numpy(dtype=float)
    return results.assign(
        savings_per_query_usd=per_query,
        savings_per_day_usd=per_query * queries_per_day,
        savings_per_year_usd=per_query * queries_per_day * DAYS_PER_YEAR,
        savings_percent=per_query / base_usd * 100.0,
    )


def load_run(path: Path) -> dict:
    """A `compare --format json` document from a file, checked enough to diff."""
    path = Path(path)
    raw = read_input(path, "run", "give a file saved by `inferchip compare --format json --output FILE`",
                     missing=f"{path}: file not found; save a run with `inferchip compare ... --format json "
                             f"--output {path.name}`")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: cannot read as UTF-8 text ({exc.__class__.__name__})") from None
    check_nesting(path, text, "JSON")  # json.loads recurses once per level
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: line {exc.lineno}: not valid JSON ({exc.msg}); diff reads the output of "
                         "`inferchip compare --format json`") from None
    if not isinstance(doc, dict) or doc.get("command", "compare") != "compare" or not isinstance(doc.get("results"), list):
        raise InputError(f"{path}: not an `inferchip compare --format json` document (no 'results' list)")
    if doc.get("schema_version") not in RUN_SCHEMA_VERSIONS:
        raise InputError(f"{path}: schema_version {doc.get('schema_version')!r} is not supported (expected "
                         f"{' or '.join(map(str, RUN_SCHEMA_VERSIONS))})")
    for index, row in enumerate(doc["results"]):
        missing = [k for k in ("accelerator", "feasible", "cost_per_query_usd") if not isinstance(row, dict) or k not in row]
        if missing:
            raise InputError(f"{path}: results[{index}]: missing {', '.join(missing)}")
    return doc


def _frame(doc: dict) -> pd.DataFrame:
    from inferchip.basis import key

    columns = ["option", "accelerator", "feasible", "cost_per_query_usd", "annual_tco_usd", *DRIVER_FIELDS]
    frame = pd.DataFrame(doc["results"]).reindex(columns=columns)
    frame["accelerator"] = frame["accelerator"].fillna("").astype(str)
    frame["key"] = key(frame)
    frame["option"] = frame["option"].where(frame["option"].notna() & (frame["option"] != ""), frame["accelerator"])
    frame["feasible"] = frame["feasible"].fillna(False).astype(bool)
    frame["cost_per_query_usd"] = pd.to_numeric(frame["cost_per_query_usd"], errors="coerce")
    cost = frame["cost_per_query_usd"].where(frame["feasible"])
    order = frame.assign(_cost=cost).sort_values(["_cost", "key"], na_position="last", kind="mergesort")
    rank = pd.Series(np.arange(1, len(order) + 1, dtype=float), index=order.index)
    frame["rank"] = rank.where(cost.notna())
    return frame


def _text(values: pd.Series) -> np.ndarray:
    """Display text of a driver column: thousands separators for numbers, '-' for missing."""
    def one(v: object) -> str:
        if v is None or (isinstance(v, float) and np.isnan(v)):
            return "-"
        if isinstance(v, float):
            return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.4g}"
        return str(v)

    return np.vectorize(one, otypes=[object])(values.to_numpy(dtype=object)) if len(values) else np.array([], dtype=object)


def _drivers(merged: pd.DataFrame) -> np.ndarray:
    """Per row: 'field before -> after' for every driver field that differs, joined by '; '."""
    parts = np.full(len(merged), "", dtype=object)
    both = merged["_merge"].to_numpy() == "both"
    for field in DRIVER_FIELDS:
        before, after = _text(merged[f"{field}_before"]), _text(merged[f"{field}_after"])
        changed = both & (before != after)
        piece = np.where(changed, field + " " + before.astype(str) + " -> " + after.astype(str), "")
        joiner = np.where((parts != "") & (piece != ""), "; ", "")
        parts = parts + joiner + piece
    return parts


def _winner(frame: pd.DataFrame) -> tuple[str | None, float | None]:
    best = frame[frame["rank"] == 1]
    if best.empty:
        return None, None
    return str(best["option"].iloc[0]), float(best["cost_per_query_usd"].iloc[0])


def _inputs_changed(before: dict, after: dict) -> list[dict[str, object]]:
    changes: list[dict[str, object]] = []
    wb, wa = before.get("workload") or {}, after.get("workload") or {}
    derived = ("origin", "peak_queries_per_s")  # peak_queries_per_s follows queries_per_day x peak_to_average
    for key in [k for k in wb if k not in derived] + [k for k in wa if k not in wb and k not in derived]:
        if wb.get(key) != wa.get(key):
            changes.append({"what": "workload", "key": key, "before": wb.get(key), "after": wa.get(key)})
    ab, aa = before.get("assumptions") or {}, after.get("assumptions") or {}
    for key in list(ab) + [k for k in aa if k not in ab]:
        vb = (ab.get(key) or {}).get("value")
        va = (aa.get(key) or {}).get("value")
        if vb != va:
            changes.append({"what": "assumption", "key": key, "before": vb, "after": va})
    for what, key in (("catalog", "catalog"), ("inferchip_version", "inferchip_version")):
        if before.get(key) != after.get(key):
            changes.append({"what": what, "key": key, "before": before.get(key), "after": after.get(key)})
    return changes


def diff_runs(before: dict, after: dict, before_name: str = "BEFORE", after_name: str = "AFTER") -> dict:
    """What changed between two compare documents: per row (matched on its option, the row
    key; a schema_version 1 run's rows on the accelerator) old -> new cost per
    query, delta [USD] and percent [%], rank by cost among feasible rows before and
    after, the per-row drivers that changed, the winners, and the changed inputs."""
    from inferchip import __version__
    from inferchip.document import records

    old, new = _frame(before), _frame(after)
    merged = old.merge(new, on="key", how="outer", suffixes=("_before", "_after"), indicator=True)
    name = merged["accelerator_after"].fillna(merged["accelerator_before"])
    option = merged["option_after"].fillna(merged["option_before"])
    fb = merged["feasible_before"].fillna(False).astype(bool)
    fa = merged["feasible_after"].fillna(False).astype(bool)
    cb = merged["cost_per_query_usd_before"].where(fb)
    ca = merged["cost_per_query_usd_after"].where(fa)
    delta = ca - cb
    presence = merged["_merge"].astype(str).to_numpy()
    change = np.select(
        [presence == "right_only", presence == "left_only", ~fb & fa, fb & ~fa, ~fb & ~fa,
         delta.to_numpy() < 0, delta.to_numpy() > 0],
        ["added", "removed", "now_feasible", "now_infeasible", "infeasible", "cheaper", "dearer"],
        default="unchanged",
    )
    rows = pd.DataFrame({
        "accelerator": name, "option": option, "change": change, "feasible_before": fb, "feasible_after": fa,
        "cost_per_query_usd_before": cb, "cost_per_query_usd_after": ca,
        "delta_cost_per_query_usd": delta, "delta_percent": delta / cb * 100.0,
        "annual_tco_usd_before": merged["annual_tco_usd_before"].where(fb),
        "annual_tco_usd_after": merged["annual_tco_usd_after"].where(fa),
        "rank_before": merged["rank_before"].astype("Int64"), "rank_after": merged["rank_after"].astype("Int64"),
        "rank_change": (merged["rank_before"] - merged["rank_after"]).astype("Int64"),
        "drivers": _drivers(merged),
    })
    rows = rows.assign(_gone=presence == "left_only", _name=option.str.lower()).sort_values(
        ["_gone", "rank_after", "rank_before", "_name"], na_position="last", kind="mergesort")
    rows = rows.drop(columns=["_gone", "_name"]).reset_index(drop=True)
    win_b, cost_b = _winner(old)
    win_a, cost_a = _winner(new)

    def run(doc: dict, file: str, winner: str | None, cost: float | None) -> dict:
        return {"file": file, "workload": str((doc.get("workload") or {}).get("name", "")),
                "catalog": str(doc.get("catalog", "")), "inferchip_version": str(doc.get("inferchip_version", "")),
                "winner": winner, "winner_cost_per_query_usd": cost}

    return {
        "schema_version": 1,
        "inferchip_version": __version__,
        "command": "diff",
        "before": run(before, before_name, win_b, cost_b),
        "after": run(after, after_name, win_a, cost_a),
        "winner_changed": win_b != win_a,
        "inputs_changed": _inputs_changed(before, after),
        "rows": records(rows, list(DIFF_FIELDS)),
    }


# --- diff --fail-on ----------------------------------------------------------------------------

FAIL_ON_FORMS = "winner-change or cost-increase=PCT (e.g. cost-increase=5)"


def parse_fail_on(text: str) -> tuple[str, float | None]:
    """`winner-change` -> ("winner-change", None); `cost-increase=PCT` -> ("cost-increase", PCT [%])."""
    name, sep, value = text.strip().partition("=")
    name = name.strip().lower()
    if name == "winner-change" and not sep:
        return name, None
    if name == "cost-increase" and sep:
        try:
            pct = float(value.strip().rstrip("%"))
        except ValueError:
            pct = math.nan
        if not math.isfinite(pct) or pct < 0:
            raise UsageError(f"--fail-on {text}: the percentage must be a number >= 0, e.g. cost-increase=5")
        return name, pct
    raise UsageError(f"--fail-on {text}: unknown condition; use {FAIL_ON_FORMS}")


def evaluate_fail_on(conditions: list[tuple[str, float | None]], doc: dict) -> list[dict[str, object]]:
    """Each condition with `held` and a one-line `detail`. cost-increase compares the
    cheapest feasible cost per query after with before (winner to winner, even when the
    winner changed): held when it rose by more than PCT %, or when nothing is feasible
    after while something was before. increase [%] = (after / before - 1) x 100."""
    before, after = doc["before"], doc["after"]
    cb, ca = before["winner_cost_per_query_usd"], after["winner_cost_per_query_usd"]
    out = []
    for name, pct in conditions:
        if name == "winner-change":
            held = bool(doc["winner_changed"])
            detail = (f"winner {before['winner'] or '-'} -> {after['winner'] or '-'}" if held
                      else f"winner unchanged: {after['winner'] or '-'}")
            out.append({"condition": name, "held": held, "detail": detail, "increase_percent": None})
            continue
        if cb is None:
            increase, held = None, False
            detail = "nothing feasible before: no cost to compare"
        elif ca is None:
            increase, held = None, True
            detail = "nothing feasible after"
        else:
            increase = (ca / cb - 1.0) * 100.0
            held = increase > pct
            detail = f"cheapest cost per query {cb:.6g} -> {ca:.6g} USD ({increase:+.2f} %, limit +{pct:g} %)"
        out.append({"condition": f"{name}={pct:g}", "held": held, "detail": detail, "increase_percent": increase})
    return out


def fail_on_message(outcomes: list[dict[str, object]]) -> str | None:
    held = [o for o in outcomes if o["held"]]
    if not held:
        return None
    return "; ".join(f"diff --fail-on {o['condition']} held: {o['detail']}" for o in held)
