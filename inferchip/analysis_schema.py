"""JSON Schemas of the decision-analysis outputs: `sweep`, `sensitivity`, `breakeven`,
`uncertainty`, and of `validate` (registered in schema.SCHEMAS). Rows are typed field by field; fields
the schema does not list are allowed (a sweep's varied keys, fields added later),
as cells: number, text, boolean or null."""

from __future__ import annotations

from inferchip.schema import ASSUMPTIONS_BLOCK, WORKLOAD_SCHEMA, _document, _property
from inferchip.units import RESULT_FIELDS

_NUM = {"type": ["number", "null"]}
_INT = {"type": ["integer", "null"]}
_TEXT = {"type": "string"}
_OPT_TEXT = {"type": ["string", "null"]}
_BOOL = {"type": "boolean"}
_CELL = {"type": ["number", "string", "boolean", "null"]}


def _rows(properties: dict[str, object], required: list[str]) -> dict[str, object]:
    return {"type": "array", "items": {"type": "object", "required": required, "properties": properties,
                                       "additionalProperties": _CELL}}


def _common(command: str, title: str, properties: dict[str, object], required: list[str]) -> dict[str, object]:
    return _document(command, title, {"workload": WORKLOAD_SCHEMA, "catalog": _TEXT,
                                      "assumptions": ASSUMPTIONS_BLOCK, **properties},
                     ["workload", "catalog", "assumptions", *required])


def sweep_schema() -> dict[str, object]:
    row = {name: _property(name, field) for name, field in RESULT_FIELDS.items()}
    row.update({"grid_point": {"type": "integer", "description": "index of the grid point (first key slowest)"},
                "winner": {**_OPT_TEXT, "description": "with --winners: cheapest feasible accelerator"},
                "runner_up": {**_OPT_TEXT, "description": "with --winners: second cheapest"},
                "runner_up_cost_per_query_usd": {**_NUM, "description": "[USD]"},
                "runner_up_premium_fraction": {**_NUM, "description": "runner-up cost / winner cost - 1 [fraction]"},
                "feasible_accelerators": {**_INT, "description": "feasible accelerators at the grid point [count]"}})
    grid = {"type": "object", "required": ["key", "column", "spec", "points", "values"],
            "properties": {"key": _TEXT, "column": {"type": "string", "description": "its column in the rows"},
                           "spec": _TEXT, "points": {"type": "integer"}, "affects": _TEXT,
                           "values": {"type": "array", "items": {"type": ["number", "string"]}}}}
    return _common("sweep", "inferchip sweep --format json", {
        "grid": {"type": "array", "items": grid},
        "grid_points": {"type": "integer"}, "accelerators": {"type": "array", "items": _TEXT},
        "rows": {"type": "integer", "description": "rows in results"}, "winners_only": _BOOL,
        "columns": {"type": "array", "items": _TEXT, "description": "the fields of every row, in order"},
        "results": _rows(row, ["grid_point"]),
    }, ["grid", "grid_points", "accelerators", "rows", "winners_only", "columns", "results"])


def sensitivity_schema() -> dict[str, object]:
    bar = {"key": _TEXT, "unit": _TEXT, "base_value": _CELL, "low": _NUM, "high": _NUM,
           "winner_cost_at_low_usd": _NUM, "winner_cost_at_high_usd": _NUM, "winner_swing_usd": _NUM,
           "winner_swing_fraction": _NUM, "winner_at_low": _OPT_TEXT, "winner_at_high": _OPT_TEXT,
           "winner_changes": _BOOL, "source": _TEXT}
    row = {"key": _TEXT, "accelerator": _TEXT, "low": _NUM, "high": _NUM, "base_cost_per_query_usd": _NUM,
           "cost_at_low_usd": _NUM, "cost_at_high_usd": _NUM, "swing_usd": _NUM, "swing_fraction": _NUM}
    return _common("sensitivity", "inferchip sensitivity --format json", {
        "base_winner": {**_OPT_TEXT, "description": "cheapest feasible accelerator at the base case"},
        "base": _rows({"accelerator": _TEXT, "cost_per_query_usd": _NUM}, ["accelerator", "cost_per_query_usd"]),
        "winner_changes_for": {"type": "array", "items": _TEXT,
                               "description": "assumptions at one end of which another accelerator is cheapest"},
        "tornado": _rows(bar, ["key", "low", "high", "winner_swing_usd"]),
        "results": _rows(row, ["key", "accelerator", "cost_at_low_usd", "cost_at_high_usd", "swing_usd"]),
    }, ["base_winner", "base", "winner_changes_for", "tornado", "results"])


