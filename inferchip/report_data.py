"""What the HTML report shows, gathered from the commands' own pipelines (no new
numbers): `compare` (ranking, data-quality flags), cost per query over a volume grid
(the break-even curves; `compare.evaluate` over scenarios), `sensitivity` (tornado),
`uncertainty` (bands), `plan` (the year-by-year plan) and the assumptions with sources."""

from __future__ import annotations

import numpy as np

from inferchip.plan_inputs import Facility, Horizon

CURVE_CHIPS = 5  # cheapest owned accelerators drawn on the break-even chart
VOLUMES_QUERIES_PER_DAY = tuple(float(v) for v in np.geomspace(1e4, 1e8, 13))  # 10^4 .. 10^8, 3 per decade


def _flags(rows: list[dict]) -> list[dict]:
    """One line per caveat of a ranked row: estimated price, thin calibration data,
    modeled (not measured) speed, a precision fallback."""
    flags = []
    for row in rows:
        name = row.get("option") or row["accelerator"]
        if row.get("price_is_estimate"):
            flags.append({"accelerator": name, "flag": "price is a secondary estimate",
                          "detail": row.get("price_source") or ""})
        if row.get("thin_data"):
            flags.append({"accelerator": name, "flag": "thin calibration data",
                          "detail": f"{row.get('calibration_rows')} fitted rows, held-out error "
                                    f"{row.get('heldout_median_abs_error')}"})
        if row.get("precision_note"):
            flags.append({"accelerator": name, "flag": "precision fallback", "detail": row["precision_note"]})
        if row.get("throughput_source") == "modeled":
            flags.append({"accelerator": name, "flag": "speed is modeled, not measured",
                          "detail": row.get("calibration_source") or ""})
    return flags


SCALABILITY_FIELDS = ("serving_frameworks", "smallest_purchase_unit", "scaleup_domain_accelerators",
                      "scaleout_fabric", "scaleout_gbit_per_s_per_accelerator", "scaleout_source", "scaleout_as_of")


def _scalability(chips, ranked: list[dict]) -> list[dict]:
    """Software support and scalability of each accelerator among the ranked rows (API
    rows have none), as `catalog show` states them ('unknown' where nothing was found)."""
    from inferchip.document import clean_number
    from inferchip.software import chip_facts, read_support

    support = read_support()
    names = list(dict.fromkeys(r["accelerator"] for r in ranked if r.get("price_basis") != "api"))
    rows = chips.set_index("name")
    out = []
    for name in names:
        if name not in rows.index:
            continue
        row = {"name": name, **{k: clean_number(v) for k, v in rows.loc[name].items()}}
        facts = chip_facts(row, support)
        out.append({"accelerator": name, **{k: facts.get(k) for k in SCALABILITY_FIELDS}})
    return out


def build(inputs, facility: Facility, horizon: Horizon, samples: int, seed: int, top: int = 12) -> dict:
    """Every section of the report as JSON-ready data."""
    from inferchip import plan, sensitivity, uncertainty
    from inferchip.compare import run_compare
    from inferchip.document import compare_document, records

    w, a, chips = inputs.workload, inputs.assumptions, inputs.chips
    from inferchip.basis import DEFAULT

    results = run_compare(w, a, chips, bases=DEFAULT)  # the rows `compare` shows by default
    doc = compare_document(w, a, results, inputs.catalog_source)
    feasible = [r for r in doc["results"] if r["feasible"]]
    ranked = feasible[:top]

    owned = results[results["feasible"] & (results["price_basis"] == "owned")]["accelerator"].head(CURVE_CHIPS)
    from inferchip.calibration import attach_factors

    sub = attach_factors(chips[chips["name"].isin(set(owned))].reset_index(drop=True), workload_kind=w.kind)
    curves: dict[str, list[float | None]] = {}
    if len(sub):
        grid = plan._evaluate(w, a, sub, np.asarray(VOLUMES_QUERIES_PER_DAY), "auto")
        shape = (len(VOLUMES_QUERIES_PER_DAY), len(sub))
        own = plan._grid(grid, "cost_per_query_usd", shape)
        rent = plan._grid(grid, "cloud_cost_per_query_usd", shape)
        clean = lambda col: [float(v) if np.isfinite(v) else None for v in col]  # noqa: E731
        for i, name in enumerate(sub["name"]):
            curves[f"{name} (owned)"] = clean(own[:, i])
            if np.isfinite(rent[:, i]).any():
                curves[f"{name} (rented)"] = clean(rent[:, i])
    api_cost, api_label = plan.burst_api(w)

    sens = sensitivity.document(sensitivity.run(w, a, chips, top=5), w, a, inputs.catalog_source)
    unc = uncertainty.document(uncertainty.run(w, a, chips, samples, seed, calibration=inputs.calibration),
                               w, a, inputs.catalog_source, top)
    plan_doc = plan.document(plan.run(w, a, chips, facility, horizon), w, inputs.catalog_source, top)
    best = plan_doc["best"]
    return {
        "header": {k: doc[k] for k in ("schema_version", "inferchip_version", "workload", "catalog")},
        "assumptions": doc["assumptions"],
        "ranked": ranked,
        "infeasible": [{"accelerator": r["accelerator"], "reason": r["infeasible_reason"]}
                       for r in doc["results"] if not r["feasible"]],
        "flags": _flags(ranked),
        "scalability": _scalability(chips, ranked),
        "breakeven": {"volumes_queries_per_day": list(VOLUMES_QUERIES_PER_DAY), "curves": curves,
                      "api": None if not np.isfinite(api_cost) else {"label": api_label, "cost_per_query_usd": api_cost}},
        "sensitivity": {"base_winner": sens["base_winner"], "tornado": sens["tornado"],
                        "base_cost": next((b["cost_per_query_usd"] for b in sens["base"]
                                           if b["accelerator"] == sens["base_winner"]), None)},
        "uncertainty": {"samples": unc["samples"], "seed": unc["seed"], "results": unc["results"]},
        "plan": {"facility": plan_doc["facility"], "horizon": plan_doc["horizon"], "best": best,
                 "results": plan_doc["results"],
                 "years": [r for r in plan_doc["years"] if best and r["accelerator"] == best["accelerator"]]},
        "sources": records(chips[chips["name"].isin({r["accelerator"] for r in ranked})][
            ["name", "source", "as_of", "price_source", "price_as_of"]].fillna("")),
    }
