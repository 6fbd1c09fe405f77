"""JSON Schemas (draft 2020-12) of every command's `--format json` output.

The result schemas are generated from the glossaries (units.RESULT_FIELDS,
diff.BASELINE_FIELDS, diff.DIFF_FIELDS), so a new field is documented the
moment it exists. `field_type` is also what the policy gates type-check against.
Other commands add theirs with `register(name, builder)`."""

from __future__ import annotations

from collections.abc import Callable

from inferchip.units import COMPARE_SCHEMA_VERSION, RESULT_FIELDS, Field

DRAFT = "https://json-schema.org/draft/2020-12/schema"
BOOLEAN_FIELDS = frozenset({"feasible", "meets_slo", "price_is_estimate", "feasible_before", "feasible_after",
                            "measured_anchor", "thin_data"})

_NUMBER = {"type": ["number", "null"]}
_TEXT = {"type": "string"}
_ASSUMPTION_VALUE = {"type": ["number", "string"]}


def field_type(name: str, field: Field) -> str:
    """JSON type of a glossary field: boolean, integer (counts), number (has a unit) or string."""
    if name in BOOLEAN_FIELDS:
        return "boolean"
    if field.unit == "count":
        return "integer"
    return "number" if field.unit else "string"


def field_types(glossary: dict[str, Field]) -> dict[str, str]:
    return {name: field_type(name, field) for name, field in glossary.items()}


def _property(name: str, field: Field) -> dict[str, object]:
    kind = field_type(name, field)
    described = f"{field.description} [{field.unit}]" if field.unit else field.description
    if kind in ("integer", "number") or name == "meets_slo":  # meets_slo: null on API rows (latency not modelled)
        return {"type": [kind, "null"], "description": described}
    return {"type": kind, "description": described}


def _object(glossary: dict[str, Field], required: bool = True) -> dict[str, object]:
    return {
        "type": "object",
        "properties": {name: _property(name, field) for name, field in glossary.items()},
        **({"required": list(glossary)} if required else {}),
    }


def _document(command: str, title: str, properties: dict[str, object], required: list[str],
              defs: dict[str, object] | None = None, version: int = 1) -> dict[str, object]:
    schema: dict[str, object] = {
        "$schema": DRAFT,
        "title": title,
        "type": "object",
        "required": ["schema_version", "inferchip_version", "command", *required],
        "properties": {"schema_version": {"const": version}, "inferchip_version": {"type": "string"},
                       "command": {"const": command}, **properties},
    }
    if defs:
        schema["$defs"] = defs
    return schema


WORKLOAD_SCHEMA: dict[str, object] = {
    "type": "object",
    "required": ["name", "kind", "preset", "precision", "queries_per_day", "peak_to_average",
                 "peak_queries_per_s", "origin"],
    "properties": {
        "name": _TEXT, "kind": {"enum": ["llm", "fixed"]}, "preset": {"type": ["string", "null"]},
        "precision": _TEXT, "kv_precision": _TEXT, "origin": _TEXT,
        **{key: _NUMBER for key in (
            "queries_per_day", "peak_to_average", "peak_queries_per_s", "params_b", "active_params_b",
            "layers", "kv_elems_per_token_per_layer", "hidden", "input_tokens", "output_tokens", "ttft_ms",
            "tpot_ms", "gflops_per_query", "weights_mb", "activation_mb_per_query", "latency_ms",
            "experts", "experts_per_token", "attention_heads", "sliding_window_tokens", "sliding_window_layers",
            "output_tokens_cv", "output_tokens_min")},
        "attention": {"enum": ["gqa", "mla"]},
    },
}

ASSUMPTIONS_BLOCK: dict[str, object] = {
    "type": "object",
    "additionalProperties": {
        "type": "object", "required": ["value", "unit", "origin", "source"],
        "properties": {"value": _ASSUMPTION_VALUE, "unit": _TEXT, "origin": _TEXT, "source": _TEXT},
    },
}

GATES_BLOCK: dict[str, object] = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["condition", "field", "gate_on", "held", "rows_held", "examples"],
        "properties": {
            "condition": _TEXT, "field": _TEXT, "gate_on": {"enum": ["best", "all"]},
            "held": {"type": "boolean"}, "rows_held": {"type": "integer"},
            "examples": {"type": "array", "items": {
                "type": "object", "required": ["accelerator", "value"],
                "properties": {"accelerator": _TEXT, "option": {**_TEXT, "description": "the row key (results[].option)"},
                               "value": {"type": ["number", "string", "boolean", "null"]}}}},
        },
    },
}


