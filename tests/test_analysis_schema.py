"""JSON Schemas of sweep, sensitivity, breakeven and uncertainty (inferchip.analysis_schema):
every real output validates, and a wrong type does not."""

from __future__ import annotations

import copy
import json

import pytest
from jsonschema import Draft202012Validator

from inferchip.schema import SCHEMAS, schema_for


def _errors(command: str, doc: dict) -> list[str]:
    validator = Draft202012Validator(schema_for(command))
    return [f"{list(e.path)}: {e.message}" for e in validator.iter_errors(doc)]


RUNS = [
    ("sweep", ["--vary", "pue=1.1,1.4", "--vary", "queries_per_day=1e5,1e6"]),
    ("sweep", ["--vary", "pue=1.1,1.4", "--winners"]),
    ("sweep", ["fraud-scoring-bert", "--vary", "latency_ms=5,10", "--fields", "all"]),
    ("sensitivity", ["--top", "3"]),
    ("sensitivity", ["video-analytics-resnet50", "--top", "2"]),
    ("breakeven", ["--top", "4"]),
    ("breakeven", ["fraud-scoring-bert", "--top", "2"]),
    ("uncertainty", ["--samples", "200", "--top", "3"]),
    ("validate", []),
]


@pytest.mark.parametrize("command, args", RUNS, ids=[f"{c} {' '.join(a)}" for c, a in RUNS])
def test_analysis_outputs_validate(invoke, command, args):
    result = invoke(command, *args, "--format", "json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc.get("results", doc.get("rows")) and not _errors(command, doc)


def test_every_json_command_has_a_schema():
    assert {"sweep", "sensitivity", "breakeven", "uncertainty", "validate"} <= set(SCHEMAS)


@pytest.mark.parametrize("command, args, path, bad", [
    ("uncertainty", ["--samples", "50"], ("results", 0, "p50_cost_per_query_usd"), "cheap"),
    ("sensitivity", [], ("tornado", 0, "winner_changes"), "no"),
    ("breakeven", [], ("results", 0, "feasible"), 1),
    ("sweep", ["--vary", "pue=1.1,1.4"], ("results", 0, "grid_point"), 0.5),
])
def test_a_wrong_type_is_caught(invoke, command, args, path, bad):
    doc = json.loads(invoke(command, *args, "--format", "json").stdout)
    broken = copy.deepcopy(doc)
    target = broken
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = bad
    assert _errors(command, broken)


def test_diff_fail_on_output_validates(invoke, tmp_path):
    before, after = tmp_path / "b.json", tmp_path / "a.json"
    invoke("compare", "--output", str(before))
    invoke("compare", "--set", "pue=1.5", "--output", str(after))
    result = invoke("diff", str(before), str(after), "--fail-on", "cost-increase=50", "--fail-on", "winner-change",
                    "--format", "json")
    doc = json.loads(result.stdout)
    assert len(doc["fail_on"]) == 2 and not _errors("diff", doc)
