"""`inferchip validate`: hand-computed predictions, the JSON summary, and the published statistics."""

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from inferchip import validate
from inferchip.assumptions import resolve
from inferchip.calibration import read_calibration

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def doc():
    return validate.bundled_document()


def _frame(**over):
    """One fixed-work validation row on a made-up chip: 100 TOPS int8, 1 TB/s, 80 GB."""
    row = dict(accelerator="Chip", model="m", scenario="Offline", kind="fixed", precision_run="int8",
               kv_precision="fp16", accelerator_count=1.0, throughput_per_accelerator=1.0, chip_found=True,
               catalog_name="Chip", chip_kind="gpu", family="f", memory_gb=80.0, memory_bw_tbps=1.0, sram_mb=np.nan,
               fp16_tflops=np.nan, bf16_tflops=50.0, fp8_tflops=np.nan, fp4_tflops=np.nan, int8_tops=100.0,
               int4_tops=np.nan, tdp_w=500.0, devices_per_server=8.0, server_power_kw=np.nan,
               params_b=np.nan, active_params_b=np.nan, layers=np.nan, kv_elems_per_token_per_layer=np.nan,
               hidden=np.nan, input_tokens=np.nan, output_tokens=np.nan, bound_ttft_ms=math.inf,
               bound_tpot_ms=math.inf, bound_latency_ms=math.inf, gflops_per_query=10.0, weights_mb=25.0,
               activation_mb_per_query=0.0, compute_efficiency=0.5, memory_efficiency=0.8,
               attention_efficiency=0.3, step_overhead_ms=2.0, comm_overhead_ms_per_layer=0.01,
               link_efficiency=0.5)
    row.update(over)
    return pd.DataFrame([row])


def test_fixed_work_prediction_hand_computed():
    values = dict(resolve([]).values)
    out = validate.predict(_frame(), values)
    # Offline: batch = max_batch_size 2048; t = 2048 x 10 GFLOP / (100 TOPS x 0.5) + 2 ms = 409.6 + 2 ms
    expected = 2048 / (409.6 + 2.0) * 1000
    assert out["predicted_per_accelerator"].iloc[0] == pytest.approx(expected)
    assert out["batch_size"].iloc[0] == 2048 and out["chips_per_replica"].iloc[0] == 1
    # a 15 ms latency bound: 2 t(b) <= 15 -> b <= (7.5 - 2) / 0.2 ms = 27.5 -> 27; rate = 27 / (5.4 + 2) ms
    bound = validate.predict(_frame(scenario="Server", bound_latency_ms=15.0), values)
    assert bound["batch_size"].iloc[0] == 27
    assert bound["predicted_per_accelerator"].iloc[0] == pytest.approx(27 / 7.4 * 1000)


def test_a_chip_missing_from_the_catalog_is_reported_not_predicted():
    out = validate.predict(_frame(chip_found=False), dict(resolve([]).values))
    assert math.isnan(out["predicted_per_accelerator"].iloc[0])
    assert out["predicted_note"].iloc[0] == "accelerator not in the catalog"


def test_power_as_compare_charges_it():
    values = dict(resolve([]).values)
    # H200-like: 8 per server at 10.2 kW, 8 measured chips -> 1 server x 10.2 kW x busy_power_fraction
    frame = _frame(accelerator_count=8.0, server_power_kw=10.2)
    assert validate.predicted_power_w(frame, values)[0] == pytest.approx(10_200 * values["busy_power_fraction"])
    # a chip with a measured profile uses its own busy fraction (data/power_profiles.csv: H200 0.609)
    frame = _frame(accelerator_count=8.0, server_power_kw=10.2, catalog_name="NVIDIA H200 SXM")
    assert validate.predicted_power_w(frame, values)[0] == pytest.approx(10_200 * 0.609)
    # no server power: devices x TDP x (1 + host_power_fraction); 12 chips -> 2 servers
    frame = _frame(accelerator_count=12.0)
    expected = 2 * 8 * 500 * (1 + values["host_power_fraction"]) * values["busy_power_fraction"]
    assert validate.predicted_power_w(frame, values)[0] == pytest.approx(expected)


def test_summary_statistics_hand_computed():
    table = pd.DataFrame({"accelerator": list("abcd"), "model": "m", "scenario": "Offline",
                          "kind": ["llm", "llm", "llm", "fixed"],
                          "log_ratio": np.log([1.1, 0.8, 1.5, 2.0])})
    s = validate.summarize(table)
    assert s["llm"]["rows"] == 3
    assert s["llm"]["median_abs_error"] == pytest.approx(0.2)  # |errors| 0.1, 0.2, 0.5
    assert s["llm"]["geomean_ratio"] == pytest.approx((1.1 * 0.8 * 1.5) ** (1 / 3))
    assert s["llm"]["worst_ratio"] == pytest.approx(1.5) and s["llm"]["worst_case"] == "c m Offline"
    assert s["llm"]["within_25_percent"] == 2
    assert s["all"]["worst_ratio"] == pytest.approx(2.0)


