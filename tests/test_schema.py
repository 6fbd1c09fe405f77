"""JSON Schemas: valid draft 2020-12, generated from the glossaries, and every real
output of compare / explain / diff / assumptions validates against its schema."""

import json

import pytest
from jsonschema import Draft202012Validator

from inferchip.diff import BASELINE_FIELDS, DIFF_FIELDS
from inferchip.schema import SCHEMAS, field_type, schema_for
from inferchip.units import RESULT_FIELDS, Field


def _validate(command: str, doc: dict) -> None:
    validator = Draft202012Validator(schema_for(command))
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors[:5]]


@pytest.mark.parametrize("command", sorted(SCHEMAS))
def test_schemas_are_valid_draft_2020_12(command):
    Draft202012Validator.check_schema(schema_for(command))


@pytest.mark.parametrize("name, field, expected", [
    ("feasible", Field("", ""), "boolean"),
    ("price_is_estimate", Field("", ""), "boolean"),
    ("racks", Field("count", ""), "integer"),
    ("cost_per_query_usd", Field("USD", ""), "number"),
    ("accelerator", Field("", ""), "string"),
])
def test_field_types(name, field, expected):
    assert field_type(name, field) == expected


def test_compare_schema_lists_every_result_field():
    schema = schema_for("compare")
    result = schema["$defs"]["result"]
    assert result["required"] == list(RESULT_FIELDS)
    from inferchip.software import SOFTWARE_FIELDS, WEIGHT_FIELDS

    assert set(result["properties"]) == set(RESULT_FIELDS) | set(BASELINE_FIELDS) | set(SOFTWARE_FIELDS) | set(
        WEIGHT_FIELDS)
    assert result["properties"]["cost_per_query_usd"] == {"type": ["number", "null"],
                                                          "description": "annual TCO / annual queries [USD]"}
    assert schema_for("diff")["$defs"]["row"]["required"] == list(DIFF_FIELDS)


def test_compare_outputs_validate(invoke):
    from inferchip.data_files import bundled_workloads

    for name in bundled_workloads():
        result = invoke("compare", name, "--format", "json")
        _validate("compare", json.loads(result.stdout))


def test_compare_with_baseline_and_gates_validates(invoke):
    result = invoke("compare", "--format", "json", "--baseline", "NVIDIA H100 SXM",
                    "--fail-if", "savings_percent < 0", "--gate-on", "all")
    assert result.exit_code == 6
    doc = json.loads(result.stdout)
    _validate("compare", doc)
    doc["results"][0]["cost_per_query_usd"] = "cheap"  # the schema does catch a wrong type
    assert list(Draft202012Validator(schema_for("compare")).iter_errors(doc))


@pytest.mark.parametrize("workload, chip", [("support-chatbot-70b", "NVIDIA H100 SXM"),
                                            ("support-chatbot-70b", "Google TPU v6e"),
                                            ("video-analytics-resnet50", "NVIDIA L4")])
def test_explain_outputs_validate(invoke, workload, chip):
    result = invoke("explain", workload, "--chip", chip, "--format", "json")
    _validate("explain", json.loads(result.stdout))


def test_diff_and_assumptions_outputs_validate(invoke, tmp_path):
    before, after = tmp_path / "b.json", tmp_path / "a.json"
    invoke("compare", "--output", str(before))
    invoke("compare", "--set", "pue=1.5", "--output", str(after))
    _validate("diff", json.loads(invoke("diff", str(before), str(after), "--format", "json").stdout))
    _validate("assumptions", json.loads(invoke("assumptions", "--format", "json").stdout))


def test_cli_schema(invoke):
    every = json.loads(invoke("schema").stdout)
    assert every["schema_version"] == 1 and set(every["schemas"]) == set(SCHEMAS)
    one = json.loads(invoke("schema", "compare").stdout)
    assert one == every["schemas"]["compare"] and one["$schema"].endswith("2020-12/schema")
    unknown = invoke("schema", "comapre")
    assert unknown.exit_code == 3
    assert unknown.stderr.startswith("error: no JSON schema for 'comapre'. Did you mean 'compare'?")


def test_cli_schema_output_file(invoke, tmp_path):
    target = tmp_path / "compare.schema.json"
    assert invoke("schema", "compare", "--output", str(target)).exit_code == 0
    Draft202012Validator.check_schema(json.loads(target.read_text()))


@pytest.mark.parametrize("args, command", [(["catalog", "list"], "catalog list"),
                                           (["catalog", "show", "NVIDIA H100 SXM"], "catalog show"),
                                           (["workloads", "list"], "workloads list")])
def test_list_outputs_validate(invoke, args, command):
    _validate(command, json.loads(invoke(*args, "--format", "json").stdout))
    assert json.loads(invoke("schema", *command.split()).stdout)["title"].startswith(f"inferchip {command} ")
