"""Policy gates: the FIELD OP VALUE grammar, vectorized evaluation, and
`compare --fail-if / --gate-on` through the CLI."""

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inferchip.errors import EXIT_CODES, GateError, UsageError
from inferchip.gates import Condition, evaluate_gates, failure_message, holds, parse, tokenize
from inferchip.schema import field_types
from inferchip.units import RESULT_FIELDS

TYPES = field_types(RESULT_FIELDS)

# A chip with no price: always listed, never feasible (so `feasible == false` holds for --gate-on all).
UNPRICED = (
    "name,vendor,kind,memory_gb,memory_bw_tbps,tdp_w,devices_per_server,server_power_kw,server_rack_units,"
    "fp8_tflops,source,as_of\n"
    "Gate Test Unpriced,TestVendor,gpu,80,3.0,700,8,10,8,1000,test fixture (not a real product),2026-01\n"
)


@pytest.mark.parametrize("text, field, op, value", [
    ("cost_per_query_usd > 0.002", "cost_per_query_usd", ">", 0.002),
    ("cost_per_query_usd>2e-3", "cost_per_query_usd", ">", 0.002),
    ("  accelerators >= 1_000 ", "accelerators", ">=", 1000.0),
    ("ttft_ms <= .5", "ttft_ms", "<=", 0.5),
    ("kw_per_rack < -5", "kw_per_rack", "<", -5.0),
    ("meets_slo == false", "meets_slo", "==", False),
    ("feasible != TRUE", "feasible", "!=", True),
    ("accelerator == \"NVIDIA H100 SXM\"", "accelerator", "==", "NVIDIA H100 SXM"),
    ("vendor != 'AMD'", "vendor", "!=", "AMD"),
    ("price_is_estimate == true", "price_is_estimate", "==", True),
])
def test_parse(text, field, op, value):
    condition = parse(text, TYPES)
    assert (condition.field, condition.op, condition.value, condition.text) == (field, op, value, text)
    assert type(condition.value) is type(value)


@pytest.mark.parametrize("text, message", [
    ("", "expected FIELD OP VALUE"),
    ("cost_per_query_usd >", "expected FIELD OP VALUE"),
    ("cost_per_query_usd => 1", "unexpected '=' at column 20"),
    ("cost_per_query_usd >> 1", "expected FIELD OP VALUE with OP one of == != < <= > >="),
    ("cost_per_query_usd = 1", "unexpected '=' at column 20"),
    ("cost_per_query_usd > 1 and meets_slo == false", "expected FIELD OP VALUE"),
    ("0.1 < cost_per_query_usd", "expected FIELD OP VALUE"),
    ("cost_per_query_usd > cheap", "'cheap' is not a value"),
    ("accelerator == 'H100", "unterminated quoted text"),
    ("cost_per_querry_usd > 1", "unknown field 'cost_per_querry_usd'. Did you mean 'cost_per_query_usd'?"),
    ("meets_slo > 1", "'meets_slo' is a boolean field; compare it with true or false"),
    ("cost_per_query_usd == true", "'cost_per_query_usd' is a number field; compare it with a number"),
    ("accelerator == 3", "'accelerator' is a string field; compare it with quoted text"),
    ("accelerator < 'B'", "'accelerator' is a string field; use == or != with it"),
    ("feasible >= true", "'feasible' is a boolean field; use == or != with it"),
    ("__import__('os') == 1", "expected FIELD OP VALUE"),
])
def test_parse_errors_name_the_condition_and_the_fix(text, message):
    with pytest.raises(UsageError) as info:
        parse(text, TYPES)
    assert info.value.message.startswith(f"--fail-if {text!r}: ")
    assert message in info.value.message
    assert info.value.exit_code == 2


def test_tokenize_columns():
    assert tokenize("a>=1") == [("name", "a", 1), ("op", ">=", 2), ("number", "1", 4)]


FRAME = pd.DataFrame({
    "accelerator": ["A", "B", "C", "D"],
    "cost_per_query_usd": [0.001, 0.003, np.nan, 0.002],
    "meets_slo": [True, False, False, True],
    "vendor": ["X", "Y", "X", "Z"],
})


@pytest.mark.parametrize("text, expected", [
    ("cost_per_query_usd > 0.002", [False, True, False, False]),
    ("cost_per_query_usd >= 0.002", [False, True, False, True]),
    ("cost_per_query_usd < 0.002", [True, False, False, False]),
    ("cost_per_query_usd <= 0.002", [True, False, False, True]),
    ("cost_per_query_usd == 0.002", [False, False, False, True]),
    ("cost_per_query_usd != 0.002", [True, True, False, False]),  # null never matches, even !=
    ("meets_slo == false", [False, True, True, False]),
    ("meets_slo != false", [True, False, False, True]),
    ("vendor == 'X'", [True, False, True, False]),
    ("vendor != 'X'", [False, True, False, True]),
])
def test_holds_by_hand(text, expected):
    assert holds(parse(text, TYPES), FRAME).tolist() == expected


@settings(max_examples=60, deadline=None)
@given(values=st.lists(st.one_of(st.floats(-1e6, 1e6), st.just(float("nan"))), min_size=1, max_size=30),
       threshold=st.floats(-1e6, 1e6))