def compare_schema() -> dict[str, object]:
    from inferchip.diff import BASELINE_FIELDS

    result = _object(RESULT_FIELDS)
    result["properties"].update(_object(BASELINE_FIELDS)["properties"])  # with --baseline
    from inferchip.software import SOFTWARE_FIELDS, WEIGHT_FIELDS

    result["properties"].update(_object({**SOFTWARE_FIELDS, **WEIGHT_FIELDS})["properties"])  # --weights etc.
    return _document(
        "compare", "inferchip compare --format json",
        {
            "workload": WORKLOAD_SCHEMA,
            "catalog": {"type": "string", "description": "catalog file(s) used"},
            "assumptions": ASSUMPTIONS_BLOCK,
            "results": {"type": "array", "items": {"$ref": "#/$defs/result"},
                        "description": "one row per way of serving the workload, ranked (feasible first); "
                                       "`option` is the unique row key"},
            "cheapest": {"type": "array", "description": "the cheapest feasible row of each price basis, "
                                                         "cheapest first (from the rows before --top)",
                         "items": {"type": "object",
                                   "required": ["price_basis", "option", "provider", "cost_per_query_usd",
                                                "cost_per_million_tokens_blended_usd", "times_cheapest"],
                                   "properties": {
                                       "price_basis": _TEXT, "option": _TEXT, "provider": {"type": ["string", "null"]},
                                       "cost_per_query_usd": {"type": "number", "description": "[USD]"},
                                       "cost_per_million_tokens_blended_usd": {
                                           "type": ["number", "null"], "description": "[USD per million tokens]"},
                                       "times_cheapest": {
                                           "type": "number",
                                           "description": "cost per query / the cheapest row's cost per query [ratio]"}}}},
            "baseline": {"type": "object", "required": ["accelerator", "cost_per_query_usd", "queries_per_day"],
                         "properties": {"accelerator": _TEXT, "cost_per_query_usd": {"type": "number"},
                                        "queries_per_day": {"type": "number"}},
                         "description": "present with --baseline NAME"},
            "gates": {**GATES_BLOCK, "description": "present with --fail-if"},
            "required_frameworks": {"type": "array", "items": _TEXT, "description": "present with --require-framework"},
            "weights": {"type": "object", "required": ["given", "normalised", "scores"],
                        "properties": {"given": {"type": "object", "additionalProperties": {"type": "number"}},
                                       "normalised": {"type": "object", "additionalProperties": {"type": "number"}},
                                       "scores": {"type": "object", "additionalProperties": _TEXT}},
                        "description": "present with --weights: the weights as given, normalised, and each score's "
                                       "definition"},
        },
        ["workload", "catalog", "assumptions", "results", "cheapest"],
        {"result": result},
        version=COMPARE_SCHEMA_VERSION,
    )


def compare_workloads_schema() -> dict[str, object]:
    """`compare A B ...` (several workloads, inferchip.many): every row names its workload."""
    single = compare_schema()
    result = single["$defs"]["result"]
    result = {**result, "properties": {"workload": {"type": "string", "description": "the workload's name"},
                                       **result["properties"]},
              "required": ["workload", *result["required"]]}
    return _document(
        "compare", "inferchip compare with several workloads --format json",
        {
            "catalog": {"type": "string", "description": "catalog file(s) used"},
            "workloads": {"type": "array", "description": "each workload with the assumptions in force for it and "
                                                          "its cheapest row of each price basis",
                          "items": {"type": "object", "required": ["workload", "assumptions", "cheapest"],
                                    "properties": {"workload": WORKLOAD_SCHEMA, "assumptions": ASSUMPTIONS_BLOCK,
                                                   "cheapest": single["properties"]["cheapest"]}}},
            "results": {"type": "array", "items": {"$ref": "#/$defs/result"},
                        "description": "each workload's rows, ranked as compare ranks one, in the order given"},
        },
        ["catalog", "workloads", "results"],
        {"result": result},
        version=COMPARE_SCHEMA_VERSION,
    )


def explain_schema() -> dict[str, object]:
    step_input = {
        "type": "object", "required": ["name", "value", "unit", "origin", "source"],
        "properties": {
            "name": _TEXT, "value": {"type": ["number", "string", "boolean", "null"]}, "unit": _TEXT,
            "origin": {"enum": ["catalog", "workload", "assumption", "calibration", "benchmark", "step",
                                "constant", "data"]},
            "source": {"type": "string", "description": "catalog file, line, source and date; workload file and "
                                                        "key; assumption origin and source; or the step it came from"},
        },
    }
    step = {
        "type": "object", "required": ["name", "label", "section", "value", "unit", "formula", "description", "inputs"],
        "properties": {
            "name": _TEXT, "label": _TEXT, "section": _TEXT,
            "value": {"type": ["number", "null"]}, "unit": _TEXT,
            "formula": {"type": "string", "description": "in symbols"},
            "description": {"type": "string", "description": "in words"},
            "inputs": {"type": "array", "items": {"$ref": "#/$defs/input"}},
        },
    }
    return _document(
        "explain", "inferchip explain --format json",
        {
            "accelerator": _TEXT, "workload": WORKLOAD_SCHEMA, "catalog": _TEXT,
            "feasible": {"type": "boolean"}, "infeasible_reason": _TEXT, "price_basis": _TEXT,
            "cost_per_query_usd": {"type": ["number", "null"], "description": "equals compare's for this chip"},
            "result": {"$ref": "#/$defs/result"},
            "steps": {"type": "array", "items": {"$ref": "#/$defs/step"}},
        },
        ["accelerator", "workload", "feasible", "infeasible_reason", "cost_per_query_usd", "result", "steps"],
        {"result": _object(RESULT_FIELDS), "step": step, "input": step_input},
    )