def test_every_benchmark_row_is_reported(doc):
    rows = doc["rows"]
    assert len(rows) == len(pd.read_csv(ROOT / "data" / "benchmarks.csv"))
    predicted = [r for r in rows if r["predicted_per_accelerator"] is not None]
    assert len(predicted) >= len(rows) - 1
    for row in rows:
        if row["predicted_per_accelerator"] is None:
            assert row["note"], "an unpredicted row says why"
        else:
            # abs: an error near 0 (a row predicted almost exactly) is rounded like any number in the document
            assert row["error"] == pytest.approx(row["predicted_per_accelerator"] / row["measured_per_accelerator"] - 1,
                                                 abs=1e-9)


@pytest.mark.xfail(strict=True, reason="with the MLPerf v5.1 rows the model misses three targets: worst ratio "
                   "(DeepSeek-R1 Server ~3.3x), LLM median (~16 %) and fixed-work median (~33 %); the issue-10 model "
                   "work must restore them, and then this marker goes (strict: it fails once they hold)")
def test_published_targets_hold(doc):
    targets = doc["summary"]["targets"]
    assert targets and all(t["met"] for t in targets.values()), targets
    assert doc["summary"]["throughput"]["all"]["worst_ratio"] <= 2.0


def test_committed_calibration_reproduces_the_published_statistics(doc):
    """The statistics stored with data/calibration.csv (scope = fit) are what the committed
    factors give today: if the model, catalog or benchmarks changed, refit and republish
    (`inferchip calibrate -o data/calibration.csv && make validate-table`)."""
    published = validate.fit_statistics(read_calibration())
    for name in ("llm", "fixed", "all"):
        assert doc["summary"]["throughput"][name]["median_abs_error"] == pytest.approx(
            published[name]["median_abs_error"], abs=5e-4), name


def test_docs_show_the_current_table(doc):
    from inferchip.report.validate_view import render_markdown

    readme = (ROOT / "docs" / "accuracy.md").read_text(encoding="utf-8")
    from inferchip.validate_split import accuracy_summaries, bundled_none_table

    block = readme.split("<!-- accuracy-table -->\n", 1)[1].split("<!-- /accuracy-table -->", 1)[0]
    assert block == render_markdown(doc, accuracy_summaries(bundled_none_table())), "run `make validate-table`"


def test_readme_shows_the_current_accuracy_summary():
    from inferchip.report.validate_view import render_readme_summary
    from inferchip.validate_split import accuracy_summaries, bundled_none_table

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("<!-- accuracy-summary -->\n", 1)[1].split("<!-- /accuracy-summary -->", 1)[0]
    expected = render_readme_summary(accuracy_summaries(bundled_none_table()))
    assert "time split" in expected and "| llm |" in expected
    assert block == expected, "run `make validate-table`"


def test_validate_json_through_the_cli(invoke):
    result = invoke("validate", "--format", "json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["schema_version"] == 1 and doc["command"] == "validate"
    summary = doc["summary"]
    assert set(summary["throughput"]) == {"llm", "fixed", "all"}
    assert summary["throughput"]["llm"]["rows"] > 40
    # a sane range only: the targets are test_published_targets_hold's (xfail with the v5.1 rows)
    assert 0 < summary["throughput"]["llm"]["median_abs_error"] < 0.25
    assert summary["power"]["rows"] >= 1
    assert "NaN" not in result.stdout


def test_validate_csv_and_markdown(invoke):
    csv_out = invoke("validate", "--format", "csv")
    assert csv_out.exit_code == 0 and csv_out.stdout.startswith("accelerator,model,kind,scenario")
    md = invoke("validate", "--format", "markdown")
    assert "#### Error statistics" in md.stdout


def test_validate_bad_inputs_are_one_line_errors(invoke, tmp_path):
    missing = invoke("validate", "--benchmarks", str(tmp_path / "nope.csv"))
    assert missing.exit_code == 3 and "nope.csv: benchmarks file not found" in missing.stderr
    bad_set = invoke("validate", "--set", "queries_per_day=5")
    assert bad_set.exit_code == 2 and "not an assumption key" in bad_set.stderr
    assert "Traceback" not in missing.stderr + bad_set.stderr


def test_help_has_examples(invoke):
    for command in ("validate", "calibrate"):
        result = invoke(command, "--help")
        assert result.exit_code == 0 and "Example" in result.stdout