def test_complementary_operators_partition_known_values(values, threshold):
    frame = pd.DataFrame({"cost_per_query_usd": values})
    known = ~np.isnan(np.array(values))
    for op, negation in (("<", ">="), (">", "<="), ("==", "!=")):
        a = holds(Condition("cost_per_query_usd", op, threshold, ""), frame)
        b = holds(Condition("cost_per_query_usd", negation, threshold, ""), frame)
        assert (a ^ b).tolist() == known.tolist()  # exactly one holds for a number, neither for null


def test_evaluate_gates_best_and_all():
    conditions = [parse("meets_slo == false", TYPES), parse("cost_per_query_usd > 0.0025", TYPES)]
    best = evaluate_gates(conditions, FRAME, "best")
    assert [g["held"] for g in best] == [False, False]
    every = evaluate_gates(conditions, FRAME, "all")
    assert [g["held"] for g in every] == [True, True]
    assert every[0]["rows_held"] == 2
    assert every[0]["examples"] == [{"accelerator": "B", "option": "B", "value": False},
                                    {"accelerator": "C", "option": "C", "value": False}]
    assert every[1]["examples"] == [{"accelerator": "B", "option": "B", "value": 0.003}]
    message = failure_message(every)
    assert message.splitlines() == [
        "policy gate --fail-if 'meets_slo == false' held (--gate-on all) for B (meets_slo = false), "
        "C (meets_slo = false)",
        "policy gate --fail-if 'cost_per_query_usd > 0.0025' held (--gate-on all) for B (cost_per_query_usd = 0.003)",
    ]
    assert failure_message(best) == ""


def test_failure_message_counts_rows_beyond_the_examples():
    frame = pd.DataFrame({"accelerator": list("ABCDEFG"), "cost_per_query_usd": np.arange(7.0)})
    outcome = evaluate_gates([parse("cost_per_query_usd >= 0", TYPES)], frame, "all", shown=3)
    assert failure_message(outcome).endswith("for A (cost_per_query_usd = 0), B (cost_per_query_usd = 1), "
                                             "C (cost_per_query_usd = 2) and 4 more")


def test_gate_exit_code_is_documented():
    assert GateError.exit_code == 6 and "fail-if" in EXIT_CODES[6]


# --- through the CLI -----------------------------------------------------------------

def test_cli_gate_holds_exit_6_output_still_written(invoke):
    result = invoke("compare", "--format", "json", "--fail-if", "cost_per_query_usd > 0")
    assert result.exit_code == 6
    doc = json.loads(result.stdout)
    best = doc["results"][0]
    assert doc["gates"] == [{"condition": "cost_per_query_usd > 0", "field": "cost_per_query_usd", "gate_on": "best",
                             "held": True, "rows_held": 1,
                             "examples": [{"accelerator": best["accelerator"], "option": best["option"], "value": best["cost_per_query_usd"]}]}]
    assert result.stderr.startswith(f"error: policy gate --fail-if 'cost_per_query_usd > 0' held (--gate-on best) "
                                    f"for {best['accelerator']} (cost_per_query_usd = ")


def test_cli_gate_passes_exit_0(invoke):
    result = invoke("compare", "--format", "json", "--fail-if", "cost_per_query_usd < 0",
                    "--fail-if", "meets_slo == false")
    assert result.exit_code == 0, result.stderr
    gates = json.loads(result.stdout)["gates"]
    assert [g["held"] for g in gates] == [False, False]
    assert result.stderr == ""


def test_cli_gate_on_all_sees_every_row(invoke, tmp_path):
    extra = tmp_path / "extra.csv"
    extra.write_text(UNPRICED)
    args = ["compare", "--extend-catalog", str(extra), "--format", "json", "--fail-if", "feasible == false"]
    assert invoke(*args).exit_code == 0  # the best row is feasible
    result = invoke(*args, "--gate-on", "all")
    assert result.exit_code == 6
    held = json.loads(result.stdout)["gates"][0]
    assert held["held"] and held["rows_held"] >= 1
    assert "Gate Test Unpriced" in result.stderr or held["rows_held"] > 5


def test_cli_gate_on_text_field(invoke):
    best = json.loads(invoke("compare", "--format", "json").stdout)["results"][0]["accelerator"]
    result = invoke("compare", "--format", "json", "--fail-if", f"accelerator == '{best}'")
    assert result.exit_code == 6
    assert invoke("compare", "--format", "json", "--fail-if", f"accelerator != '{best}'").exit_code == 0


def test_cli_bad_condition_fails_before_any_output(invoke, tmp_path):
    target = tmp_path / "out.json"
    result = invoke("compare", "--fail-if", "cost_per_query_usd = 1", "--output", str(target))
    assert result.exit_code == 2
    assert "unexpected '=' at column 20" in result.stderr
    assert not target.exists() and result.stdout == ""


def test_cli_gate_on_baseline_savings(invoke):
    base = json.loads(invoke("compare", "--format", "json").stdout)["results"][1]["accelerator"]
    args = ["compare", "--format", "json", "--baseline", base]
    assert invoke(*args, "--fail-if", "savings_percent <= 0").exit_code == 0  # the best row is cheaper
    assert invoke(*args, "--fail-if", "savings_percent > 0").exit_code == 6
    without = invoke("compare", "--fail-if", "savings_percent > 0")
    assert without.exit_code == 2 and "unknown field 'savings_percent'" in without.stderr


def test_cli_gate_with_output_file(invoke, tmp_path):
    target = tmp_path / "r.json"
    result = invoke("compare", "--output", str(target), "--fail-if", "cost_per_query_usd > 0")
    assert result.exit_code == 6
    assert json.loads(target.read_text())["gates"][0]["held"] is True