def diff_schema() -> dict[str, object]:
    from inferchip.diff import DIFF_FIELDS

    run = {"type": "object", "required": ["file", "workload", "catalog", "inferchip_version", "winner"],
           "properties": {"file": _TEXT, "workload": _TEXT, "catalog": _TEXT, "inferchip_version": _TEXT,
                          "winner": {"type": ["string", "null"]}, "winner_cost_per_query_usd": _NUMBER}}
    change = {"type": "object", "required": ["what", "key", "before", "after"],
              "properties": {"what": {"enum": ["workload", "assumption", "catalog", "inferchip_version"]},
                             "key": _TEXT, "before": {}, "after": {}}}
    return _document(
        "diff", "inferchip diff --format json",
        {
            "before": run, "after": run,
            "winner_changed": {"type": "boolean"},
            "inputs_changed": {"type": "array", "items": change},
            "fail_on": {"type": "array", "description": "present with --fail-on", "items": {
                "type": "object", "required": ["condition", "held", "detail", "increase_percent"],
                "properties": {"condition": _TEXT, "held": {"type": "boolean"}, "detail": _TEXT,
                               "increase_percent": {"type": ["number", "null"],
                                                    "description": "change of the cheapest cost per query [%]"}}}},
            "rows": {"type": "array", "items": {"$ref": "#/$defs/row"}},
        },
        ["before", "after", "winner_changed", "inputs_changed", "rows"],
        {"row": _object(DIFF_FIELDS)},
    )


def assumptions_schema() -> dict[str, object]:
    row = {"type": "object", "required": ["key", "value", "unit", "low", "high", "origin", "source"],
           "properties": {"key": _TEXT, "value": _ASSUMPTION_VALUE, "unit": _TEXT, "low": _NUMBER,
                          "high": _NUMBER, "origin": _TEXT, "source": _TEXT}}
    return _document("assumptions", "inferchip assumptions --format json",
                     {"assumptions": {"type": "array", "items": row}}, ["assumptions"])


_CELL = {"type": ["string", "number", "boolean", "null"]}


def _rows_schema(title: str, required: list[str]) -> dict[str, object]:
    """The generic list documents of `catalog list` and `workloads list`."""
    return {
        "$schema": DRAFT, "title": title, "type": "object", "required": ["schema_version", "rows"],
        "properties": {
            "schema_version": {"const": 1},
            "rows": {"type": "array", "items": {"type": "object", "required": required,
                                                "additionalProperties": _CELL}},
        },
    }


def catalog_list_schema() -> dict[str, object]:
    return _rows_schema("inferchip catalog list --format json", ["name", "vendor", "kind"])


def workloads_list_schema() -> dict[str, object]:
    return _rows_schema("inferchip workloads list --format json", ["name", "kind", "queries_per_day"])


def catalog_show_schema() -> dict[str, object]:
    return {
        "$schema": DRAFT, "title": "inferchip catalog show --format json", "type": "object",
        "required": ["schema_version", "accelerator"],
        "properties": {
            "schema_version": {"const": 1},
            "accelerator": {"type": "object", "required": ["name", "vendor", "kind", "source", "as_of"],
                            "additionalProperties": _CELL,
                            "description": "every catalog column of the row (units: data/README.md)"},
        },
    }


def validate_split_schema() -> dict[str, object]:
    from inferchip.validate_split import json_schema

    return json_schema()


SCHEMAS: dict[str, Callable[[], dict[str, object]]] = {
    "compare": compare_schema,
    "compare workloads": compare_workloads_schema,
    "explain": explain_schema,
    "diff": diff_schema,
    "assumptions": assumptions_schema,
    "catalog list": catalog_list_schema,
    "catalog show": catalog_show_schema,
    "workloads list": workloads_list_schema,
    "validate --split": validate_split_schema,
    **{name: (lambda name=name: _analysis(name)) for name in ("sweep", "sensitivity", "breakeven", "uncertainty",
                                                                   "validate")},
    "plan": lambda: _plan(),
}


def _plan() -> dict[str, object]:
    from inferchip.plan import plan_schema

    return plan_schema()


def _analysis(name: str) -> dict[str, object]:
    from inferchip.analysis_schema import BUILDERS

    return BUILDERS[name]()


def register(command: str, builder: Callable[[], dict[str, object]]) -> None:
    """Add (or replace) the schema builder of a command's JSON output."""
    SCHEMAS[command] = builder


def schema_for(command: str) -> dict[str, object]:
    from inferchip.errors import NotFoundError, did_you_mean

    if command not in SCHEMAS:
        raise NotFoundError(f"no JSON schema for '{command}'.{did_you_mean(command, list(SCHEMAS))}"
                            f" Commands with JSON output: {', '.join(SCHEMAS)}")
    return SCHEMAS[command]()


def all_schemas() -> dict[str, object]:
    return {"schema_version": 1, "schemas": {name: build() for name, build in SCHEMAS.items()}}