def breakeven_schema() -> dict[str, object]:
    row = {"accelerator": _TEXT, "price_basis": _TEXT, "feasible": _BOOL, "cheapest_option": _OPT_TEXT,
           "capex_usd": _NUM, "annual_opex_usd": _NUM, "infeasible_reason": _OPT_TEXT}
    for option in ("own", "on_demand", "committed", "api"):
        row[f"{option}_cost_per_query_usd"] = {**_NUM, "description": f"cost per query, {option} [USD]"}
    for other in ("on_demand", "committed", "api"):
        row[f"breakeven_queries_per_day_vs_{other}"] = {**_NUM, "description": "[queries/day]"}
        row[f"owning_vs_{other}"] = {**_OPT_TEXT, "description": "always, never, cannot own, no such option, "
                                                                 "or from the break-even volume"}
        row[f"payback_months_vs_{other}"] = {**_NUM, "description": "[months]"}
    api = {"provider": _TEXT, "model": _TEXT, "comparable_preset": _TEXT, "usd_per_million_input_tokens": _NUM,
           "usd_per_million_output_tokens": _NUM, "source": _TEXT, "as_of": _TEXT, "cost_per_query_usd": _NUM}
    return _common("breakeven", "inferchip breakeven --format json", {
        "committed_use_discount": {**_NUM, "description": "[fraction]"},
        "volume_grid_queries_per_day": {"type": "array", "items": {"type": "number"}},
        "api_options": _rows(api, ["provider", "model", "cost_per_query_usd"]),
        "api_note": _TEXT,
        "results": _rows(row, ["accelerator", "feasible", "own_cost_per_query_usd"]),
    }, ["committed_use_discount", "api_options", "results"])


def uncertainty_schema() -> dict[str, object]:
    row = {"accelerator": _TEXT, "price_basis": _TEXT, "base_cost_per_query_usd": _NUM,
           "p10_cost_per_query_usd": _NUM, "p50_cost_per_query_usd": _NUM, "p90_cost_per_query_usd": _NUM,
           "feasible_fraction": {**_NUM, "description": "share of draws where it is feasible [fraction]"},
           "probability_cheapest": {**_NUM, "description": "share of draws where it is cheapest [fraction]"},
           "base_infeasible_reason": _OPT_TEXT}
    dist = {"key": _TEXT, "distribution": _TEXT, "low": _NUM, "mode": _NUM, "high": _NUM, "source": _TEXT}
    return _common("uncertainty", "inferchip uncertainty --format json", {
        "samples": {"type": "integer"}, "seed": {"type": "integer"},
        "no_feasible_fraction": {**_NUM, "description": "share of draws where no accelerator is feasible"},
        "distributions": _rows(dist, ["key", "distribution"]),
        "held_fixed": _rows({"key": _TEXT, "distribution": _TEXT, "value": _CELL, "source": _TEXT}, ["key"]),
        "efficiency_multipliers": _rows({"group": _TEXT, "distribution": _TEXT, "sigma": _NUM, "source": _TEXT},
                                        ["group", "sigma"]),
        "results": _rows(row, ["accelerator", "p10_cost_per_query_usd", "p50_cost_per_query_usd",
                               "p90_cost_per_query_usd", "probability_cheapest"]),
    }, ["samples", "seed", "distributions", "results"])


def validate_schema() -> dict[str, object]:
    """`validate --format json`: the published statistics and every predicted-vs-measured row."""
    row = {"accelerator": _TEXT, "model": _TEXT, "kind": _TEXT, "scenario": _TEXT, "precision": _TEXT,
           "throughput_unit": _TEXT,
           "measured_per_accelerator": {**_NUM, "description": "measured throughput per accelerator"},
           "predicted_per_accelerator": {**_NUM, "description": "predicted by the model, same unit"},
           "ratio": {**_NUM, "description": "predicted / measured"},
           "error": {**_NUM, "description": "predicted / measured - 1 [fraction]"},
           "calibration_source": _TEXT, "power_capped": _BOOL, "source": _TEXT}
    return _document("validate", "inferchip validate --format json", {
        "sources": {"type": "object", "additionalProperties": _TEXT,
                    "description": "benchmarks, calibration and catalog files used"},
        "calibration": {"type": "object", "description": "shared_factors (the LLM class's shared factors), "
                        "fixed_work_step_overhead_ms (fixed work is fitted apart), scenario_throughput_factor"},
        "summary": {"type": "object", "required": ["throughput"],
                    "description": "error statistics per class, power, targets"},
        "rows": _rows(row, ["accelerator", "model", "scenario", "measured_per_accelerator",
                            "predicted_per_accelerator"]),
    }, ["sources", "summary", "rows"])


BUILDERS = {"sweep": sweep_schema, "sensitivity": sensitivity_schema, "breakeven": breakeven_schema,
            "uncertainty": uncertainty_schema, "validate": validate_schema}
